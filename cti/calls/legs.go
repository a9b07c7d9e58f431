package calls

import (
	"slices"

	"github.com/astcti/astcti/cti/ami"
)

// join handles a caller joining a queue: Join (1.4–11) or QueueCallerJoin
// (12+). A queue service is decided by its queue alone.
func (t *Tracker) join(fs *fields) {
	c := t.channelOf(fs)
	if c == nil {
		return
	}
	t.setCallerID(c, fs.callerNum(), fs.get(kCallerIDName))
	if t.cat == nil {
		return
	}
	svc, ok := t.cat.ServiceByQueue(fs.get(kQueue))
	if !ok {
		return
	}
	ctx, ex := c.context, c.exten
	if fs.present(kContext) { // 12+ carries the caller's channel block
		ctx, ex = fs.get(kContext), fs.exten()
	}
	t.enterService(c, svc, ctx, ex)
}

// enterService makes c the service leg of a call of svc. A leg that enters a
// second service (a non-queue service that queues the call) takes the second
// one and keeps the values of the variables both declare.
func (t *Tracker) enterService(c *channel, svc Service, context, exten string) {
	old := c.call
	if old != nil && old.svc.Name == svc.Name && old.svc.Queue == svc.Queue {
		return
	}
	cl := &call{
		svc:     svc,
		context: clone(context),
		exten:   clone(exten),
		vals:    make([]string, len(svc.Variables)),
		set:     make([]bool, len(svc.Variables)),
	}
	if old != nil {
		for i, n := range old.svc.Variables {
			if old.set[i] {
				cl.setVar(n, old.vals[i])
			}
		}
	}
	for _, v := range c.pending {
		cl.setVar(v.Name, v.Value)
	}
	c.pending = nil
	c.call = cl
}

// dial handles 1.4's Dial (Source, Destination, SrcUniqueID, DestUniqueID)
// and 1.6–11's Dial with SubEvent Begin (Channel, Destination, UniqueID,
// DestUniqueID).
func (t *Tracker) dial(fs *fields) {
	var src *channel
	if fs.present(kSubEvent) {
		if !ami.EqualFold(fs.get(kSubEvent), "Begin") {
			return
		}
		src = t.channelOf(fs)
		if src != nil {
			t.setCallerID(src, fs.get(kCallerIDNum), fs.get(kCallerIDName))
		}
	} else {
		src = t.byID(fs.get(kSrcUniqueID))
		if src != nil {
			t.setCallerID(src, fs.get(kCallerID), fs.get(kCallerIDName))
		}
	}
	t.attach(src, t.byID(fs.get(kDestUniqueID)))
}

// agentCalled handles a queue ringing a member. 12+: Uniqueid (the caller)
// and DestUniqueid; 1.6–11: Uniqueid and DestinationChannel; 1.4: only
// ChannelCalling (the caller's name) and AgentCalled (the member interface),
// the member leg being one of the channels created just before.
func (t *Tracker) agentCalled(fs *fields) {
	var src, dst *channel
	switch {
	case fs.present(kDestUniqueID):
		src, dst = t.channelOf(fs), t.byID(fs.get(kDestUniqueID))
	case fs.present(kDestinationChannel):
		src = t.channelOf(fs)
		dst = t.byName[fs.get(kDestinationChannel)]
	default:
		if src = t.byName[fs.get(kChannelCalling)]; src == nil {
			t.stats.Unknown++
			return
		}
		iface := NormalizeInterface(fs.get(kAgentCalled))
		for i := 1; i <= len(t.recent) && i <= t.recentAt; i++ {
			c := t.recent[(t.recentAt-i)%len(t.recent)]
			if c != nil && !c.dead && c.by == nil && c.half != 2 && c != src && c.iface == iface {
				dst = c
				break
			}
		}
	}
	if src != nil && fs.present(kCallerID) {
		t.setCallerID(src, fs.get(kCallerID), fs.get(kCallerIDName))
	}
	t.attach(src, dst)
}

