package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Snapshot is a validated configuration, immutable and indexed for the
// lookups the server makes on every call and login. It holds plain values
// and no database handle. Its methods are safe to call from any goroutine.
// The values they return point into the snapshot and must not be modified.
type Snapshot struct {
	// Source is the file the snapshot was loaded from, "" if built in
	// memory. Set it only before sharing the snapshot.
	Source string

	m           *Model
	services    map[string]*Service   // by name
	byContext   map[string]*Service   // enabled services without a queue, by context
	byQueue     map[string]*Service   // enabled queue services, by queue name
	queuesByCtx map[string][]*Service // enabled queue services, by context, sorted by name
	operators   map[string]*Operator  // by username
	seatByMAC   map[string]*Seat
	seatByIface map[string]*Seat // by InterfaceKey
	memberships map[string][]Membership
}

// Membership is an operator's membership of a service, seen from the
// operator.
type Membership struct {
	Service *Service
	Penalty int
}

// NewSnapshot validates m and returns an indexed, immutable copy of it.
func NewSnapshot(m *Model) (*Snapshot, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c := m.Clone()
	c.Normalize()
	s := &Snapshot{
		m:           c,
		services:    make(map[string]*Service, len(c.Services)),
		byContext:   map[string]*Service{},
		byQueue:     map[string]*Service{},
		queuesByCtx: map[string][]*Service{},
		operators:   make(map[string]*Operator, len(c.Operators)),
		seatByMAC:   make(map[string]*Seat, len(c.Seats)),
		seatByIface: make(map[string]*Seat, len(c.Seats)),
		memberships: map[string][]Membership{},
	}
	for i := range c.Seats {
		seat := &c.Seats[i]
		s.seatByMAC[seat.MAC] = seat
		s.seatByIface[InterfaceKey(seat.Interface)] = seat
	}
	for i := range c.Operators {
		s.operators[c.Operators[i].Username] = &c.Operators[i]
	}
	for i := range c.Services {
		svc := &c.Services[i]
		s.services[svc.Name] = svc
		if svc.Enabled {
			if svc.IsQueue {
				s.byQueue[svc.Queue] = svc
				s.queuesByCtx[svc.Context] = append(s.queuesByCtx[svc.Context], svc)
			} else {
				s.byContext[svc.Context] = svc
			}
		}
		for _, mb := range svc.Members {
			s.memberships[mb.Operator] = append(s.memberships[mb.Operator], Membership{Service: svc, Penalty: mb.Penalty})
		}
	}
	return s, nil
}

// Model returns a deep copy of the configuration, for export and display.
func (s *Snapshot) Model() *Model { return s.m.Clone() }

// Service returns the service of that name, enabled or not, or nil.
func (s *Snapshot) Service(name string) *Service { return s.services[name] }

// ServiceByContext returns the enabled service without a queue whose calls
// reach operators in that dialplan context, or nil. It may be inbound or
// outbound: check Type. Disabled services are not returned, so the calls of
// a disabled service are not notified.
func (s *Snapshot) ServiceByContext(context string) *Service { return s.byContext[context] }

// ServiceByQueue returns the enabled queue service of that queue, or nil.
// A call that joins a queue belongs to that queue's service, whatever its
// context.
func (s *Snapshot) ServiceByQueue(queue string) *Service { return s.byQueue[queue] }

// QueueServicesByContext returns the enabled queue services whose context
// is context, sorted by name. Several may share one context; a call's queue
// tells them apart.
func (s *Snapshot) QueueServicesByContext(context string) []*Service {
	return s.queuesByCtx[context]
}

// Operator returns the operator of that username, enabled or not, or nil.
func (s *Snapshot) Operator(username string) *Operator { return s.operators[username] }

// SeatByMAC returns the seat of a MAC address in any accepted form (see
// NormalizeMAC), or nil.
func (s *Snapshot) SeatByMAC(mac string) *Seat {
	if seat, ok := s.seatByMAC[mac]; ok {
		return seat
	}
	norm, err := NormalizeMAC(mac)
	if err != nil {
		return nil
	}
	return s.seatByMAC[norm]
}

// SeatByInterface returns the seat whose phone has that interface, or nil.
// The technology is matched case-insensitively and a Local interface's
// options are ignored, so Local/201@phones/n finds the seat of
// Local/201@phones. For a channel name, take its interface first with
// calls.InterfaceOf.
func (s *Snapshot) SeatByInterface(iface string) *Seat {
	return s.seatByIface[InterfaceKey(iface)]
}

// Memberships returns the services an operator belongs to, with the
// penalties, sorted by service name; enabled services and disabled ones,
// queue services and others alike.
func (s *Snapshot) Memberships(username string) []Membership {
	return s.memberships[username]
}

// QueueMembership is a queue an operator's seat joins at login.
type QueueMembership struct {
	Queue   string
	Service string
	Penalty int
}

// Queues returns the queues an operator's seat joins at login: those of the
// enabled queue services it belongs to, with their penalties, sorted by
// service name. It is empty for an unknown or disabled operator.
func (s *Snapshot) Queues(username string) []QueueMembership {
	o := s.operators[username]
	if o == nil || !o.Enabled {
		return nil
	}
	var qs []QueueMembership
	for _, mb := range s.memberships[username] {
		if mb.Service.Enabled && mb.Service.IsQueue {
			qs = append(qs, QueueMembership{Queue: mb.Service.Queue, Service: mb.Service.Name, Penalty: mb.Penalty})
		}
	}
	return qs
}

// MayOriginate reports whether an operator may originate a call into a
// dialplan context: the context is that of an enabled outbound service the
// operator belongs to, and the operator is enabled. Any other context is
// refused (toll fraud, seat-protocol.md "ORIG").
func (s *Snapshot) MayOriginate(username, context string) bool {
	o := s.operators[username]
	if o == nil || !o.Enabled {
		return false
	}
	svc := s.byContext[context]
	if svc == nil || svc.Type != Outbound {
		return false
	}
	return slices.ContainsFunc(s.memberships[username], func(mb Membership) bool { return mb.Service == svc })
}

// Summary is a one-line description of the configuration's size.
func (s *Snapshot) Summary() string { return s.m.Summary() }

// Summary is a one-line description of the configuration's size.
func (m *Model) Summary() string {
	var queues, outbound, disabled int
	for _, s := range m.Services {
		if s.IsQueue {
			queues++
		}
		if s.Type == Outbound {
			outbound++
		}
		if !s.Enabled {
			disabled++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s, %s (%d queue, %d outbound", counted(len(m.Seats), "seat"), counted(len(m.Operators), "operator"),
		counted(len(m.Services), "service"), queues, outbound)
	if disabled > 0 {
		fmt.Fprintf(&b, ", %d disabled", disabled)
	}
	b.WriteString(")")
	return b.String()
}

// counted is n things: "1 seat", "2 seats".
func counted(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// Holder holds the current snapshot. Readers get the old or the new
// snapshot whole, never a mix; swapping never blocks readers. The zero value
// holds nil. It is safe to use from any goroutine.
type Holder struct {
	p atomic.Pointer[Snapshot]
}

// NewHolder returns a Holder holding s (which may be nil).
func NewHolder(s *Snapshot) *Holder {
	h := &Holder{}
	h.p.Store(s)
	return h
}

// Current returns the current snapshot, nil before the first one.
func (h *Holder) Current() *Snapshot { return h.p.Load() }

// Swap makes s current and returns the previous snapshot.
func (h *Holder) Swap(s *Snapshot) *Snapshot { return h.p.Swap(s) }
