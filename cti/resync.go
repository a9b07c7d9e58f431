package cti

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/metrics"
	"github.com/astcti/astcti/cti/seatproto"
)

// resync rebuilds the live state after the AMI link came (back) up, or
// after the hub lost events: the memberships of every logged-in seat are
// added again (a PBX restart loses dynamic members; "Already there" counts
// as confirmed), and the calls the tracker holds are checked against the
// channels the PBX still has. Seats stay connected throughout.
func (h *hub) resync(restarted bool) {
	h.srv.metrics.Resync()
	if restarted {
		h.log.Info("the PBX restarted: every call it had is gone")
		for _, ch := range h.tracker.Reset() {
			h.notify(ch)
		}
	}
	// The list goes first: until it is in, the calls of the outage are
	// unknown, while the memberships are only late.
	h.listChannels(false)
	h.requeueMembers()
}

// listChannels asks the PBX for its live channels, for the resync after a
// reconnect or, periodic, for the reconciliation that ages out the
// channels whose Hangup was lost: one implementation for both.
// CoreShowChannels lists them (Asterisk 1.6+); 1.4 only has Status, which
// lists them too. The answer comes to resyncDone.
func (h *hub) listChannels(periodic bool) {
	h.recon.listing = true
	h.recon.next = time.Now().Add(h.recon.every)
	h.send(ami.NewAction("CoreShowChannels"), pending{kind: pendResync, mark: h.tracker.Mark(), periodic: periodic})
}

// reconcile keeps the tracker in step with the PBX, from the hub's ticker:
// every reconcileEvery, while the link is up and no list is on its way,
// the PBX's channels are listed, and the channels the tracker knew before
// the list was asked for and that the list lacks are ended (their seats
// told Hangup). It is one action every few minutes, never one per event.
// It also counts and logs, aggregated, what the tracker dropped.
func (h *hub) reconcile(now time.Time) {
	h.trackerDrops(now)
	if !h.linkUp || h.recon.listing || now.Before(h.recon.next) {
		return
	}
	h.srv.metrics.Reconcile()
	h.listChannels(true)
}

// reconcile is the hub's state of the periodic reconciliation and of the
// tracker's drop counters.
type reconcile struct {
	every   time.Duration // reconcileEvery, when the hub was made
	listing bool          // a channel list is on its way (a resync's or a reconciliation's)
	next    time.Time     // when the next reconciliation is due
	seen    calls.Stats
	// Drops not logged yet, and when they were last logged.
	refused, evicted, late uint64
	unreplayed             uint64 // events a list's resync could not play again (calls.Stats)
	logged                 time.Time
}

// trackerDrops counts in the metrics what the tracker refused or dropped
// since the last tick, and logs it at most once per trackerLogEvery: a
// PBX that floods the tracker must not flood the log as well.
func (h *hub) trackerDrops(now time.Time) {
	st, r := h.tracker.Stats(), &h.recon
	m := h.srv.metrics
	m.TrackerDropped(metrics.DropRefused, st.Refused-r.seen.Refused)
	m.TrackerDropped(metrics.DropEvicted, st.Evicted-r.seen.Evicted)
	m.TrackerDropped(metrics.DropLate, st.Late-r.seen.Late)
	m.TrackerDropped(metrics.DropAgedOut, st.AgedOut-r.seen.AgedOut)
	r.refused += st.Refused - r.seen.Refused
	r.evicted += st.Evicted - r.seen.Evicted
	r.late += st.Late - r.seen.Late
	r.unreplayed += st.Unreplayed - r.seen.Unreplayed
	r.seen = st
	if r.refused+r.evicted+r.late+r.unreplayed == 0 || now.Sub(r.logged) < trackerLogEvery {
		return
	}
	lim := h.tracker.Limits()
	attrs := []any{
		"refused", r.refused, "evicted", r.evicted, "late", r.late, "unreplayed", r.unreplayed, "channels", st.Channels,
		"max channels", lim.Channels, "max per interface", lim.ChannelsPerInterface, "max calls per interface", lim.CallsPerInterface,
	}
	switch {
	case r.refused+r.evicted > 0:
		h.log.Warn("call tracker: channels refused at its bounds or calls ended to keep a phone's bound (Hangups lost?)", attrs...)
	case r.unreplayed > 0:
		h.log.Warn("call tracker: too many events came while a channel list was on its way; calls answered meanwhile may not pop", attrs...)
	default:
		h.log.Info("call tracker: events for channels already hung up were ignored", attrs...)
	}
	r.refused, r.evicted, r.late, r.unreplayed, r.logged = 0, 0, 0, 0, now
}

