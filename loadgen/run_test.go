package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the load generator at a small scale, in both dialects:
// every seat logs in at once and is confirmed in its queues, from a cold
// start and after a restart; every call the PBX links gives exactly one
// Link, at the right seat, with the call's data; and each seat whose
// membership the PBX refuses is told so once a session.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		dialect       string
		seats, queues int
		rate          float64
	}{
		{"modern", 500, 2, 20},
		{"1.4", 100, 1, 20},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Dialect, opts.Seats, opts.Queues, opts.Rate = tc.dialect, tc.seats, tc.queues, tc.rate
			opts.Duration, opts.Talk, opts.AnswerAfter = 5*time.Second, time.Second, 200*time.Millisecond
			opts.RefusedSeats, opts.PauseRate = 3, 5
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, opts)
			require.NoError(t, err)

			require.Len(t, res.Storms, 2, "a cold start and a restart")
			for _, st := range res.Storms {
				assert.True(t, st.Complete, "%s: every seat confirmed", st.Name)
				assert.Equal(t, tc.seats, st.Confirmed, st.Name)
			}
			assert.Empty(t, res.LoginFailed, "no login fails")
			assert.Equal(t, int64(2*tc.seats), res.Logins, "each seat logs in once a storm")
			assert.Equal(t, int64(tc.seats), res.Resumes, "after the restart, by resume token")
			d := res.Delivery
			assert.Positive(t, d.Linked, "calls were linked")
			assert.Equal(t, res.Traffic.Answered, int64(d.Linked), "every answered call is in the PBX's links")
			assert.Equal(t, d.Linked, d.Notified, "every linked call is notified")
			assert.Zero(t, d.Lost, "lost")
			assert.Zero(t, d.Duplicated, "duplicated")
			assert.Zero(t, d.Misdelivered, "misdelivered")
			assert.Zero(t, d.WrongData, "wrong data")
			assert.Len(t, res.Latencies, d.Notified)
			assert.Equal(t, int64(2*opts.RefusedSeats), res.SeatsTold, "each refused seat told, in each of its two sessions")
			assert.Equal(t, res.SeatsTold, res.Refused, "told once a session, not at every retry")
			assert.Positive(t, res.PausesOK, "pauses confirmed")
			assert.Zero(t, res.PausesKO, "no pause fails")
		})
	}
}
