package cti

import (
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
)

// Stale memberships. A server that was killed (SIGKILL, a crash, the power)
// could not remove its seats' queue members, and the PBX keeps them (with
// persistentmembers, across its own restarts too): their phones are rung
// with no screen pop. So at start the server lists the members of its
// queues (QueueStatus) and, once seats have had staleGrace to log in again,
// removes the members that are a configured seat's interface in a
// configured queue and that no session holds. A member the configuration
// does not know (another seat, an agent, a static member) is never touched.
//
// Only the first listing counts: after it, every member the server adds is
// a session's and leaves with it (members.go), so a later reconnect finds
// nothing of an earlier run.

// staleSweep is the hub's state of the sweep.
type staleSweep struct {
	off      bool      // no sweep: disabled, or done
	asked    bool      // the QueueStatus is on its way
	listed   bool      // its answer came: found holds the candidates
	retryAt  time.Time // a failed listing is asked again then
	deadline time.Time // the end of the grace for seats to log in again
	found    []memberKey
}

func newStaleSweep(grace time.Duration) staleSweep {
	if grace < 0 {
		return staleSweep{off: true}
	}
	return staleSweep{deadline: time.Now().Add(grace)}
}

// listMembers asks the PBX for the members of its queues, unless the sweep
// has its listing or is off.
func (h *hub) listMembers(now time.Time) {
	st := &h.stale
	if st.off || st.asked || st.listed || !h.linkUp || now.Before(st.retryAt) {
		return
	}
	st.asked = true
	h.send(ami.NewAction("QueueStatus"), pending{kind: pendStaleMembers})
}

// staleListed keeps, from the QueueStatus answer, the members that are a
// configured seat's interface in a configured queue.
func (h *hub) staleListed(call *ami.Call) {
	st := &h.stale
	st.asked = false
	if call.Err != nil {
		if !isDisconnect(call.Err) {
			h.log.Warn("cannot list the PBX's queue members: asking again", "err", call.Err, "in", memberRetryMax)
		}
		st.retryAt = time.Now().Add(memberRetryMax)
		return
	}
	st.listed = true
	queues := h.configuredQueues()
	for _, f := range call.Items {
		if !ami.EqualFold(f.Event(), "QueueMember") {
			continue
		}
		k, ok := h.staleCandidate(f, queues)
		if ok {
			st.found = append(st.found, k)
		}
	}
	h.log.Info("queue members listed: those of configured seats that no session holds are removed after the grace",
		"candidates", len(st.found), "grace_ends", st.deadline.Format(time.RFC3339))
}

// staleCandidate returns the member a QueueMember item names, as a seat's
// configured interface, if it is a dynamic member of a configured queue
// whose interface is a configured seat's.
func (h *hub) staleCandidate(f *ami.Frame, queues map[string]bool) (memberKey, bool) {
	queue := f.Get("Queue")
	if !queues[queue] {
		return memberKey{}, false
	}
	// Only dynamic members can be removed by QueueRemove; static ones
	// (queues.conf) and realtime ones are the administrator's.
	if ms := f.Get("Membership"); ms != "" && !ami.EqualFold(ms, "dynamic") {
		return memberKey{}, false
	}
	iface := f.Get("Location") // both dialects in QueueStatus; Interface in later events
	if iface == "" {
		iface = f.Get("Interface")
	}
	seat := h.snap.SeatByInterface(iface)
	if seat == nil {
		return memberKey{}, false
	}
	return memberKey{seat.Interface, queue}, true
}

// configuredQueues returns the queues of the configuration's queue
// services, enabled or not.
func (h *hub) configuredQueues() map[string]bool {
	out := make(map[string]bool)
	for _, svc := range h.snap.Model().Services {
		if svc.IsQueue && svc.Queue != "" {
			out[svc.Queue] = true
		}
	}
	return out
}

// sweepStale removes, once the grace is over, the members listed at start
// that no session holds, as the configuration is then. The QueueRemoves
// go paced through the outbox and are retried as any removal.
func (h *hub) sweepStale(now time.Time) {
	st := &h.stale
	if st.off || !st.listed || now.Before(st.deadline) {
		return
	}
	queues := h.configuredQueues()
	for _, k := range st.found {
		seat := h.snap.SeatByInterface(k.iface)
		if seat == nil || seat.Interface != k.iface || !queues[k.queue] {
			continue // the configuration no longer has it
		}
		if s := h.byIface[calls.NormalizeInterface(k.iface)]; s != nil && s.members[k.queue] != nil {
			continue // a session holds it
		}
		if h.removing[k] != nil {
			continue // on its way out already
		}
		h.log.Info("removing a stale queue member: a configured seat that no session holds",
			"queue", k.queue, "interface", k.iface, "mac", seat.MAC)
		h.removeMember(k.iface, k.queue)
	}
	*st = staleSweep{off: true}
}