// trackerLimits are the tracker's bounds from the tunables. A seat's
// queue must hold what a resync tells it: at most a Hangup for each call
// it was told of and a Link for each live one, so the calls per interface
// stay within a quarter of the queue.
func trackerLimits() calls.Limits {
	return calls.Limits{
		Channels:             trackerChannels,
		ChannelsPerInterface: trackerChannelsPerInterface,
		CallsPerInterface:    max(1, min(trackerCallsPerInterface, seatQueueLines/4)),
		Gone:                 trackerGone,
	}
}

// resyncDone drops the calls whose channels ended while the link was down
// (or, periodic, that the PBX no longer has), and rebuilds those that
// entered a service meanwhile: their data comes with Getvar, and their
// seats get the Link once it is there. Where the channel list does not say
// which application a channel runs (Asterisk 1.4's Status), the queues'
// callers and members are asked first.
func (h *hub) resyncDone(p pending, call *ami.Call) {
	if call.Err != nil {
		if call.Action.Action() == "CoreShowChannels" && !isDisconnect(call.Err) {
			h.send(ami.NewAction("Status"), p)
			return
		}
		h.recon.listing = false
		h.tracker.ListFailed()
		h.log.Warn("resync: cannot list the PBX's channels", "action", call.Action.Action(), "periodic", p.periodic, "err", call.Err)
		return
	}
	if calls.NeedsQueues(call.Items) {
		p.kind, p.channels = pendResyncQueues, call.Items
		h.send(ami.NewAction("QueueStatus"), p)
		return
	}
	h.rebuild(calls.Listing{Channels: call.Items}, p)
}

// resyncQueuesDone completes a resync that waited for QueueStatus. Without
// its answer the calls are rebuilt from their dialplan contexts alone; a
// lost link drops the resync, since the next link makes its own.
func (h *hub) resyncQueuesDone(p pending, call *ami.Call) {
	if call.Err != nil {
		h.log.Warn("resync: cannot list the PBX's queues; calls are told apart by their contexts alone", "err", call.Err)
		if isDisconnect(call.Err) {
			h.recon.listing = false
			h.tracker.ListFailed()
			return
		}
	}
	h.rebuild(calls.Listing{Channels: p.channels, Queues: call.Items}, p)
}

// rebuild ends the channels the list lacks and that the tracker knew when
// the list was asked for (p.mark), then rebuilds the calls it did not
// know. What the seats are told is coalesced (calls.Coalesce): a seat
// hears Hangup only for calls it was told of before, and the live calls,
// never a call that began and ended within the resync.
func (h *hub) rebuild(l calls.Listing, p pending) {
	h.recon.listing = false
	alive := make(map[string]bool, len(l.Channels))
	for _, f := range l.Channels {
		if id := f.Get("Uniqueid"); id != "" {
			alive[id] = true
		}
	}
	changes := h.tracker.Retain(alive, p.mark)
	ended := len(changes)
	reqs, rebuilt := h.tracker.Resync(l)
	changes = calls.Coalesce(append(changes, rebuilt...))
	for _, ch := range changes {
		h.notify(ch)
	}
	h.askVars(reqs)
	msg := "resync: calls checked against the PBX"
	if p.periodic {
		msg = "reconciliation: calls checked against the PBX"
	}
	lvl := slog.LevelInfo
	if p.periodic && ended == 0 && len(reqs) == 0 && len(rebuilt) == 0 {
		lvl = slog.LevelDebug // the usual case: nothing was lost
	}
	h.log.Log(context.Background(), lvl, msg, "channels", len(alive), "ended meanwhile", ended, "variables asked", len(reqs), "tracked", h.tracker.Len())
}