// attach records that src dialled dst, the leg that rings a phone.
func (t *Tracker) attach(src, dst *channel) {
	if src == nil || dst == nil || src == dst {
		return
	}
	if dst.by == nil && dst.call == nil {
		dst.by = src
	}
	if dst.by != nil {
		t.dialled(dst)
	}
}

// serviceLeg returns the service leg c belongs to: c itself if it entered a
// service, else the service leg that dialled it, directly or through the
// other half of a Local channel (the phone half of a Local seat dialling a
// real phone, an operator's consultation call). It returns nil when there
// is none.
func serviceLeg(c *channel) *channel {
	for i := 0; c != nil && i < maxHops; i++ {
		switch {
		case c.call != nil:
			return c
		case c.owner != nil:
			return c.owner
		case c.by != nil:
			c = c.by
		case c.peer != nil && (c.peer.call != nil || c.peer.by != nil || c.peer.owner != nil):
			c = c.peer
		default:
			return nil
		}
	}
	return nil
}

// ownerOf returns the service leg that the dialled leg c rings for, or nil.
func ownerOf(c *channel) *channel {
	if c.owner != nil {
		return c.owner
	}
	if c.by == nil {
		return nil
	}
	if o := serviceLeg(c.by); o != nil && o.call != nil {
		return o
	}
	return nil
}

// dialled records that dst was dialled for a call and waits for its Ring.
//
// A dialled leg's Ring waits until the leg is offered the call: it rings
// or answers (either half of a Local channel), or it is bridged. A leg
// that turns out busy is never told of (l_busy), nor one cancelled before
// it rang. Rings go out in the order the legs were dialled, as the design's
// Dial rule has it, although phones report ringing in any order
// (20.20.1-sip a_nonqueue_answered: 202 rings before 201): when a leg is
// offered, the legs of the same call dialled before it and still waiting
// are told first. A leg waits in its caller's ringq from its dial until it
// is offered, fails or hangs up.
func (t *Tracker) dialled(dst *channel) {
	if dst.rang || dst.failed || dst.dead || dst.waitq != nil {
		return
	}
	if offered(dst) {
		t.offer(dst)
		return
	}
	if o := ownerOf(dst); o != nil {
		dst.waitq = o
		o.ringq = append(o.ringq, dst)
	}
}

// offered reports whether a dialled leg or the phone half of its Local
// channel rings or answered.
func offered(c *channel) bool {
	if ringingOrUp(c.state) {
		return true
	}
	return c.half == 1 && c.peer != nil && ringingOrUp(c.peer.state)
}

func ringingOrUp(s string) bool { return s == stateRinging || s == stateUp }

// offer tells the seat of the dialled leg c that it rings, after the legs
// of the same call dialled before it.
func (t *Tracker) offer(c *channel) {
	if c.rang || c.dead || c.failed || c.by == nil {
		return
	}
	o := ownerOf(c)
	if o == nil {
		return
	}
	q := o.ringq
	n := len(q) // c does not wait here: every leg waiting was dialled before it
	if c.waitq == o {
		if i := slices.Index(q, c); i >= 0 {
			n = i
		}
	}
	for _, p := range q[:n] {
		p.waitq = nil
		if ownerOf(p) == o {
			t.ring(p, o)
		}
	}
	rest := q[n:]
	if len(rest) > 0 && rest[0] == c {
		rest = rest[1:]
		c.waitq = nil
	}
	o.ringq = append(q[:0], rest...)
	clear(q[len(o.ringq):]) // no stale pointers in the spare capacity
	t.unwait(c)
	t.ring(c, o)
}

func (t *Tracker) ring(c, o *channel) {
	if c.rang || c.dead || c.failed {
		return
	}
	if !t.confirmed(o) {
		t.hold(c, o, heldRing)
		return
	}
	c.owner = o
	t.notified(c)
	c.rang = true
	t.emit(Ring, c)
}

// fail drops a dialled leg that will not ring: busy, congested, or gone.
func (t *Tracker) fail(c *channel) {
	if c.rang {
		return
	}
	c.failed = true
	t.unwait(c)
}

