package cti

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/seatproto"
)

// Queue memberships are state, not messages: a session's membership says
// the seat's phone should be in a queue until the PBX confirms it, and a
// removal says it should leave until the PBX confirms that. Actions that
// fail for a reason that passes (a lost link) are sent again; a refusal or
// a QueueAdd left unanswered is told to the seat (202) and retried with a
// growing pause, since an administrator may still create the queue. Nothing is given up
// while the session lives; a removal is given up only at shutdown.

// memberKey names one queue membership at the PBX: the interface as
// configured (used verbatim in Queue* actions) and the queue.
type memberKey struct{ iface, queue string }

// membership is one queue the session's seat belongs to, or should.
type membership struct {
	service   string
	penalty   int
	confirmed bool // the PBX said so (QueueAdd answered, QueueMemberAdded, or "Already there")
	adding    bool // a QueueAdd is waiting in the outbox, parked or in flight
	refused   bool // the seat was told the PBX refused (202); cleared when confirmed
	// addPaused is the pause state the last QueueAdd sent carried: a
	// PAUSE that came while it was on its way may need one more action.
	addPaused bool
	retry     backoff
}

// joining reports whether the membership is on its way into the PBX: a
// QueueAdd waits, is in flight or is due again, and the PBX has not
// refused it.
func (m *membership) joining() bool {
	return !m.confirmed && !m.refused && (m.adding || !m.retry.at.IsZero())
}

// removal is a membership that must leave the PBX: its session ended, or a
// new configuration dropped it.
type removal struct {
	queued bool    // waiting in the outbox or in flight
	parked []adder // QueueAdds for the same member, sent once it is gone
	retry  backoff
}

// adder is a QueueAdd waiting for a removal of the same member.
type adder struct {
	sess  *session
	queue string
}

// backoff is the pause before an action is sent again.
type backoff struct {
	at    time.Time // zero: no retry is waiting
	pause time.Duration
}

// next schedules the next retry, doubling the pause up to memberRetryMax.
// The wait is drawn between half the pause and the pause (jitter), so that
// the memberships of a login storm that the PBX refused or left
// unanswered together do not all come back at once.
func (b *backoff) next(now time.Time) {
	b.pause = min(max(2*b.pause, memberRetryMin), memberRetryMax)
	b.at = now.Add(b.pause/2 + rand.N(b.pause/2+1))
}

func (b *backoff) due(now time.Time) bool { return !b.at.IsZero() && !now.Before(b.at) }

// queueAdd queues the QueueAdd of one of the session's memberships, unless
// one is already on its way.
func (h *hub) queueAdd(s *session, queue string) {
	m := s.members[queue]
	if m == nil || m.adding || m.confirmed {
		return
	}
	m.adding = true
	m.retry.at = time.Time{}
	h.send(nil, pending{kind: pendQueueAdd, sess: s, queue: queue})
}

// removeMember makes the seat's phone leave queue at the PBX.
func (h *hub) removeMember(iface, queue string) {
	k := memberKey{iface, queue}
	r := h.removing[k]
	if r == nil {
		r = &removal{}
		h.removing[k] = r
	}
	if !r.queued {
		r.queued = true
		r.retry.at = time.Time{}
		h.send(nil, pending{kind: pendQueueRemove, member: k})
	}
}

// membershipAction builds the action of a membership entry of the outbox as
// it is sent, or returns nil when it is no longer wanted. A QueueAdd for a
// member that is still being removed waits for the removal (the order of
// remove, then add, is what the PBX must end with).
func (h *hub) membershipAction(p pending) *ami.Frame {
	switch p.kind {
	case pendQueueAdd:
		s := p.sess
		m := s.members[p.queue]
		if s.ended || m == nil || m.confirmed || !m.adding {
			return nil
		}
		if r := h.removing[memberKey{s.iface, p.queue}]; r != nil {
			r.parked = append(r.parked, adder{s, p.queue})
			return nil
		}
		m.addPaused = s.paused
		return ami.NewAction("QueueAdd",
			"Queue", p.queue,
			"Interface", s.iface,
			"Penalty", strconv.Itoa(m.penalty),
			"Paused", strconv.FormatBool(s.paused),
			"MemberName", memberName(s))
	case pendQueueRemove:
		if h.removing[p.member] == nil {
			return nil
		}
		return ami.NewAction("QueueRemove", "Queue", p.member.queue, "Interface", p.member.iface)
	}
	return nil
}

