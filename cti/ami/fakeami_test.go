package ami_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// fakePBX runs a fake Asterisk on addr ("127.0.0.1:0" for any port) whose
// clock starts at start, until stop is called.
func fakePBX(t *testing.T, dialect fakeami.Dialect, addr string, start time.Time) (got string, stop func()) {
	t.Helper()
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: dialect, Scenario: scenarios.Demo(), Clock: fakeami.NewManualClock(start)})
	require.NoError(t, err)
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: dialect, Username: "u", Secret: "s", Engine: pbx, StartTime: pbx.StartTime})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	return ln.Addr().String(), func() { srv.Close(); <-done }
}

func nextItem(t *testing.T, sub *ami.Subscription) ami.Item {
	t.Helper()
	select {
	case it, ok := <-sub.C():
		require.True(t, ok, "subscription ended: %v", sub.Err())
		return it
	case <-time.After(10 * time.Second):
		t.Fatal("no item within 10 s")
	}
	return ami.Item{}
}

// nextLink skips events and returns the next link change.
func nextLink(t *testing.T, sub *ami.Subscription) ami.Item {
	t.Helper()
	for {
		if it := nextItem(t, sub); it.Frame == nil {
			return it
		}
	}
}

// TestReconnectToFakePBX kills the fake PBX under the client and starts a
// restarted one on the same address: the client logs in again, tells its
// owner (link down, then up with the restart noticed), and leaves no
// goroutine behind (goleak in TestMain).
func TestReconnectToFakePBX(t *testing.T) {
	for _, dialect := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		t.Run(dialect.String(), func(t *testing.T) {
			boot := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
			addr, stop := fakePBX(t, dialect, "127.0.0.1:0", boot)
			c := ami.New(ami.Config{Addr: addr, Username: "u", Secret: "s", RetryPause: 20 * time.Millisecond})
			sub := c.Subscribe(1024)
			ctx, cancel := context.WithCancel(context.Background())
			runErr := make(chan error, 1)
			go func() { runErr <- c.Run(ctx) }()

			up := nextLink(t, sub)
			require.NotNil(t, up.Up)
			assert.Equal(t, 1, up.Up.Link)

			call, err := c.Do(ctx, ami.NewAction("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/201"))
			require.NoError(t, err)
			assert.Equal(t, "Added interface to queue", call.Reply.Get("Message"))

			stop() // the PBX goes away
			down := nextLink(t, sub)
			require.NotNil(t, down.Down, "link down told")
			_, err = c.Do(ctx, ami.NewAction("Ping"))
			assert.True(t, errors.Is(err, ami.ErrDisconnected), "actions fail while the link is down: %v", err)

			_, stop = fakePBX(t, dialect, addr, boot.Add(time.Hour)) // back, restarted
			defer stop()
			up = nextLink(t, sub)
			require.NotNil(t, up.Up, "logged in again")
			assert.Equal(t, 2, up.Up.Link)
			if dialect == fakeami.DialectModern {
				assert.Equal(t, ami.RestartYes, up.Up.Restarted, "CoreStatus start time changed")
			}
			call, err = c.Do(ctx, ami.NewAction("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/201"))
			require.NoError(t, err, "the restarted PBX lost its dynamic members")
			assert.Equal(t, "Added interface to queue", call.Reply.Get("Message"))

			cancel()
			assert.NoError(t, <-runErr)
		})
	}
}