// unwait takes c out of the ringq it waits in.
func (t *Tracker) unwait(c *channel) {
	q := c.waitq
	if q == nil {
		return
	}
	c.waitq = nil
	if i := slices.Index(q.ringq, c); i >= 0 {
		q.ringq = slices.Delete(q.ringq, i, i+1)
	}
}

// stateChanged follows a dialled leg's state, or that of the phone half of
// its Local channel.
func (t *Tracker) stateChanged(c *channel) {
	leg := c
	if leg.by == nil && c.half == 2 && c.peer != nil {
		leg = c.peer
	}
	if leg.by == nil {
		return
	}
	switch c.state {
	case stateRinging, stateUp:
		t.offer(leg)
	case stateBusy:
		t.fail(leg)
	}
}

// pair handles two channels talking: Link (1.4), Bridge (1.6–11), two
// BridgeEnter of one bridge (12+).
func (t *Tracker) pair(a, b *channel) {
	if a == nil || b == nil || a == b {
		return
	}
	t.linkLeg(a, b)
	t.linkLeg(b, a)
}

// linkLeg pops the screen of leg's seat when leg talks to its own call.
//
// A channel that was never dialled for the call but is bridged with its
// service leg all the same answered it: a call pickup, the target of an
// attended transfer, a parked call retrieved. It is adopted as a leg of the
// call and its seat hears Ring and Link.
func (t *Tracker) linkLeg(leg, other *channel) {
	if leg.linked {
		return
	}
	if leg.by == nil && leg.call == nil && other.call != nil && leg.peer != other {
		leg.by = other
	}
	if leg.by == nil {
		return
	}
	o := ownerOf(leg)
	if o == nil || serviceLeg(other) != o {
		return
	}
	if !t.confirmed(o) {
		t.hold(leg, o, heldLink)
		return
	}
	t.tellLink(leg, o, false)
}

// linkFound tells the seat of leg, which a channel list found answering
// o's call, its Link alone: its phone rings no more.
func (t *Tracker) linkFound(leg, o *channel) {
	if leg.linked {
		return
	}
	if !t.confirmed(o) {
		t.hold(leg, o, heldFound)
		return
	}
	t.tellLink(leg, o, true)
}

// tellLink tells the seat of leg, which answered o's call, its Link, and
// unless alone its Ring first when it had none (after those of the legs
// dialled before it).
func (t *Tracker) tellLink(leg, o *channel, alone bool) {
	if leg.linked {
		return
	}
	if !leg.rang {
		leg.failed = false // it answered after all
		if alone {
			t.unwait(leg)
		} else {
			t.offer(leg)
		}
	}
	leg.owner = o
	if !leg.rang {
		t.notified(leg) // told of at its Link alone
	}
	leg.linked = true
	t.emit(Link, leg)
}

func (t *Tracker) bridgeEnter(fs *fields) {
	c := t.channelOf(fs)
	id := fs.get(kBridgeUniqueid)
	if c == nil {
		return
	}
	if id == "" {
		t.stats.Malformed++
		return
	}
	if c.br != nil && c.br.id == id {
		// Already in (Resync playing the event again, early.go): what
		// pairing found nothing to tell then may have it now.
		for _, m := range c.br.members {
			t.pair(c, m)
		}
		return
	}
	t.leaveBridge(c)
	b := t.bridges[id]
	if b == nil {
		b = &bridge{id: clone(id)}
		t.bridges[b.id] = b
	}
	for _, m := range b.members {
		t.pair(c, m)
	}
	b.members = append(b.members, c)
	c.br = b
}

func (t *Tracker) leaveBridge(c *channel) {
	b := c.br
	if b == nil {
		return
	}
	c.br = nil
	if i := slices.Index(b.members, c); i >= 0 {
		b.members = slices.Delete(b.members, i, i+1)
	}
	if len(b.members) == 0 && t.bridges[b.id] == b {
		delete(t.bridges, b.id)
	}
}