// memberName is the queue member's name: the operator's full name, else
// the user name.
func memberName(s *session) string {
	if s.fullName != "" {
		return s.fullName
	}
	return s.operator
}

func (h *hub) queueAddDone(p pending, call *ami.Call) {
	s := p.sess
	m := s.members[p.queue]
	if s.ended || m == nil {
		return
	}
	m.adding = false
	switch {
	case call.Err == nil, isAlreadyThere(call.Err):
		// Asterisk answers after adding (the QueueMemberAdded event comes
		// too); "Already there" is left over from before a restart of ours.
		h.confirm(s, p.queue, m)
		return
	case errors.Is(call.Err, ami.ErrActionTimeout):
		// The PBX may have added it and be slow to say so (its
		// QueueMemberAdded then confirms it), or never have read it: the
		// seat is not in the queue as far as anyone knows, and is told so.
		s.log.Warn("QueueAdd not answered by the PBX; retrying", "queue", p.queue, "err", call.Err)
		h.notInQueue(s, p.queue, m, call.Err)
	case isTransient(call.Err):
		// The link is lost (its resync sends it again) or the client's
		// queue is full: nothing the seat needs to know.
		s.log.Debug("QueueAdd not sent; sent again", "queue", p.queue, "err", call.Err)
		h.retryAdd(s, p.queue, m)
	default:
		s.log.Warn("QueueAdd failed: refused by the PBX; retrying", "queue", p.queue, "err", call.Err)
		h.srv.metrics.QueueAddRefused()
		h.notInQueue(s, p.queue, m, call.Err)
	}
	h.maybeRepop(s, false)
}

// notInQueue tells the seat, once until the membership is confirmed, that
// the PBX refused or did not answer its QueueAdd (202), and sends it again
// after a pause. A PAUSE does not wait for that queue.
func (h *hub) notInQueue(s *session, queue string, m *membership, err error) {
	if !m.refused {
		m.refused = true
		s.conn.sendStatus(seatproto.QueueRefused(queue, actionMessage(err)))
	}
	h.settlePause(s, queue, false)
	h.retryAdd(s, queue, m)
}

// retryAdd sends a failed QueueAdd again after a pause, while the link is
// up; with the link down, the next link's resync sends it. (A QueueAdd
// lost with a link that a new one already replaced is retried too: that
// link's resync came before this answer and found it still on its way.)
func (h *hub) retryAdd(s *session, queue string, m *membership) {
	if !h.linkUp {
		return
	}
	m.retry.next(time.Now())
	h.retries = append(h.retries, adder{s, queue})
}

func (h *hub) queueRemoveDone(p pending, call *ami.Call) {
	r := h.removing[p.member]
	if r == nil {
		return
	}
	r.queued = false
	switch {
	case call.Err == nil, isNotMember(call.Err):
		delete(h.removing, p.member)
		for _, a := range r.parked {
			if m := a.sess.members[a.queue]; m != nil {
				m.adding = false // parked, not on its way: queue it now
			}
			h.queueAdd(a.sess, a.queue)
		}
		return
	case isTransient(call.Err):
	default:
		h.log.Warn("QueueRemove failed: refused by the PBX; retrying", "queue", p.member.queue, "interface", p.member.iface, "err", call.Err)
	}
	if h.linkUp {
		r.retry.next(time.Now())
	}
	h.unpark(r)
}

