package cti

import (
	"errors"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
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
	h.requeueMembers()
	// CoreShowChannels lists the live channels (Asterisk 1.6+); 1.4 only
	// has Status, which lists them too. The answer comes to resyncDone.
	h.send(ami.NewAction("CoreShowChannels"), pending{kind: pendResync})
}

// resyncDone drops the calls whose channels ended while the link was down,
// and rebuilds those that entered a service meanwhile: their data comes
// with Getvar, and their seats get the Link once it is there. Where the
// channel list does not say which application a channel runs (Asterisk
// 1.4's Status), the queues' callers and members are asked first.
func (h *hub) resyncDone(call *ami.Call) {
	if call.Err != nil {
		if call.Action.Action() == "CoreShowChannels" && !isDisconnect(call.Err) {
			h.send(ami.NewAction("Status"), pending{kind: pendResync})
			return
		}
		h.log.Warn("resync: cannot list the PBX's channels", "action", call.Action.Action(), "err", call.Err)
		return
	}
	if calls.NeedsQueues(call.Items) {
		h.send(ami.NewAction("QueueStatus"), pending{kind: pendResyncQueues, channels: call.Items})
		return
	}
	h.rebuild(calls.Listing{Channels: call.Items})
}

// resyncQueuesDone completes a resync that waited for QueueStatus. Without
// its answer the calls are rebuilt from their dialplan contexts alone; a
// lost link drops the resync, since the next link makes its own.
func (h *hub) resyncQueuesDone(channels []*ami.Frame, call *ami.Call) {
	if call.Err != nil {
		h.log.Warn("resync: cannot list the PBX's queues; calls are told apart by their contexts alone", "err", call.Err)
		if isDisconnect(call.Err) {
			return
		}
	}
	h.rebuild(calls.Listing{Channels: channels, Queues: call.Items})
}

func (h *hub) rebuild(l calls.Listing) {
	alive := make(map[string]bool, len(l.Channels))
	for _, f := range l.Channels {
		if id := f.Get("Uniqueid"); id != "" {
			alive[id] = true
		}
	}
	changes := h.tracker.Retain(alive)
	for _, ch := range changes {
		h.notify(ch)
	}
	reqs, rebuilt := h.tracker.Resync(l)
	for _, ch := range rebuilt {
		h.notify(ch)
	}
	for _, r := range reqs {
		h.send(ami.NewAction("Getvar", "Channel", r.Channel, "Variable", r.Variable), pending{kind: pendGetvar, getvar: r})
	}
	h.log.Info("resync: calls checked against the PBX", "channels", len(alive), "ended meanwhile", len(changes), "variables asked", len(reqs))
}

// getvarDone gives the tracker the value of a rebuilt call's variable; a
// failed Getvar counts as no value, so that the call's Links still go out.
func (h *hub) getvarDone(req calls.VarRequest, call *ami.Call) {
	value := ""
	if call.Err == nil && call.Reply != nil {
		value = call.Reply.Get("Value")
	} else if !isDisconnect(call.Err) {
		h.log.Warn("resync: Getvar failed", "channel", req.Channel, "variable", req.Variable, "err", call.Err)
	}
	for _, ch := range h.tracker.GotVar(req, value) {
		h.notify(ch)
	}
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
