package fakeami

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/scenarios"
)

// lateClock is a ManualClock whose timers fire lag after they are due, as
// a real clock's do under load.
type lateClock struct {
	*ManualClock
	lag time.Duration
}

func (c lateClock) AfterFunc(d time.Duration, f func()) func() bool {
	return c.ManualClock.AfterFunc(d+c.lag, f)
}

// TestTrafficRate checks that steady traffic places the calls its rate
// asks for, however late the clock wakes the PBX: each arrival is due a
// gap after the previous one was due, not after it ran.
func TestTrafficRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		lag  time.Duration
		step time.Duration
	}{
		{"exact clock", 0, time.Millisecond},
		{"timers 1 ms late", time.Millisecond, time.Millisecond},
		{"coarse steps", 0, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc := NewManualClock(testEpoch)
			sc := parseScenario(t, string(LoadScenario(2000, "rrmemory", 100*time.Millisecond, time.Second)))
			p, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc, Seed: 1, Clock: lateClock{mc, tc.lag}})
			require.NoError(t, err)
			startStepped(t, p)
			traffic, err := scenarios.ParseFragment("traffic", []byte("-- traffic --\nrate 500/s to 600@from-trunk from 10000-99999 patience 30s seed 3\n"))
			require.NoError(t, err)
			require.NoError(t, p.Play(traffic))
			const span = 10 * time.Second
			for elapsed := time.Duration(0); elapsed < span; elapsed += tc.step {
				mc.Advance(tc.step)
			}
			// 5,000 calls are expected; a Poisson count's deviation is
			// about 71, so ±5 % is more than 3 of them.
			assert.InDelta(t, 5000, p.Traffic().Placed, 250)
		})
	}
}
