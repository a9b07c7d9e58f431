package sim

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
)

// syncBuffer is a bytes.Buffer that the view writes while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a running simulation.
type started struct {
	out    *syncBuffer
	info   Info
	cancel context.CancelFunc
	done   chan error
}

// start runs a simulation with cfg on ports 0 and waits until every part
// listens.
func start(t *testing.T, cfg Config) *started {
	t.Helper()
	s := &started{out: &syncBuffer{}, done: make(chan error, 1)}
	cfg.Out = s.out
	ready := make(chan Info, 1)
	cfg.Ready = func(in Info) { ready <- in }
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(ctitest.Wait):
			t.Errorf("Run did not return within %v", ctitest.Wait)
		}
	})
	select {
	case s.info = <-ready:
	case err := <-s.done:
		t.Fatalf("Run returned before it was ready: %v\n%s", err, s.out)
	case <-time.After(ctitest.Wait):
		t.Fatalf("not ready within %v:\n%s", ctitest.Wait, s.out)
	}
	return s
}

// waitOutput waits until the output matches every regular expression.
func (s *started) waitOutput(t *testing.T, res ...string) {
	t.Helper()
	err := ctitest.Poll(ctitest.Wait, func() error {
		for _, re := range res {
			if !regexp.MustCompile(re).MatchString(s.out.String()) {
				return fmt.Errorf("no line matching %q", re)
			}
		}
		return nil
	})
	require.NoError(t, err, "output:\n%s", s.out)
}

// stop cancels the simulation, as Ctrl-C does, and returns what Run
// returned.
func (s *started) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(ctitest.Wait):
		t.Fatalf("Run did not return within %v of the cancel", ctitest.Wait)
		return nil
	}
}

// TestRun runs the whole simulation in both dialects: alice and bob get
// screen pops with the call's data within seconds, the user's own seat
// (carol) gets calls too, and cancelling stops everything cleanly (no
// goroutine left: TestMain).
func TestRun(t *testing.T) {
	for _, d := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := start(t, Config{Dialect: d, Rate: "60/min", Seats: 2, Seed: 1, ControlListen: "127.0.0.1:0"})
			assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.info.Control)
			assert.DirExists(t, s.info.DataDir)

			carol := ctitest.DialSeat(t, s.info.Seats)
			carol.Login("carol", "carol", "00:11:22:33:44:03")
			carol.Expect(`^<event id="Link"><call><uniqueid>[0-9.]+</uniqueid><channel>SIP/203-[0-9a-f]+</channel><calleridnum>7\d{3}</calleridnum>.*<service>support</service><queue>astcti-queue</queue><appdata><data key="customer_id">98765</data></appdata>`)

			s.waitOutput(t,
				`(?m)^\d\d:\d\d:\d\d alice Link caller=7\d{3} service=(support customer_id=98765 url=http://127\.0\.0\.1:\d+/customer\?id=98765&caller=7\d{3}&name=Caller\+7\d{3}|sales calldata=12345 url=http://127\.0\.0\.1:\d+/sales\S+)$`,
				`(?m)^\d\d:\d\d:\d\d bob Link caller=7\d{3} service=(support customer_id=98765|sales calldata=12345) `,
				`(?m)^\d\d:\d\d:\d\d call 7\d{3} in: support \(102\)$`,
			)
			require.NoError(t, s.stop(t))
			out := s.out.String()
			assert.Regexp(t, `(?m)^\d\d:\d\d:\d\d alice logged out$`, out)
			assert.Regexp(t, `(?m)^\d\d:\d\d:\d\d bob logged out$`, out)
			assert.Regexp(t, `(?m)^astcti-sim: stopped after \d+s: \d+ calls, \d+ screen pops \(alice \d+, bob \d+\)$`, out)
			assert.NoDirExists(t, s.info.DataDir, "the temporary directory is removed")
		})
	}
}

// TestRunDuration: a simulation with a duration stops by itself, and keeps
// its data directory when one is given.
func TestRunDuration(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	err := Run(context.Background(), Config{Rate: "0", Seats: 0, Duration: 300 * time.Millisecond, DataDir: dir, Out: &out})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "astcti-sim: simulated seats: none\n")
	assert.Contains(t, out.String(), "astcti-sim: traffic: none after the first calls, seed ")
	assert.Regexp(t, `(?m)^astcti-sim: stopped after 0s: \d calls, 0 screen pops$`, out.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "the configuration snapshot stays in --data")
}

// TestRunLive: the live view draws the screen in place, writes the logs to
// sim.log, and shows the cursor again at the end.
func TestRunLive(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	err := Run(context.Background(), Config{Rate: "0", Seats: 1, Duration: time.Second, DataDir: dir, Out: &out, Live: true})
	require.NoError(t, err)
	screen := out.String()
	assert.Contains(t, screen, "\x1b[?25l\x1b[2J\x1b[H")
	assert.Contains(t, screen, "\x1b[1mSEAT ")
	assert.Regexp(t, `alice +SIP/201 +(ready|not logged in)`, screen)
	assert.Regexp(t, "\x1b\\[\\?25hastcti-sim: stopped after 1s", screen)
	assert.FileExists(t, dir+"/sim.log")
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative seats", Config{Seats: -1}, "seats: -1 is not between 0 and 200"},
		{"too many seats", Config{Seats: MaxSeats + 1}, "seats: 201 is not between 0 and 200"},
		{"bad rate", Config{Rate: "lots"}, `rate: bad rate "lots"`},
		{"AMI port taken", Config{AMIListen: busy.Addr().String()}, "fake PBX: listen tcp " + busy.Addr().String()},
		{"control port taken", Config{ControlListen: busy.Addr().String()}, "fake PBX: control: listen tcp"},
		{"seat port taken", Config{SeatListen: busy.Addr().String()}, "server: seats: listen tcp"},
		{"configurator port taken", Config{ConfiguratorListen: busy.Addr().String()},
			"configurator: listen tcp " + busy.Addr().String() + ": bind: address already in use: give --configurator-listen another address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestRunOutputClosed: a write to an output whose reader has gone stops
// the simulation as Ctrl-C does, with ErrOutputClosed, and its temporary
// data directory is removed.
func TestRunOutputClosed(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer w.Close()
	r.Close()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Rate: "0", Seats: 1, Seed: 1, Duration: time.Minute, Out: w})
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrOutputClosed)
	case <-time.After(ctitest.Wait):
		t.Fatalf("Run did not stop within %v of its output closing", ctitest.Wait)
	}
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries, "the temporary data directory is removed")
}
