package ami

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// retryRecorder counts the dials of a Client and records the pauses it
// asks for instead of waiting them; it cancels the run after stopAfter
// dials (0: never).
type retryRecorder struct {
	mu        sync.Mutex
	dials     int
	pauses    []time.Duration
	stopAfter int
	cancel    context.CancelFunc
}

func (r *retryRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.dials++
	if r.stopAfter > 0 && r.dials >= r.stopAfter {
		r.cancel()
	}
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (r *retryRecorder) wait(ctx context.Context, d time.Duration) bool {
	r.mu.Lock()
	r.pauses = append(r.pauses, d)
	r.mu.Unlock()
	return ctx.Err() == nil
}

// TestRetriesCountAttempts checks the retry model every binary shares:
// Retries N is N connection attempts in all (0: for ever), and the pause
// before attempt k+1 is RetryPause doubled k-1 times, capped at
// RetryMaxPause, less up to a quarter of jitter (never more than the cap).
// Dials go to a closed 127.0.0.1 port; no pause is really waited.
func TestRetriesCountAttempts(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name       string
		retries    int
		pause, max time.Duration
		stopAfter  int             // cancel after this many dials (for Retries 0)
		wantDials  int             // connection attempts made
		wantPauses []time.Duration // the pauses before the jitter
		wantErr    bool
	}{
		{"one attempt", 1, 5 * s, 0, 0, 1, nil, true},
		{"two attempts", 2, 5 * s, 0, 0, 2, []time.Duration{5 * s}, true},
		{"three attempts", 3, 5 * s, 0, 0, 3, []time.Duration{5 * s, 10 * s}, true},
		{"doubling up to the default cap", 7, 5 * s, 0, 0, 7,
			[]time.Duration{5 * s, 10 * s, 20 * s, 40 * s, time.Minute, time.Minute}, true},
		{"doubling up to a named cap", 5, s, 3 * s, 0, 5, []time.Duration{s, 2 * s, 3 * s, 3 * s}, true},
		{"cap below the first pause", 3, 4 * s, 2 * s, 0, 3, []time.Duration{4 * s, 4 * s}, true},
		{"for ever until stopped", 0, s, 4 * s, 6, 6, []time.Duration{s, 2 * s, 4 * s, 4 * s, 4 * s}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &retryRecorder{stopAfter: tc.stopAfter, cancel: cancel}
			addr := closedAddr(t)
			c := New(Config{Addr: addr, Username: "u", Secret: "s", Retries: tc.retries,
				RetryPause: tc.pause, RetryMaxPause: tc.max, Dial: rec.dial})
			c.wait = rec.wait
			err := c.Run(ctx)

			assert.Equal(t, tc.wantDials, rec.dials, "connection attempts")
			require.Len(t, rec.pauses, len(tc.wantPauses), "pauses %v", rec.pauses)
			for i, want := range tc.wantPauses {
				if got := rec.pauses[i]; got > want || got < want-want/4 {
					t.Errorf("pause %d = %v, want %v less up to a quarter", i+1, got, want)
				}
			}
			if !tc.wantErr {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrRetriesExhausted)
			var re *RetriesError
			require.True(t, errors.As(err, &re), "Run = %v, want a *RetriesError", err)
			assert.Equal(t, tc.wantDials, re.Attempts)
			assert.Equal(t, addr, re.Addr)
		})
	}
}

// TestRetriesErrorMessage checks that the error of a run that gave up
// names the AMI address once and the package name never: every layer
// adds context once.
func TestRetriesErrorMessage(t *testing.T) {
	addr := closedAddr(t)
	h := startClient(t, Config{Addr: addr, Retries: 2})
	var err error
	select {
	case err = <-h.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not give up")
	}
	assert.Regexp(t, `^AMI `+addr+`: 2 connection attempts failed: dial tcp `+addr+`: connect: connection refused$`, err.Error())
	var ne *net.OpError
	assert.True(t, errors.As(err, &ne), "Run = %v, want it to wrap the dial's *net.OpError", err)
}

// TestLoginRefusedNamesSecret checks that a refused login says whose
// secret was tried from where (Config.SecretFrom) and never the secret.
func TestLoginRefusedNamesSecret(t *testing.T) {
	for _, md5 := range []bool{false, true} {
		srv := newTestServer(t, false)
		h := startClient(t, Config{Addr: srv.addr, Username: "astcti", Secret: "wr0ng-s3cret", Retries: 1,
			UseMD5Challenge: md5, SecretFrom: "the TEST_SECRET environment variable"})
		var err error
		select {
		case err = <-h.runErr:
		case <-time.After(waitFor):
			t.Fatal("Run did not give up")
		}
		assert.ErrorIs(t, err, ErrAuth)
		assert.Regexp(t, `^AMI `+srv.addr+`: 1 connection attempt failed: login as "astcti"( with the MD5 challenge)? refused: Authentication failed \(secret from the TEST_SECRET environment variable; `, err.Error())
		assert.NotContains(t, err.Error(), "wr0ng-s3cret")
	}
}