// askVars sends the tracker's Getvar requests: the variables of calls
// whose data is doubtful (events were lost, or the call was learnt from a
// channel list), whose seats hear of them once the answers are in.
func (h *hub) askVars(reqs []calls.VarRequest) {
	for _, r := range reqs {
		h.send(ami.NewAction("Getvar", "Channel", r.Channel, "Variable", r.Variable), pending{kind: pendGetvar, getvar: r})
	}
}

// getvarDone gives the tracker the value of a doubtful call's variable; a
// failed Getvar counts as no value, so that the call's seats still hear of
// it. One lost with the link is not given: the call waits, and the next
// link's resync asks again.
func (h *hub) getvarDone(req calls.VarRequest, call *ami.Call) {
	value := ""
	switch {
	case call.Err == nil && call.Reply != nil:
		value = call.Reply.Get("Value")
	case isDisconnect(call.Err):
		return
	default:
		h.log.Warn("Getvar failed: the call's seats hear of it without this variable", "channel", req.Channel, "variable", req.Variable, "err", call.Err)
	}
	for _, ch := range h.tracker.GotVar(req, value) {
		h.notify(ch)
	}
	h.askVars(h.tracker.TakeVarRequests())
}

func isDisconnect(err error) bool {
	return errors.Is(err, ami.ErrDisconnected) || errors.Is(err, ami.ErrClosed)
}

// applyConfig puts a new configuration in force: the tracker sees the new
// services (live calls keep their data), and config.Diff decides what
// changes for logged-in operators.
func (h *hub) applyConfig(old, cur *config.Snapshot) {
	h.snap, h.obs.snapSince = cur, time.Now()
	h.tracker.SetCatalog(catalog{cur})
	clear(h.badAction)
	for _, ch := range config.Diff(old, cur) {
		h.applyChange(ch)
	}
	h.log.Info("configuration in force", "file", cur.Source, "summary", cur.Summary())
}

func (h *hub) applyChange(ch config.Change) {
	switch c := ch.(type) {
	case config.EndSession:
		if s := h.byOperator[c.Operator]; s != nil {
			h.endSession(s, CloseOperatorDisabled)
		}
	case config.QueueRemove:
		s := h.byOperator[c.Operator]
		if s == nil || s.members[c.Queue] == nil {
			return
		}
		m := s.members[c.Queue]
		delete(s.members, c.Queue)
		if s.iface != "" {
			h.removeMember(s.iface, c.Queue)
		}
		if m.confirmed {
			s.conn.sendStatus(seatproto.LeftQueue(c.Queue))
		}
	case config.QueueAdd:
		s := h.byOperator[c.Operator]
		if s == nil || s.iface == "" {
			return
		}
		s.members[c.Queue] = &membership{service: c.Service, penalty: c.Penalty}
		h.queueAdd(s, c.Queue)
	case config.SeatRemoved:
		h.endSeat(c.Interface)
	case config.SeatChanged:
		// The seat must log in again to take its new phone: its memberships
		// go with the old interface.
		h.endSeat(c.OldInterface)
	case config.ServiceDisabled, config.ServiceEnabled:
		// The catalog decides which calls are notified; nothing live moves.
	}
}

func (h *hub) endSeat(iface string) {
	if s := h.byIface[calls.NormalizeInterface(iface)]; s != nil {
		h.endSession(s, CloseSeatRemoved)
	}
}
