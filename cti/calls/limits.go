package calls

import "slices"

// Limits bound what the tracker holds, whatever the PBX sends: a PBX (or a
// dialplan, or whoever speaks for the PBX) that creates channels and never
// hangs them up must not grow the server's memory without end.
type Limits struct {
	// Channels bounds the live channel objects. A Newchannel (or another
	// event that would create a channel) beyond it is refused: the calls
	// already followed stay correct, and the periodic reconciliation with
	// the PBX's list of channels (Retain) removes the channels it no
	// longer has, which makes room again.
	Channels int
	// ChannelsPerInterface bounds the live channels of one interface, so
	// that one leaking phone or trunk cannot take every place. A trunk
	// carries all the callers of its calls, so it is large. Beyond it, a
	// new channel of that interface is refused.
	ChannelsPerInterface int
	// CallsPerInterface bounds the live legs a seat was told of (Ring or
	// Link) on one interface: a phone has a few lines, never tens, so more
	// means Hangups were lost. The oldest leg still ringing (else the
	// oldest) is ended, and its seat told Hangup, to make room for the
	// new one. It also bounds the Hangups a resync sends one seat.
	CallsPerInterface int
	// Gone is how many uniqueids of channels hung up (or whose Hangup
	// came before anything else of them) are remembered, so that a late
	// Newchannel, OriginateResponse or CoreShowChannel for one of them
	// does not bring back a ghost call.
	Gone int
}

// DefaultLimits are the limits of a new Tracker, sized for a large call
// centre: 10,000 seats, each with a few calls, and their callers.
var DefaultLimits = Limits{
	Channels:             100_000,
	ChannelsPerInterface: 50_000,
	CallsPerInterface:    32,
	Gone:                 4096,
}

// SetLimits changes the tracker's limits. Values below 1 keep the
// default's. Channels already held beyond a smaller limit stay until they
// hang up. It forgets the uniqueids remembered as gone when Gone changes.
func (t *Tracker) SetLimits(l Limits) {
	def := DefaultLimits
	if l.Channels < 1 {
		l.Channels = def.Channels
	}
	if l.ChannelsPerInterface < 1 {
		l.ChannelsPerInterface = def.ChannelsPerInterface
	}
	if l.CallsPerInterface < 1 {
		l.CallsPerInterface = def.CallsPerInterface
	}
	if l.Gone < 1 {
		l.Gone = def.Gone
	}
	if l.Gone != len(t.gone) {
		t.gone = make([]string, l.Gone)
		t.goneAt = 0
		clear(t.goneSet)
	}
	t.lim = l
}

// Limits returns the tracker's limits.
func (t *Tracker) Limits() Limits { return t.lim }

// admit reports whether a new channel of interface iface may be created,
// and counts a refusal.
func (t *Tracker) admit(iface string) bool {
	if len(t.byUID) >= t.lim.Channels || t.perIface[iface] >= t.lim.ChannelsPerInterface {
		t.stats.Refused++
		return false
	}
	return true
}

// countIface follows the number of live channels per interface: d is +1
// when c takes its interface, -1 when it leaves it.
func (t *Tracker) countIface(c *channel, d int) {
	n := t.perIface[c.iface] + d
	if n <= 0 {
		delete(t.perIface, c.iface)
		return
	}
	t.perIface[c.iface] = n
}

// notified records that leg's seat is told of it for the first time (its
// Ring, or the Link of a rebuilt call), making room first when its
// interface already has CallsPerInterface legs told of.
func (t *Tracker) notified(leg *channel) {
	legs := t.toldOn[leg.iface]
	if len(legs) >= t.lim.CallsPerInterface {
		// A leg still ringing rather than one in talk: a real call on the
		// phone is more likely the one answered.
		i := slices.IndexFunc(legs, func(c *channel) bool { return !c.linked })
		if i < 0 {
			i = 0
		}
		old := legs[i]
		t.stats.Evicted++
		t.hangup(old) // takes it out of t.toldOn
		legs = t.toldOn[leg.iface]
	}
	t.toldOn[leg.iface] = append(legs, leg)
}

// untold takes c, which is going away, out of the legs told of on its
// interface.
func (t *Tracker) untold(c *channel) {
	legs := t.toldOn[c.iface]
	i := slices.Index(legs, c)
	if i < 0 {
		return
	}
	legs = slices.Delete(legs, i, i+1)
	if len(legs) == 0 {
		delete(t.toldOn, c.iface)
		return
	}
	t.toldOn[c.iface] = legs
}

// markGone remembers uid as hung up. uid must not alias a frame.
func (t *Tracker) markGone(uid string) {
	if _, ok := t.goneSet[uid]; ok {
		return
	}
	slot := t.goneAt % len(t.gone)
	if old := t.gone[slot]; old != "" {
		delete(t.goneSet, old)
	}
	t.gone[slot] = uid
	t.goneSet[uid] = struct{}{}
	t.goneAt++
}

// ForgetHungUp forgets the uniqueids remembered as hung up. Call it when a
// new link to the PBX comes up: a PBX that restarted while the link was
// down, without the server noticing, may give out the same uniqueids
// again (Asterisk does when it restarts within the second it started,
// the fake PBX always), and a Newchannel for one must not be ignored.
// Within one link, uniqueids are never reused.
func (t *Tracker) ForgetHungUp() {
	clear(t.gone)
	clear(t.goneSet)
	t.goneAt = 0
}

// isGone reports whether uid is that of a channel recently hung up.
func (t *Tracker) isGone(uid string) bool {
	_, ok := t.goneSet[uid]
	return ok
}

// Coalesce returns changes without the calls that begin and end within
// them: a Hangup for a leg whose Ring or Link is in changes too is dropped
// with that Ring or Link, since its seat needs to know the calls that are
// live, not each one that ended meanwhile. The others keep their order.
// The server coalesces what one resync tells the seats, so that a seat
// hears a Hangup only for a call it was told of before, and a Link or Ring
// for each live one: no more lines than twice Limits.CallsPerInterface.
func Coalesce(changes []Change) []Change {
	type leg struct{ iface, channel, uid string }
	var told map[leg]bool
	for _, ch := range changes {
		if ch.Kind != Hangup {
			if told == nil {
				told = make(map[leg]bool)
			}
			told[leg{ch.Interface, ch.Call.Channel, ch.Call.Uniqueid}] = true
		}
	}
	if told == nil {
		return changes
	}
	ended := make(map[leg]bool)
	for _, ch := range changes {
		if k := (leg{ch.Interface, ch.Call.Channel, ch.Call.Uniqueid}); ch.Kind == Hangup && told[k] {
			ended[k] = true
		}
	}
	if len(ended) == 0 {
		return changes
	}
	out := changes[:0:0]
	for _, ch := range changes {
		if !ended[leg{ch.Interface, ch.Call.Channel, ch.Call.Uniqueid}] {
			out = append(out, ch)
		}
	}
	return out
}
