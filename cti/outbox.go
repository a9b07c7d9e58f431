package cti

import (
	"fmt"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// outbox paces the hub's actions to the PBX. Asterisk serves the actions
// of one manager session one after another, so sending ten thousand
// QueueAdds at once (a login storm) only fills the AMI client's send queue,
// which then refuses the rest. The hub instead keeps what it still has to
// send here, in order, and keeps at most amiWindow actions in flight: the
// next one goes out as an answer comes back. Nothing is ever refused for
// want of room; the queue is bounded by the hub's own state (one entry per
// membership, seat command or resync step), not by a constant.
//
// Membership entries carry no action: it is built from the membership's
// state when the entry is sent, so that an entry whose membership is no
// longer wanted is skipped, and a retry sends what is wanted then.
type outbox struct {
	items    []outItem
	head     int // items[head:] wait to be sent
	inFlight int
	peak     int // the most in flight at once, for tests and metrics
}

type outItem struct {
	action *ami.Frame // nil for pendQueueAdd and pendQueueRemove: built when sent
	p      pending
}

func (o *outbox) push(it outItem) { o.items = append(o.items, it) }

func (o *outbox) len() int { return len(o.items) - o.head }

func (o *outbox) pop() outItem {
	it := o.items[o.head]
	o.items[o.head] = outItem{}
	o.head++
	if o.head == len(o.items) || (o.head > 1024 && o.head*2 > len(o.items)) {
		o.items = append(o.items[:0], o.items[o.head:]...)
		o.head = 0
	}
	return it
}

// take removes and returns every waiting item.
func (o *outbox) take() []outItem {
	items := o.items[o.head:]
	o.items, o.head = nil, 0
	return items
}

// send queues an action to the PBX and remembers why it is sent; its answer
// comes to handleDone.
func (h *hub) send(action *ami.Frame, p pending) {
	h.out.push(outItem{action: action, p: p})
	h.pump()
}

// pump sends waiting actions while the link is up and the window has room.
func (h *hub) pump() {
	for h.linkUp && h.out.inFlight < amiWindow && h.out.len() > 0 {
		it := h.out.pop()
		action := it.action
		if action == nil {
			action = h.membershipAction(it.p)
			if action == nil {
				continue // no longer wanted
			}
		}
		it.p.sent = time.Now()
		call := h.srv.client.Go(action, h.done)
		h.out.inFlight++
		h.out.peak = max(h.out.peak, h.out.inFlight)
		h.pending[call] = it.p
		if o := it.p.orig; o != nil {
			o.id = call.Action.ActionID()
			h.originates[o.id] = o
		}
	}
}

// handleDone takes the answer to an action the hub sent.
func (h *hub) handleDone(call *ami.Call) {
	p, ok := h.pending[call]
	if !ok {
		return
	}
	delete(h.pending, call)
	h.out.inFlight--
	h.srv.metrics.ActionDone(call.Action.Action(), p.sent)
	h.complete(p, call)
	h.pump()
}

// complete hands an action's outcome to what sent it.
func (h *hub) complete(p pending, call *ami.Call) {
	switch p.kind {
	case pendQueueAdd:
		h.queueAddDone(p, call)
	case pendQueueRemove:
		h.queueRemoveDone(p, call)
	case pendPause:
		h.pauseDone(p.sess, call)
	case pendOriginate:
		h.originateDone(p.orig, call)
	case pendResync:
		h.resyncDone(p, call)
	case pendResyncQueues:
		h.resyncQueuesDone(p, call)
	case pendGetvar:
		h.getvarDone(p.getvar, call)
	case pendStaleMembers:
		h.staleListed(call)
	}
}

// dropOutbox empties the outbox when the link goes down. A membership
// entry is not lost: the membership's state still says what is wanted, and
// the next link's resync queues it again. Every other action fails as if
// sent on the lost link, so that its seat is told.
func (h *hub) dropOutbox() {
	for _, it := range h.out.take() {
		switch it.p.kind {
		case pendQueueAdd:
			if m := it.p.sess.members[it.p.queue]; m != nil {
				m.adding = false
			}
		case pendQueueRemove:
			if r := h.removing[it.p.member]; r != nil {
				r.queued = false
			}
		default:
			call := &ami.Call{Action: it.action, Err: fmt.Errorf("ami: %s: %w", it.action.Action(), ami.ErrDisconnected)}
			h.complete(it.p, call)
		}
	}
}
