package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoakShort is `make soak` in small: 200 seats, 20 calls a second,
// and every fault once — the AMI link dropped, seat churn, a bad
// snapshot, a burst of connections that never log in, the AMI link
// stalled without closing, the fake PBX restarted. Each fault must be
// recovered from (a new AMI link in use; every seat confirmed again; the
// snapshot refused; the burst's connections released), the seats must be
// told nothing wrong, no call answered while the link was up may be lost,
// none may pop twice, no call may stay behind in the server, and the
// server's goroutines after each fault must be those of the baseline
// (within a margin for the connections coming and going).
func TestSoakShort(t *testing.T) {
	const seats = 200
	opts := DefaultOptions()
	opts.Seats, opts.Rate, opts.Duration = seats, 20, 24*time.Second
	opts.Talk, opts.AnswerAfter, opts.PauseRate = time.Second, 200*time.Millisecond, 0
	opts.Restart, opts.Resume = false, true
	opts.Faults, opts.FaultEvery, opts.BurstConns = Faults, 3*time.Second, 300
	opts.AMIPing = time.Second // a stalled link is noticed within 1.5 s
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, opts)
	require.NoError(t, err)

	require.NotEmpty(t, res.Faults)
	base := res.Faults[0]
	require.Equal(t, "baseline", base.Kind)
	seen := map[string]bool{}
	for _, f := range res.Faults[1:] {
		t.Logf("%-12s at %5.1fs (%d calls) took %6v: %s; sessions ended %d, 201 lines %d; server RSS %.1f MiB, %d goroutines, %d seats connected, %d calls",
			f.Kind, f.At.Seconds(), f.CallsAtFault, f.Took.Round(time.Millisecond), f.Detail, f.SessionsEnded, f.QueueLeft,
			float64(f.RSSBytes)/(1<<20), f.Goroutines, f.SeatsConnected, f.CallsActive)
		seen[f.Kind] = true
		assert.True(t, f.Recovered, "%s: recovered: %s", f.Kind, f.Detail)
		if f.Kind == FaultAMIDrop || f.Kind == FaultAMIStall || f.Kind == FaultPBXRestart {
			assert.Positive(t, f.CallsAtFault, "%s: broke the link mid-call", f.Kind)
		}
		assert.Zero(t, f.SessionsEnded, "%s: no seat session ended but those the fault closed", f.Kind)
		assert.Zero(t, f.QueueLeft, "%s: no seat told it left a queue", f.Kind)
		assert.Equal(t, seats, f.SeatsConnected, "%s: every seat connected again, nothing else", f.Kind)
		// The goroutines are flat: those of the seats and the link, plus
		// a few of calls and connections in passing.
		assert.InDelta(t, base.Goroutines, f.Goroutines, float64(base.Goroutines)/10+20, "%s: goroutines", f.Kind)
	}
	for _, k := range Faults {
		assert.True(t, seen[k], "fault %s injected", k)
	}
	d := res.Delivery
	t.Logf("delivery: %+v", d)
	assert.Positive(t, d.Notified, "calls popped")
	assert.Zero(t, d.Lost, "lost while the link was up")
	assert.Zero(t, d.Duplicated, "duplicated: %v", d.Duplicates)
	assert.Zero(t, d.Misdelivered, "misdelivered")
	assert.Zero(t, d.WrongData, "wrong data: %v", d.Wrong)
	assert.Equal(t, d.Linked, d.Notified+d.Excused, "every linked call popped or fell in an outage")
	assert.Zero(t, res.CallsActiveAfter, "no call left behind in the server once every call ended")
}
