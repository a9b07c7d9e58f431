package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *Model)
		want []Change
	}{
		{"nothing", func(m *Model) {}, nil},
		{"password and begin-paused have no live effect", func(m *Model) {
			m.Operators[0].SetPassword("other")
			m.Operators[0].BeginPaused = true
			m.Services[1].Application = "http://other.example/"
		}, nil},
		{"operator removed", func(m *Model) {
			m.Operators = m.Operators[1:]
			for i := range m.Services {
				m.Services[i].Members = m.Services[i].Members[1:]
			}
		}, []Change{
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			EndSession{Operator: "alice", Reason: ReasonOperatorRemoved},
		}},
		{"operator disabled", func(m *Model) { m.Operators[1].Enabled = false }, []Change{
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
			EndSession{Operator: "bob", Reason: ReasonOperatorDisabled},
		}},
		{"fixed seat changed", func(m *Model) { m.Operators[0].Seat = "" }, []Change{
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			EndSession{Operator: "alice", Reason: ReasonSeatChanged},
		}},
		{"penalty changed", func(m *Model) { m.Services[2].Members[1].Penalty = 5 }, []Change{
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
			QueueAdd{Operator: "bob", Queue: "astcti-queue", Service: "support", Penalty: 5},
		}},
		{"penalty of a non-queue service changed", func(m *Model) { m.Services[1].Members[1].Penalty = 5 }, nil},
		{"membership removed", func(m *Model) { m.Services[2].Members = m.Services[2].Members[:1] }, []Change{
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
		}},
		{"queue renamed", func(m *Model) { m.Services[2].Queue = "new-queue" }, []Change{
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			QueueAdd{Operator: "alice", Queue: "new-queue", Service: "support", Penalty: 1},
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
			QueueAdd{Operator: "bob", Queue: "new-queue", Service: "support", Penalty: 2},
		}},
		{"service became a queue service", func(m *Model) {
			m.Services[1].IsQueue, m.Services[1].Queue = true, "sales-q"
		}, []Change{
			QueueAdd{Operator: "alice", Queue: "sales-q", Service: "sales", Penalty: 1},
			QueueAdd{Operator: "bob", Queue: "sales-q", Service: "sales", Penalty: 2},
		}},
		{"queue service disabled", func(m *Model) { m.Services[2].Enabled = false }, []Change{
			ServiceDisabled{Service: "support"},
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
		}},
		{"service disabled", func(m *Model) { m.Services[1].Enabled = false }, []Change{
			ServiceDisabled{Service: "sales"},
		}},
		{"service removed", func(m *Model) { m.Services = m.Services[:2] }, []Change{
			ServiceDisabled{Service: "support", Removed: true},
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
		}},
		{"service added", func(m *Model) {
			m.Services = append(m.Services, Service{Name: "vip", Type: Inbound, Context: "vip", IsQueue: true, Queue: "vip-q",
				Trigger: TriggerNone, Enabled: true, Members: []Member{{Operator: "bob", Penalty: 0}}})
		}, []Change{
			ServiceEnabled{Service: "vip", Added: true},
			QueueAdd{Operator: "bob", Queue: "vip-q", Service: "vip", Penalty: 0},
		}},
		{"seat interface changed", func(m *Model) { m.Seats[0].Interface = "PJSIP/201" }, []Change{
			SeatChanged{MAC: "00:11:22:33:44:01", OldInterface: "SIP/201", NewInterface: "PJSIP/201"},
		}},
		{"seat removed", func(m *Model) {
			m.Seats = m.Seats[1:]
			m.Operators[0].Seat = ""
		}, []Change{
			QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
			EndSession{Operator: "alice", Reason: ReasonSeatChanged},
			SeatRemoved{MAC: "00:11:22:33:44:01", Interface: "SIP/201"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := demoSnapshot(t)
			m := old.Model()
			tc.edit(m)
			new, err := NewSnapshot(m)
			require.NoError(t, err)
			got := Diff(old, new)
			assert.Equal(t, tc.want, got, "Diff = %v, want %v", got, tc.want)
		})
	}
}

func TestDiffDisabledOperatorHasNoSession(t *testing.T) {
	m := Demo()
	m.Operators[1].Enabled = false
	old, err := NewSnapshot(m)
	require.NoError(t, err)
	m2 := old.Model()
	m2.Services[2].Members[1].Penalty = 7
	m2.Operators = m2.Operators[:1]
	for i := range m2.Services {
		m2.Services[i].Members = m2.Services[i].Members[:1]
	}
	new, err := NewSnapshot(m2)
	require.NoError(t, err)
	assert.Empty(t, Diff(old, new), "a disabled operator cannot have had a session")

	// Re-enabling an operator changes nothing live: it has no session yet.
	m3 := Demo()
	enabled, err := NewSnapshot(m3)
	require.NoError(t, err)
	assert.Empty(t, Diff(old, enabled))
}

func TestDiffNil(t *testing.T) {
	s := demoSnapshot(t)
	assert.Empty(t, Diff(nil, s), "first configuration: nothing is live")
	assert.Equal(t, []Change{
		ServiceDisabled{Service: "outbound", Removed: true},
		ServiceDisabled{Service: "sales", Removed: true},
		ServiceDisabled{Service: "support", Removed: true},
		QueueRemove{Operator: "alice", Queue: "astcti-queue", Service: "support"},
		EndSession{Operator: "alice", Reason: ReasonOperatorRemoved},
		QueueRemove{Operator: "bob", Queue: "astcti-queue", Service: "support"},
		EndSession{Operator: "bob", Reason: ReasonOperatorRemoved},
		SeatRemoved{MAC: "00:11:22:33:44:01", Interface: "SIP/201"},
		SeatRemoved{MAC: "00:11:22:33:44:02", Interface: "SIP/202"},
	}, Diff(s, nil))
}

func TestChangeStrings(t *testing.T) {
	tests := []struct {
		c    Change
		want string
	}{
		{ServiceDisabled{Service: "s"}, `service "s" disabled`},
		{ServiceDisabled{Service: "s", Removed: true}, `service "s" removed`},
		{ServiceEnabled{Service: "s"}, `service "s" enabled`},
		{ServiceEnabled{Service: "s", Added: true}, `service "s" added`},
		{QueueRemove{Operator: "a", Queue: "q", Service: "s"}, `QueueRemove operator "a" queue q (service "s")`},
		{QueueAdd{Operator: "a", Queue: "q", Service: "s", Penalty: 3}, `QueueAdd operator "a" queue q penalty 3 (service "s")`},
		{EndSession{Operator: "a", Reason: "r"}, `end session of operator "a": r`},
		{SeatRemoved{MAC: "m", Interface: "SIP/1"}, `seat m (SIP/1) removed`},
		{SeatChanged{MAC: "m", OldInterface: "SIP/1", NewInterface: "SIP/2"}, `seat m interface SIP/1 -> SIP/2`},
	}
	for _, tc := range tests {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}
