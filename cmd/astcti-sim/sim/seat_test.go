package sim

import (
	"context"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
)

// shrinkSeat makes a seat pause and reconnect at once, for the test.
func shrinkSeat(t *testing.T) {
	saved := []time.Duration{seatRetryMin, seatRetryMax, seatWorkMin, seatWorkMax, seatBreakMin, seatBreakMax}
	seatRetryMin, seatRetryMax = 20*time.Millisecond, 100*time.Millisecond
	seatWorkMin, seatWorkMax = 50*time.Millisecond, 100*time.Millisecond
	seatBreakMin, seatBreakMax = 50*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() {
		seatRetryMin, seatRetryMax, seatWorkMin, seatWorkMax, seatBreakMin, seatBreakMax =
			saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]
	})
}

// startServer runs a CTI server on addr until the returned function is
// called; that function returns what Run returned.
func startServer(t *testing.T, ami *ctitest.PBX, dir, addr string) (stop func() error) {
	t.Helper()
	ready := make(chan net.Addr, 1)
	srv := cti.New(cti.Config{AMI: ami.Config(), Listen: addr, ConfigDir: dir, Ready: func(a net.Addr) { ready <- a }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server: %v", err)
	case <-time.After(ctitest.Wait):
		cancel()
		t.Fatalf("the server was not ready within %v", ctitest.Wait)
	}
	return func() error {
		cancel()
		return <-done
	}
}

// TestSeat runs a simulated seat against a real server: it logs in, joins
// the queue, pauses and comes back, connects again after the server
// restarts, and says QUIT when it stops.
func TestSeat(t *testing.T) {
	shrinkSeat(t)
	ops := Operators(1)
	m, err := configModel(ops)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = config.WriteSnapshot(context.Background(), dir, m)
	require.NoError(t, err)
	sc, err := pbxScenario(newPhones([]string{"SIP/201"}, rand.New(rand.NewPCG(1, 1))))
	require.NoError(t, err)
	pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.DialectModern, Scenario: sc})
	addr := ctitest.FreeAddr(t)
	stopServer := startServer(t, pbx, dir, addr)

	reports := make(chan report, 1000)
	ready := make(chan struct{}, 10)
	st := &seat{idx: 0, op: ops[0], addr: addr, rng: rand.New(rand.NewPCG(1, 1)),
		send: func(r report) { reports <- r }, ready: func() { ready <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.run(ctx)
	}()
	expect := func(k kind, text string) {
		t.Helper()
		timeout := time.After(ctitest.Wait)
		for {
			select {
			case r := <-reports:
				if r.kind == k && (text == "" || r.text == text) {
					return
				}
			case <-timeout:
				t.Fatalf("no report of kind %d %q within %v", k, text, ctitest.Wait)
			}
		}
	}
	expect(kindLoggedIn, "")
	expect(kindQueue, "astcti-queue")
	expect(kindPaused, "")
	expect(kindUnpaused, "")

	require.NoError(t, stopServer())
	expect(kindDisconnected, "disconnected (server: 900 OK server shutdown), connecting again")
	stopServer = startServer(t, pbx, dir, addr)
	defer func() { require.NoError(t, stopServer()) }()
	expect(kindLoggedIn, "")
	expect(kindQueue, "astcti-queue")
	for range 2 { // the login is over, twice
		select {
		case <-ready:
		case <-time.After(ctitest.Wait):
			t.Fatalf("the seat did not log in within %v", ctitest.Wait)
		}
	}

	cancel()
	select {
	case <-done:
	case <-time.After(ctitest.Wait):
		t.Fatalf("the seat did not stop within %v", ctitest.Wait)
	}
	expect(kindLoggedOut, "")
}
