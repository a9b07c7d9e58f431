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
				assert.True(t, st.Measured, "%s: the server's CPU and RSS from /proc", st.Name)
				assert.Positive(t, st.Goroutines, "%s: the server's goroutines from /metrics", st.Name)
				assert.Equal(t, tc.seats, st.SeatsConnected, "%s: the server's seats connected from /metrics", st.Name)
			}
			assert.True(t, res.ServerKnown, "the traffic's server figures")
			assert.Greater(t, res.Goroutines, tc.seats, "the server's peak of goroutines in the traffic: one or more a seat")
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

// TestCompareDirect runs the comparison at a small scale: the direct
// approach gets the same calls, tells every one to the right phone's
// client, and costs the fake PBX one session, and a copy of every event,
// per seat.
func TestCompareDirect(t *testing.T) {
	const seats = 100
	opts := DefaultOptions()
	opts.Seats, opts.Rate, opts.Duration = seats, 20, 3*time.Second
	opts.Talk, opts.AnswerAfter, opts.PauseRate = time.Second, 200*time.Millisecond, 0
	opts.Restart, opts.CompareDirect, opts.Seed = false, true, 42
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, opts)
	require.NoError(t, err)
	require.NotNil(t, res.Direct)

	dr := res.Direct
	assert.Equal(t, seats, dr.Clients)
	assert.Zero(t, dr.ClientsLost)
	assert.Positive(t, dr.Delivery.Linked, "calls were linked")
	assert.Equal(t, dr.Traffic.Answered, int64(dr.Delivery.Linked))
	assert.Equal(t, dr.Delivery.Linked, dr.Delivery.Notified, "every linked call told to its phone's client")
	assert.True(t, dr.Delivery.Zero(), "%+v", dr.Delivery)
	assert.Len(t, dr.Latencies, dr.Delivery.Notified)
	assert.Positive(t, len(dr.CallsPerSecond), "the direct phase's calls a second")

	astcti, direct := res.Traffic.PBX, dr.Traffic.PBX
	assert.Equal(t, 1, astcti.Sessions, "astcti: one manager session")
	assert.Equal(t, seats, direct.Sessions, "direct: one per seat")
	// Every event goes to every direct client: about seats times what
	// the one session reads for the same calls.
	assert.Greater(t, direct.EventsWritten, 10*astcti.EventsWritten)
	assert.Greater(t, direct.BytesWritten, 10*astcti.BytesWritten)

	data := res.Report()
	require.Len(t, data.Runs, 2)
	assert.Contains(t, data.Runs[1].Name, "direct")
	assert.Equal(t, "astcti against one AMI connection per seat (the same traffic)", data.Tables[len(data.Tables)-1].Title)
}
