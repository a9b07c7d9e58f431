package sim

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

func TestOperators(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		names []string
	}{
		{"none", 0, nil},
		{"alice only", 1, []string{"alice"}},
		{"the demo", 2, []string{"alice", "bob"}},
		{"more", 4, []string{"alice", "bob", "dave", "erin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, op := range Operators(tc.n) {
				names = append(names, op.Name)
			}
			assert.Equal(t, tc.names, names, "Operators(%d)", tc.n)
		})
	}
	ops := Operators(MaxSeats)
	require.Len(t, ops, MaxSeats)
	assert.Equal(t, Operator{Name: "op200", Password: "op200", MAC: "00:11:22:33:45:c6", Interface: "SIP/498"}, ops[MaxSeats-1])
}

// TestConfigModel checks that the simulation's configuration is valid for
// every number of seats, holds the free operator, and makes every operator
// a member of every service with the same penalty.
func TestConfigModel(t *testing.T) {
	for _, n := range []int{0, 2, 5, MaxSeats} {
		ops := Operators(n)
		m, err := configModel(ops)
		require.NoError(t, err)
		snap, err := config.NewSnapshot(m)
		require.NoError(t, err, "configModel(%d seats)", n)
		for _, op := range append(ops, FreeOperator) {
			o := snap.Operator(op.Name)
			require.NotNil(t, o, "operator %s", op.Name)
			assert.True(t, o.CheckPassword(config.MD5Hex(op.Password)), "password of %s", op.Name)
			seat := snap.SeatByMAC(op.MAC)
			require.NotNil(t, seat, "seat of %s", op.Name)
			assert.Equal(t, op.Interface, seat.Interface)
			assert.True(t, snap.MayOriginate(op.Name, "from-operators"), "%s may originate", op.Name)
		}
		for _, s := range m.Services {
			assert.Len(t, s.Members, len(m.Operators), "members of %s", s.Name)
			for _, mb := range s.Members {
				assert.Equal(t, 1, mb.Penalty, "penalty of %s in %s", mb.Operator, s.Name)
			}
		}
	}
}

// TestPBXScenario checks that the phones of the simulation answer after 1-3
// s and hang up after 3-10 s, bob's included, and that the queue rings
// the member who waited longest.
func TestPBXScenario(t *testing.T) {
	ifaces := []string{"SIP/201", "SIP/202", "SIP/203", "SIP/301"}
	sc, err := pbxScenario(newPhones(ifaces, rand.New(rand.NewPCG(1, 2))))
	require.NoError(t, err)
	for _, iface := range ifaces {
		ph := sc.PhoneFor(iface)
		assert.Equal(t, scenarios.Answers, ph.Behaviour, iface)
		assert.GreaterOrEqual(t, ph.AnswerAfter, time.Second, iface)
		assert.LessOrEqual(t, ph.AnswerAfter, 3*time.Second, iface)
		assert.GreaterOrEqual(t, ph.TalkFor, 3*time.Second, iface)
		assert.LessOrEqual(t, ph.TalkFor, 10*time.Second, iface)
	}
	assert.Equal(t, scenarios.NeverAnswers, sc.PhoneFor("SIP/206").Behaviour, "the demo's other phones stay")
	assert.Equal(t, "leastrecent", sc.Queues["astcti-queue"].Strategy)
	assert.False(t, sc.Queues["astcti-queue"].RingInUse)

	again, err := pbxScenario(newPhones(ifaces, rand.New(rand.NewPCG(1, 2))))
	require.NoError(t, err)
	assert.Equal(t, sc.PhoneFor("SIP/202"), again.PhoneFor("SIP/202"), "the same seed draws the same phones")
}

// TestPhonesBusy: a phone is busy while it has a call, and answers again
// once it has none; a new draw leaves the busy ones busy.
func TestPhonesBusy(t *testing.T) {
	ph := newPhones([]string{"SIP/201", "SIP/202"}, rand.New(rand.NewPCG(1, 2)))
	behaviours := func(sc *scenarios.Scenario) map[string]scenarios.Behaviour {
		if sc == nil {
			return nil
		}
		out := map[string]scenarios.Behaviour{}
		for iface, p := range sc.Phones {
			out[iface] = p.Behaviour
		}
		return out
	}
	oneCall := fakeami.State{Channels: []fakeami.ChannelSnapshot{{Name: "SIP/trunk-00000001"}, {Name: "SIP/201-00000002"}}}
	steps := []struct {
		name string
		do   func() *scenarios.Scenario
		want map[string]scenarios.Behaviour
	}{
		{"201 rings", func() *scenarios.Scenario { return ph.update(oneCall) }, map[string]scenarios.Behaviour{"SIP/201": scenarios.Busy}},
		{"no change", func() *scenarios.Scenario { return ph.update(oneCall) }, nil},
		{"a new draw", ph.redraw, map[string]scenarios.Behaviour{"SIP/202": scenarios.Answers}},
		{"201 hangs up", func() *scenarios.Scenario { return ph.update(fakeami.State{}) }, map[string]scenarios.Behaviour{"SIP/201": scenarios.Answers}},
	}
	for _, st := range steps {
		assert.Equal(t, st.want, behaviours(st.do()), st.name)
	}
}

func TestTrafficScenario(t *testing.T) {
	tests := []struct {
		rate    string
		perMin  float64 // 0: no traffic
		wantErr string
	}{
		{rate: "12/min", perMin: 12},
		{rate: "1/s", perMin: 60},
		{rate: "300/h", perMin: 5},
		{rate: "0"},
		{rate: "fast", wantErr: `rate: bad rate "fast"`},
		{rate: "12", wantErr: `bad rate "12"`},
		{rate: "-1/min", wantErr: `bad rate "-1/min"`},
	}
	for _, tc := range tests {
		t.Run(tc.rate, func(t *testing.T) {
			sc, err := trafficScenario(tc.rate, 7)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr, "trafficScenario(%q)", tc.rate)
				assert.Error(t, CheckRate(tc.rate))
				return
			}
			require.NoError(t, err, "trafficScenario(%q)", tc.rate)
			assert.NoError(t, CheckRate(tc.rate))
			if tc.perMin == 0 {
				assert.Nil(t, sc, "no traffic")
				return
			}
			require.NotNil(t, sc.Traffic)
			assert.InDelta(t, tc.perMin, sc.Traffic.Rate, 1e-9)
			assert.Equal(t, int64(7), sc.Traffic.Seed)
			_, err = scenarios.Merge(scenarios.Demo(), sc)
			require.NoError(t, err, "the traffic leads somewhere in the demo PBX")
		})
	}
}

func TestFirstCalls(t *testing.T) {
	sc, err := scenarios.Merge(scenarios.Demo(), firstCalls())
	require.NoError(t, err)
	require.Len(t, sc.Calls, 2)
	for _, c := range sc.Calls {
		assert.Equal(t, "102", c.Exten, "a queue call")
		assert.True(t, strings.HasPrefix(c.CallerNum, "7"))
		assert.LessOrEqual(t, c.At, 1500*time.Millisecond)
	}
}
