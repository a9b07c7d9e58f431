package cti_test

import (
	"bytes"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ctitest"
)

// failingListener is a seat listener whose Accept fails with EMFILE, as
// when the process is out of file descriptors, while fail is above zero.
type failingListener struct {
	net.Listener
	fail  atomic.Int32 // Accept calls left to fail
	calls atomic.Int32 // Accept calls that failed
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fail.Add(-1) >= 0 {
		l.calls.Add(1)
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestAcceptOutOfFiles: accept failing with "too many open files" does not
// stop the server. It backs off, logs the burst once, keeps serving the
// seat logged in before, and accepts the waiting seat once accept works
// again; the failures are counted in /metrics.
func TestAcceptOutOfFiles(t *testing.T) {
	const failures = 5
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := &failingListener{Listener: inner}
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Listener: ln, Admin: true})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)

	// The accept loop is waiting in Accept already: the failures start
	ln.fail.Store(failures)
	// with the call after the one that takes bob's connection.
	bob := srv.Dial()
	ctitest.WaitFor(t, "every failure", func() error {
		return ctitest.Check(ln.calls.Load() == failures, "%d accept calls failed", ln.calls.Load())
	})
	alice.Send("NOOP")
	alice.Expect(`^100 OK$`)
	bob.Login("bob", "bob", "")
	bob.Expect(`^200 astcti-queue$`)
	carol := srv.Dial()
	carol.Expect(`^100 WELCOME$`)
	carol.Sync()
	select {
	case <-srv.Done():
		t.Fatalf("the server stopped: %v", srv.Result(0))
	default:
	}
	assert.Equal(t, 1, srv.Logs.Count("cannot accept seats"), "log lines of the burst")
	assert.Equal(t, 1, srv.Logs.Count("accepting seats again"), "log lines of the burst's end")
	fams := ctitest.Scrape(t, srv.AdminURL()+"/metrics")
	v, ok := fams.Value("astcti_seat_accept_errors_total")
	assert.True(t, ok, "astcti_seat_accept_errors_total in /metrics")
	assert.Equal(t, float64(failures), v, "astcti_seat_accept_errors_total")
}

// TestLoginTimeout: a connection that does not log in within the login
// timeout is told so and closed, although it keeps sending NOOPs (each
// answered, and each resetting the keepalive); one that logs in in time
// stays.
func TestLoginTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), LoginTimeout: timeout, Admin: true})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")

	start := time.Now()
	idle := srv.Dial()
	idle.Expect(`^100 WELCOME$`)
	var last string
	// Bounded: the server closes the connection after the timeout; the
	// loop gives up at ten times it.
	for i := 0; i < 100 && last == ""; i++ {
		idle.Send("NOOP")
		time.Sleep(100 * time.Millisecond) // the pace of the NOOPs, not a wait for the server
		for _, l := range idle.Lines() {
			if strings.HasPrefix(l, "9") {
				last = l
			}
		}
	}
	assert.Contains(t, idle.Lines(), "100 OK", "NOOPs before the timeout were answered")
	rest := idle.ExpectClosed()
	require.NotEmpty(t, last, "the server sent no final line within 100 NOOPs")
	assert.Equal(t, "902 KO login timeout", last)
	assert.Equal(t, "902 KO login timeout", idle.Lines()[len(idle.Lines())-1], "the last line; after the cursor: %q", rest)
	assert.GreaterOrEqual(t, time.Since(start), timeout, "closed before the timeout")

	// Past the timeout, alice, logged in, is still there.
	alice.Sync()
	fams := ctitest.Scrape(t, srv.AdminURL()+"/metrics")
	v, _ := fams.Value("astcti_seats_closed_total", "reason", "login_timeout")
	assert.Equal(t, 1.0, v, `astcti_seats_closed_total{reason="login_timeout"}`)
}

// TestConnectionCaps: connections over the cap per address, or over the
// cap in total, are refused with a line that says which, and closed
// before any welcome; those within the caps are served, and a place freed
// by a closed connection is taken again. Every refusal is counted.
func TestConnectionCaps(t *testing.T) {
	tests := []struct {
		name            string
		maxSeats, per   int
		allowed         int
		refusal, reason string
	}{
		{name: "per address", maxSeats: 100, per: 3, allowed: 3,
			refusal: "906 KO too many connections from your address", reason: "too_many_from_address"},
		{name: "in total", maxSeats: 2, per: 100, allowed: 2,
			refusal: "906 KO too many connections", reason: "too_many_connections"},
	}
	pbx := startDemoPBX(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), MaxSeats: tc.maxSeats, MaxConnsPerAddr: tc.per, Admin: true})
			var seats []*ctitest.Seat
			for range tc.allowed {
				st := srv.Dial()
				st.Expect(`^100 WELCOME$`)
				seats = append(seats, st)
			}
			extra := srv.Dial()
			assert.Equal(t, tc.refusal, extra.Next())
			extra.ExpectClosed()
			// Those within the cap are served.
			for _, st := range seats {
				st.Sync()
			}
			// One leaves: a new connection takes its place.
			seats[0].Quit()
			ctitest.WaitFor(t, "the place to be freed", func() error {
				fams := ctitest.Scrape(t, srv.AdminURL()+"/metrics")
				v, _ := fams.Value("astcti_seats_connected")
				return ctitest.Check(v == float64(tc.allowed-1), "%v seats connected", v)
			})
			again := srv.Dial()
			again.Expect(`^100 WELCOME$`)
			fams := ctitest.Scrape(t, srv.AdminURL()+"/metrics")
			v, _ := fams.Value("astcti_seats_refused_total", "reason", tc.reason)
			assert.Equal(t, 1.0, v, "astcti_seats_refused_total{reason=%q}", tc.reason)
		})
	}
}

// TestSeatPipelines: a seat that writes many commands at once and reads
// every answer is never cut: its reader stops reading while the answers
// wait to be written (TCP pushes back on the seat), instead of the queue
// overflowing. Before login the reader answers itself; after, the hub
// does.
func TestSeatPipelines(t *testing.T) {
	tests := []struct {
		name  string
		noops int
		login bool
	}{
		{name: "1100 after login", noops: 1100, login: true},
		{name: "20000 after login", noops: 20000, login: true},
		{name: "20000 before login", noops: 20000},
	}
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := srv.Dial()
			if tc.login {
				st.Login("alice", "alice", "")
				st.Expect(`^200 astcti-queue$`)
			} else {
				st.Expect(`^100 WELCOME$`)
			}
			before := len(st.Lines())
			st.Write(bytes.Repeat([]byte("NOOP\n"), tc.noops))
			for i := range tc.noops {
				if _, err := st.ExpectWithin(ctitest.Wait, `^100 OK$`); err != nil {
					t.Fatalf("answer %d of %d: %v; lines: %d", i+1, tc.noops, err, len(st.Lines())-before)
				}
			}
			st.Sync()
			assert.Equal(t, tc.noops+1, len(st.Lines())-before, "lines after the NOOPs")
			for _, l := range st.Lines()[before:] {
				if l != "100 OK" {
					t.Fatalf("a line other than 100 OK: %q", l)
				}
			}
			if tc.login {
				st.Quit()
			}
		})
	}
}