// unpark lets the QueueAdds parked on r go again: their memberships are
// marked not adding, so that retryMembers or the next resync sends them
// once r is gone.
func (h *hub) unpark(r *removal) {
	for _, a := range r.parked {
		if m := a.sess.members[a.queue]; m != nil && !a.sess.ended {
			m.adding = false
			m.retry.next(time.Now())
			h.retries = append(h.retries, a)
		}
	}
	r.parked = nil
}

// retryMembers sends again the membership actions whose pause is over.
func (h *hub) retryMembers(now time.Time) {
	if !h.linkUp {
		return
	}
	kept := h.retries[:0]
	for _, a := range h.retries {
		m := a.sess.members[a.queue]
		switch {
		case a.sess.ended || m == nil || m.confirmed || m.adding:
		case m.retry.due(now):
			h.queueAdd(a.sess, a.queue)
		default:
			kept = append(kept, a)
		}
	}
	clear(h.retries[len(kept):])
	h.retries = kept
	for k, r := range h.removing {
		if !r.queued && r.retry.due(now) {
			h.removeMember(k.iface, k.queue)
		}
	}
}

// requeueMembers queues, after a link came up, every membership the PBX
// has not confirmed and every removal not yet done. Removals go first, so
// that a member's removal and new addition keep their order.
func (h *hub) requeueMembers() {
	for k := range h.removing {
		h.removeMember(k.iface, k.queue)
	}
	for _, s := range h.byIface {
		for q, m := range s.members {
			m.confirmed = false
			h.queueAdd(s, q)
		}
	}
}

func (h *hub) confirm(s *session, queue string, m *membership) {
	m.adding, m.refused, m.retry = false, false, backoff{}
	if !m.confirmed {
		m.confirmed = true
		s.conn.sendStatus(seatproto.InQueue(queue))
		h.pauseAdded(s, queue, m)
	}
	h.maybeRepop(s, false)
}

// pauseAdded settles a PAUSE that waited for this membership to be added:
// done if its QueueAdd carried the pause state asked, else one QueuePause
// for the queue, whose event settles it.
func (h *hub) pauseAdded(s *session, queue string, m *membership) {
	pr := s.pause
	if pr == nil || !pr.waiting[queue] {
		return
	}
	if m.addPaused == pr.paused {
		h.settlePause(s, queue, true)
		return
	}
	h.send(pauseAction(s, queue), pending{kind: pendPause, sess: s})
}

// leaveQueues removes the seat's phone from every queue of the session.
func (h *hub) leaveQueues(s *session) {
	if s.iface == "" {
		return
	}
	for q := range s.members {
		h.removeMember(s.iface, q)
	}
	s.members = map[string]*membership{}
}

// memberSession returns the session whose seat a queue member event names.
func (h *hub) memberSession(f *ami.Frame) *session {
	iface := f.Get("Interface")
	if iface == "" {
		iface = f.Get("Location") // Asterisk 1.4
	}
	return h.byIface[calls.NormalizeInterface(iface)]
}

func (h *hub) memberAdded(f *ami.Frame) {
	s := h.memberSession(f)
	if s == nil {
		return
	}
	if m := s.members[f.Get("Queue")]; m != nil {
		h.confirm(s, f.Get("Queue"), m)
	}
}

func (h *hub) memberRemoved(f *ami.Frame) {
	s := h.memberSession(f)
	if s == nil {
		return
	}
	q := f.Get("Queue")
	if m := s.members[q]; m != nil && m.confirmed {
		// Removed behind our back (the PBX's CLI, say): the seat is told,
		// and the membership is added again on the next resync.
		m.confirmed = false
		s.conn.sendStatus(seatproto.LeftQueue(q))
	}
}

// isTransient tells an action's failure that says nothing of the action
// itself: no answer in time, the link lost, the client's queue full.
func isTransient(err error) bool {
	return errors.Is(err, ami.ErrActionTimeout) || errors.Is(err, ami.ErrDisconnected) ||
		errors.Is(err, ami.ErrClosed) || errors.Is(err, ami.ErrQueueFull)
}
