package config

import (
	"context"
	"fmt"
	"slices"
)

// Dependent is a row that depends on another: what removing that row does
// to it, for the confirmation of a remove.
type Dependent struct {
	// Kind and ID are the dependent row's (KindService for a membership).
	Kind Kind
	ID   int64
	// Key is its key: the operator's username, the service's name.
	Key string
	// What says what the removal does to it, for people.
	What string
}

// Dependents returns what depends on the row of kind and id, sorted by key:
// for a seat, the operators whose fixed seat it is (they keep no fixed
// seat); for an operator, the services it is a member of (it leaves them);
// for a service, its members (they leave it). The row itself is not
// checked for existence: an unknown row has no dependents.
func (s *Store) Dependents(ctx context.Context, kind Kind, id int64) ([]Dependent, error) {
	m, err := s.Model(ctx)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindSeat:
		return seatDependents(m, id), nil
	case KindOperator:
		return operatorDependents(m, id), nil
	case KindService:
		return serviceDependents(m, id), nil
	}
	return nil, fmt.Errorf("config: dependents of a %q: only seats, operators and services have rows", kind)
}

func seatDependents(m *Model, id int64) []Dependent {
	i := slices.IndexFunc(m.Seats, func(x Seat) bool { return x.ID == id })
	if i < 0 {
		return nil
	}
	var out []Dependent
	for _, o := range m.Operators {
		if o.Seat == m.Seats[i].MAC {
			out = append(out, Dependent{Kind: KindOperator, ID: o.ID, Key: o.Username,
				What: fmt.Sprintf("operator %s has it as fixed seat and will have none", o.Username)})
		}
	}
	return out
}

func operatorDependents(m *Model, id int64) []Dependent {
	i := slices.IndexFunc(m.Operators, func(x Operator) bool { return x.ID == id })
	if i < 0 {
		return nil
	}
	name := m.Operators[i].Username
	var out []Dependent
	for _, svc := range m.Services {
		for _, mb := range svc.Members {
			if mb.Operator == name {
				out = append(out, Dependent{Kind: KindService, ID: svc.ID, Key: svc.Name,
					What: fmt.Sprintf("member of service %s (penalty %d): the membership is removed", svc.Name, mb.Penalty)})
			}
		}
	}
	return out
}

func serviceDependents(m *Model, id int64) []Dependent {
	i := slices.IndexFunc(m.Services, func(x Service) bool { return x.ID == id })
	if i < 0 {
		return nil
	}
	svc := m.Services[i]
	var out []Dependent
	for _, mb := range svc.Members {
		j := slices.IndexFunc(m.Operators, func(o Operator) bool { return o.Username == mb.Operator })
		var oid int64
		if j >= 0 {
			oid = m.Operators[j].ID
		}
		out = append(out, Dependent{Kind: KindOperator, ID: oid, Key: mb.Operator,
			What: fmt.Sprintf("operator %s is a member (penalty %d) and leaves the service", mb.Operator, mb.Penalty)})
	}
	return out
}
