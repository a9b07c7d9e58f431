package config

import (
	"fmt"
	"slices"
	"strings"
)

// Change is one effect a new configuration has on the live system. Diff
// decides them all, in one place; the server applies them in order. The
// concrete types are ServiceDisabled, ServiceEnabled, QueueRemove, QueueAdd,
// EndSession, SeatRemoved and SeatChanged.
type Change interface {
	isChange()
	String() string
}

// ServiceDisabled: the service was removed or disabled. Calls of it are no
// longer notified. (Its queue memberships are in QueueRemove changes.)
type ServiceDisabled struct {
	Service string
	Removed bool // removed rather than disabled
}

// ServiceEnabled: the service was added or enabled; its calls are notified
// from now on. Nothing live needs to change.
type ServiceEnabled struct {
	Service string
	Added   bool // added rather than enabled
}

// QueueRemove: remove the seat of the operator's live session, if any, from
// the queue (AMI QueueRemove), with the interface it was added with.
type QueueRemove struct {
	Operator string
	Queue    string
	Service  string
}

// QueueAdd: add the seat of the operator's live session, if any, to the
// queue with the penalty (AMI QueueAdd), and tell the seat (`200 queue`).
type QueueAdd struct {
	Operator string
	Queue    string
	Service  string
	Penalty  int
}

// EndSession: end the operator's live session, if any, telling the seat why.
// The QueueRemove changes of its memberships come before it.
type EndSession struct {
	Operator string
	Reason   string
}

// SeatRemoved: the seat is gone; end the session on it, if any.
type SeatRemoved struct {
	MAC       string
	Interface string
}

// SeatChanged: the seat's phone has a new interface. The session on it, if
// any, must move its queue memberships from the old interface to the new
// one (QueueRemove, then QueueAdd), or be ended so the seat logs in again.
type SeatChanged struct {
	MAC          string
	OldInterface string
	NewInterface string
}

func (ServiceDisabled) isChange() {}
func (ServiceEnabled) isChange()  {}
func (QueueRemove) isChange()     {}
func (QueueAdd) isChange()        {}
func (EndSession) isChange()      {}
func (SeatRemoved) isChange()     {}
func (SeatChanged) isChange()     {}

func (c ServiceDisabled) String() string {
	if c.Removed {
		return fmt.Sprintf("service %q removed", c.Service)
	}
	return fmt.Sprintf("service %q disabled", c.Service)
}

func (c ServiceEnabled) String() string {
	if c.Added {
		return fmt.Sprintf("service %q added", c.Service)
	}
	return fmt.Sprintf("service %q enabled", c.Service)
}

func (c QueueRemove) String() string {
	return fmt.Sprintf("QueueRemove operator %q queue %s (service %q)", c.Operator, c.Queue, c.Service)
}

func (c QueueAdd) String() string {
	return fmt.Sprintf("QueueAdd operator %q queue %s penalty %d (service %q)", c.Operator, c.Queue, c.Penalty, c.Service)
}

func (c EndSession) String() string {
	return fmt.Sprintf("end session of operator %q: %s", c.Operator, c.Reason)
}

func (c SeatRemoved) String() string {
	return fmt.Sprintf("seat %s (%s) removed", c.MAC, c.Interface)
}

func (c SeatChanged) String() string {
	return fmt.Sprintf("seat %s interface %s -> %s", c.MAC, c.OldInterface, c.NewInterface)
}

// Reasons of EndSession.
const (
	ReasonOperatorRemoved  = "operator removed from the configuration"
	ReasonOperatorDisabled = "operator disabled"
	ReasonSeatChanged      = "operator's fixed seat changed"
)

// Diff returns the changes that take the live system from old to new, in
// the order to apply them: services first, then each operator (by
// username: its QueueRemove changes before its QueueAdd or EndSession),
// then seats (by MAC). old nil means nothing was configured and nothing is
// live, so there is nothing to change.
//
// A queue membership is (operator, queue, penalty) over the enabled queue
// services of an enabled operator; a penalty change is a QueueRemove then a
// QueueAdd (the choice, rather than AMI QueuePenalty). Changes with
// no live effect (a password, begin-paused, a trigger, variables) yield
// nothing: the server reads them from the snapshot when it needs them.
func Diff(old, new *Snapshot) []Change {
	if old == nil {
		return nil
	}
	if new == nil {
		new = &Snapshot{m: &Model{}}
	}
	var changes []Change

	// Services.
	names := unionKeys(old.services, new.services)
	for _, name := range names {
		o, n := old.services[name], new.services[name]
		switch {
		case o != nil && o.Enabled && (n == nil || !n.Enabled):
			changes = append(changes, ServiceDisabled{Service: name, Removed: n == nil})
		case n != nil && n.Enabled && (o == nil || !o.Enabled):
			changes = append(changes, ServiceEnabled{Service: name, Added: o == nil})
		}
	}

	// Operators.
	for _, user := range unionKeys(old.operators, new.operators) {
		o, n := old.operators[user], new.operators[user]
		if o == nil || !o.Enabled {
			continue // no session could exist
		}
		oldQ := old.Queues(user)
		reason := ""
		switch {
		case n == nil:
			reason = ReasonOperatorRemoved
		case !n.Enabled:
			reason = ReasonOperatorDisabled
		case n.Seat != o.Seat:
			reason = ReasonSeatChanged
		}
		if reason != "" {
			for _, q := range oldQ {
				changes = append(changes, QueueRemove{Operator: user, Queue: q.Queue, Service: q.Service})
			}
			changes = append(changes, EndSession{Operator: user, Reason: reason})
			continue
		}
		newQ := new.Queues(user)
		same := func(a QueueMembership, qs []QueueMembership) bool {
			return slices.ContainsFunc(qs, func(b QueueMembership) bool { return a.Queue == b.Queue && a.Penalty == b.Penalty })
		}
		for _, q := range oldQ {
			if !same(q, newQ) {
				changes = append(changes, QueueRemove{Operator: user, Queue: q.Queue, Service: q.Service})
			}
		}
		for _, q := range newQ {
			if !same(q, oldQ) {
				changes = append(changes, QueueAdd{Operator: user, Queue: q.Queue, Service: q.Service, Penalty: q.Penalty})
			}
		}
	}

	// Seats.
	for _, mac := range unionKeys(old.seatByMAC, new.seatByMAC) {
		o, n := old.seatByMAC[mac], new.seatByMAC[mac]
		switch {
		case o == nil:
		case n == nil:
			changes = append(changes, SeatRemoved{MAC: mac, Interface: o.Interface})
		case o.Interface != n.Interface:
			changes = append(changes, SeatChanged{MAC: mac, OldInterface: o.Interface, NewInterface: n.Interface})
		}
	}
	return changes
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
