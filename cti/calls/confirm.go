package calls

// A call's data is right when the tracker saw every event of its service
// leg: the Set steps and VarSet events that carry it. Events are lost when
// the AMI link drops or the server falls behind, and a channel learnt from
// a channel list (a resync) or an OriginateResponse was never seen being
// created. Such a leg's data is doubtful: before its seat is told anything
// of the call, the tracker asks the PBX for every variable of the service
// (Getvar) and holds the Ring and Link until the answers are in. The
// tracker counts losses in epochs: LostEvents begins a new one, and a leg
// created by a Newchannel of the current epoch, or whose variables were
// asked for in it, is sure.

// LostEvents tells the tracker that PBX events were lost: the AMI link is
// down, or the server fell behind its events. From then on, the calls that
// began before are doubtful until their variables are asked for again.
func (t *Tracker) LostEvents() { t.epoch++ }

// TakeVarRequests returns the Getvar requests the tracker made since the
// last call, for doubtful calls about to be told of, and forgets them. The
// server sends them and gives each answer to GotVar; the seats of those
// calls are told nothing of them until the last answer. Call it after
// every Apply.
func (t *Tracker) TakeVarRequests() []VarRequest {
	if len(t.asks) == 0 {
		return nil
	}
	reqs := t.asks
	t.asks = nil
	return reqs
}

// confirmed reports whether the data of service leg o can be told. When it
// is doubtful, it asks for every variable of o's service and reports false
// until the answers are in (GotVar).
func (t *Tracker) confirmed(o *channel) bool {
	cl := o.call
	if o.epoch != t.epoch {
		o.epoch = t.epoch
		cl.asked = 0
		for _, v := range cl.svc.Variables {
			t.asks = append(t.asks, VarRequest{Uniqueid: o.uid, Channel: o.name, Variable: bareVarName(v)})
			cl.asked++
		}
	}
	return cl.asked == 0
}

// hold keeps the notification of leg, a leg of o's call, until o's data is
// confirmed: what (heldRing, heldLink, heldFound) says which. A leg held
// twice keeps the later of the two.
func (t *Tracker) hold(leg, o *channel, what int8) {
	leg.owner = o
	if what != heldRing {
		leg.failed = false // it answered after all
	}
	if leg.held == heldNot {
		o.call.held = append(o.call.held, leg)
	}
	leg.held = max(leg.held, what)
}

// Of a leg: the notification that waits for its call's data.
const (
	heldNot   = iota
	heldRing  // its Ring
	heldLink  // its Link, and its Ring before when it has not rung
	heldFound // its Link alone: a channel list found it answered
)

// release tells the held legs of cl what they wait for, in the order they
// were held; the legs that hung up or failed meanwhile are not told.
func (t *Tracker) release(cl *call) {
	held := cl.held
	cl.held = nil
	for _, leg := range held {
		h := leg.held
		leg.held = heldNot
		if leg.dead || leg.owner == nil || leg.owner.call != cl {
			continue
		}
		switch h {
		case heldRing:
			t.ring(leg, leg.owner)
		case heldLink, heldFound:
			t.tellLink(leg, leg.owner, h == heldFound)
		}
	}
}
