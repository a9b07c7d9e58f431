package calls

import "github.com/astcti/astcti/cti/ami"

// A channel list (Resync) is the PBX's state at the moment it was read,
// but it reaches the tracker after events that came later than that
// moment: the list's answer and the events come to the server by two
// ways, a real Asterisk writes events between the list's items, and 1.4's
// list takes two actions (Status, then QueueStatus). Those events found
// the tracker without what the list brings — a member answering a caller
// whose Newchannel, or whose entry into its service, was lost with the
// link — and did nothing; applied after them, the list would then undo
// what they did tell (a phone ringing that has answered). So from Mark to
// Resync the tracker keeps every event it reads, and Resync plays them
// again, in their order, after the list. An event played twice does what
// it did once: every Ring and Link is told once, a channel hung up stays
// gone, a state set again is the same state.

// maxEarly bounds the events kept while a list is on its way: a few
// seconds of a busy PBX's events.
const maxEarly = 16384

// earlyFrame is an event kept for Resync, with its kind.
type earlyFrame struct {
	ev event
	f  *ami.Frame
}

// keepEarly keeps f when a list is on its way.
func (t *Tracker) keepEarly(ev event, f *ami.Frame) {
	switch {
	case !t.listing:
	case ev == evShutdown:
		t.early = t.early[:0] // the channels they were about are gone
	case len(t.early) >= maxEarly:
		t.stats.Unreplayed++
	default:
		t.early = append(t.early, earlyFrame{ev: ev, f: f.Clone()})
	}
}

// ListFailed tells the tracker that the list asked for at the last Mark
// will not come (the action failed, the link dropped): it stops keeping
// events for it.
func (t *Tracker) ListFailed() { t.listing, t.early = false, nil }

// replayEarly plays the kept events again, after the list, and stops
// keeping them. What they count was counted the first time, a channel
// refused at the tracker's bound included; only a leg ended to keep a
// phone's bound (Evicted) is new: the list may have brought its calls.
func (t *Tracker) replayEarly() {
	early := t.early
	t.listing, t.early = false, nil
	stats := t.stats
	for _, e := range early {
		t.fs.scan(e.f)
		t.dispatch(e.ev, e.f)
	}
	stats.Evicted = t.stats.Evicted
	t.stats = stats
}
