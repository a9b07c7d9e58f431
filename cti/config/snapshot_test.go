package config

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func demoSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	s, err := NewSnapshot(Demo())
	require.NoError(t, err)
	return s
}

func TestSnapshotLookups(t *testing.T) {
	s := demoSnapshot(t)
	assert.Equal(t, "2 seats, 2 operators, 3 services (1 queue, 1 outbound)", s.Summary())
	one := Demo()
	one.Seats, one.Operators, one.Services = one.Seats[:1], one.Operators[:1], one.Services[:1]
	assert.Regexp(t, `^1 seat, 1 operator, 1 service \(`, one.Summary())

	assert.Equal(t, "sales", s.ServiceByContext("astcti-service").Name)
	assert.Equal(t, "outbound", s.ServiceByContext("from-operators").Name)
	assert.Nil(t, s.ServiceByContext("astcti-queue-service"), "a queue service is found by its queue")
	assert.Equal(t, "support", s.ServiceByQueue("astcti-queue").Name)
	assert.Nil(t, s.ServiceByQueue("nope"))
	assert.Equal(t, []string{"customer_id"}, s.Service("support").Variables)

	alice := s.Operator("alice")
	require.NotNil(t, alice)
	assert.True(t, alice.CheckPassword(MD5Hex("alice")))
	assert.False(t, alice.CheckPassword(MD5Hex("bob")))
	assert.Nil(t, s.Operator("carol"))

	for _, mac := range []string{"00:11:22:33:44:01", "00-11-22-33-44-01", "001122334401"} {
		seat := s.SeatByMAC(mac)
		require.NotNil(t, seat, mac)
		assert.Equal(t, "SIP/201", seat.Interface)
	}
	assert.Nil(t, s.SeatByMAC("00:11:22:33:44:99"))
	assert.Nil(t, s.SeatByMAC("garbage"))
	assert.Equal(t, "00:11:22:33:44:02", s.SeatByInterface("SIP/202").MAC)
	assert.Equal(t, "00:11:22:33:44:02", s.SeatByInterface("sip/202").MAC)
	assert.Equal(t, "00:11:22:33:44:02", s.SeatByInterface("SIP/202").MAC)
	assert.Nil(t, s.SeatByInterface("SIP/203"))

	ms := s.Memberships("bob")
	require.Len(t, ms, 3)
	assert.Equal(t, "outbound", ms[0].Service.Name)
	assert.Equal(t, 2, ms[0].Penalty)
	assert.Equal(t, []QueueMembership{{Queue: "astcti-queue", Service: "support", Penalty: 1}}, s.Queues("alice"))
	assert.Equal(t, []QueueMembership{{Queue: "astcti-queue", Service: "support", Penalty: 2}}, s.Queues("bob"))

	assert.True(t, s.MayOriginate("alice", "from-operators"))
	assert.False(t, s.MayOriginate("alice", "astcti-service"), "only outbound contexts")
	assert.False(t, s.MayOriginate("alice", "default"))
	assert.False(t, s.MayOriginate("carol", "from-operators"))
}

func TestSnapshotIsACopy(t *testing.T) {
	m := Demo()
	s, err := NewSnapshot(m)
	require.NoError(t, err)
	m.Operators[0].Enabled = false
	m.Services[0].Members[0].Penalty = 99
	assert.True(t, s.Operator("alice").Enabled)
	exported := s.Model()
	exported.Seats[0].Interface = "SIP/999"
	assert.Equal(t, "SIP/201", s.SeatByMAC("00:11:22:33:44:01").Interface)
}

func TestSnapshotDisabled(t *testing.T) {
	m := Demo()
	for i := range m.Services {
		m.Services[i].Enabled = false
	}
	m.Operators[1].Enabled = false
	s, err := NewSnapshot(m)
	require.NoError(t, err)
	assert.Nil(t, s.ServiceByContext("astcti-service"))
	assert.Nil(t, s.ServiceByQueue("astcti-queue"))
	assert.NotNil(t, s.Service("sales"), "Service finds disabled services")
	assert.Empty(t, s.Queues("alice"))
	assert.False(t, s.MayOriginate("alice", "from-operators"))
	assert.NotNil(t, s.Operator("bob"), "Operator finds disabled operators")
	assert.Contains(t, s.Summary(), "3 disabled")
}

func TestNewSnapshotRefusesInvalid(t *testing.T) {
	m := Demo()
	m.Services[2].Members = append(m.Services[2].Members, Member{Operator: "carol"})
	_, err := NewSnapshot(m)
	assert.Equal(t, []string{`service "support": member "carol": no such operator`}, problems(t, err))
}

// TestHolderRace swaps snapshots while readers read; run with -race.
// Readers must always see a whole snapshot: one whose operators and
// services agree.
func TestHolderRace(t *testing.T) {
	a := demoSnapshot(t)
	m := Demo()
	m.Operators = m.Operators[:1]
	for i := range m.Services {
		m.Services[i].Members = m.Services[i].Members[:1]
	}
	m.Operators[0].Seat = ""
	b, err := NewSnapshot(m)
	require.NoError(t, err)

	h := NewHolder(a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Current()
				if (s.Operator("bob") == nil) != (len(s.Memberships("bob")) == 0) {
					t.Error("a reader saw a mix of two snapshots")
					return
				}
			}
		})
	}
	for i := range 2000 {
		if i%2 == 0 {
			h.Swap(b)
		} else {
			h.Swap(a)
		}
	}
	close(stop)
	wg.Wait()
	var zero Holder
	assert.Nil(t, zero.Current())
}
