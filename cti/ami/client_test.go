package ami

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami/amitrace"
)

// waitFor bounds every wait of these tests.
const waitFor = 5 * time.Second

// harness runs a Client against a test server and watches its stream.
type harness struct {
	c      *Client
	sub    *Subscription
	log    *logRecorder
	runErr chan error
}

// startClient runs a client for cfg (user, secret and short pauses filled
// in) until the test ends.
func startClient(t *testing.T, cfg Config) *harness {
	t.Helper()
	rec := &logRecorder{}
	cfg.Logger = slog.New(rec)
	if cfg.Username == "" {
		cfg.Username, cfg.Secret = testUser, testSecret
	}
	if cfg.RetryPause == 0 {
		cfg.RetryPause = 10 * time.Millisecond
	}
	if cfg.ActionTimeout == 0 {
		cfg.ActionTimeout = 2 * time.Second
	}
	c := New(cfg)
	h := &harness{c: c, sub: c.Subscribe(0), log: rec, runErr: make(chan error, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.runErr <- c.Run(context.Background())
	}()
	t.Cleanup(func() {
		c.Close()
		wg.Wait()
	})
	return h
}

// next returns the next item of the stream.
func (h *harness) next(t *testing.T) Item {
	t.Helper()
	select {
	case it, ok := <-h.sub.C():
		require.True(t, ok, "subscription closed: %v", h.sub.Err())
		return it
	case <-time.After(waitFor):
		t.Fatal("no item came")
		return Item{}
	}
}

// waitUp skips events up to the next LinkUp; a LinkDown on the way fails
// the test unless allowDown.
func (h *harness) waitUp(t *testing.T) *LinkUp {
	t.Helper()
	for {
		it := h.next(t)
		if it.Up != nil {
			return it.Up
		}
		require.Nil(t, it.Down, "link down while waiting for up")
	}
}

// waitDown skips events up to the next LinkDown.
func (h *harness) waitDown(t *testing.T) *LinkDown {
	t.Helper()
	for {
		it := h.next(t)
		if it.Down != nil {
			return it.Down
		}
		require.Nil(t, it.Up, "link up while waiting for down")
	}
}

// waitEvent skips items up to the next event named name.
func (h *harness) waitEvent(t *testing.T, name string) *Frame {
	t.Helper()
	for {
		it := h.next(t)
		if it.Frame != nil && it.Frame.Event() == name {
			return it.Frame
		}
	}
}

// ping is a round trip through the link, to use as a barrier.
func (h *harness) ping(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, err := h.c.Do(ctx, NewAction("Ping"))
	require.NoError(t, err)
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name      string
		dialect14 bool
		md5       bool
		version   string
		start     time.Time
	}{
		{"plain secret", false, false, "11.0.0", time.Date(2026, 11, 25, 21, 39, 35, 0, time.UTC)},
		{"md5 challenge", false, true, "11.0.0", time.Date(2026, 11, 25, 21, 39, 35, 0, time.UTC)},
		{"asterisk 1.4", true, false, "1.0", time.Time{}},
		{"asterisk 1.4 md5", true, true, "1.0", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, tc.dialect14)
			h := startClient(t, Config{Addr: srv.addr, UseMD5Challenge: tc.md5})
			sc := srv.nextConn(t)
			up := h.waitUp(t)
			assert.Equal(t, &LinkUp{Link: 1, Attempt: 1, Version: tc.version, StartTime: tc.start, Restarted: RestartUnknown}, up)

			login := <-sc.login
			if tc.md5 {
				assert.Equal(t, "MD5", login.Get("AuthType"))
				assert.Len(t, login.Get("Key"), 32)
				assert.Empty(t, login.Values("Secret"), "the secret never crosses the wire")
			} else {
				assert.Equal(t, testSecret, login.Get("Secret"))
			}
			h.ping(t)
		})
	}
}

func TestLoginRefused(t *testing.T) {
	srv := newTestServer(t, false)
	h := startClient(t, Config{Addr: srv.addr, Username: "astcti", Secret: "wrong", Retries: 3})
	var err error
	select {
	case err = <-h.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not give up")
	}
	assert.ErrorIs(t, err, ErrRetriesExhausted)
	assert.ErrorIs(t, err, ErrAuth)
	assert.Contains(t, err.Error(), "3 connection attempts failed")

	attempts := h.log.find("ami: connection attempt failed")
	require.Len(t, attempts, 2, "one log line per attempt followed by a retry")
	assert.Equal(t, "1", attempts[0]["attempt"])
	assert.Contains(t, attempts[0]["err"], "refused: Authentication failed")
	assert.Len(t, h.log.find("ami: connection attempt failed, giving up"), 1)

	_, ok := <-h.sub.C()
	assert.False(t, ok, "subscription ends when Run returns")
	assert.ErrorIs(t, h.sub.Err(), ErrClosed)
}

func TestRetriesExhausted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	h := startClient(t, Config{Addr: addr, Retries: 3})
	select {
	case err = <-h.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not give up")
	}
	assert.ErrorIs(t, err, ErrRetriesExhausted)
	assert.ErrorContains(t, err, "dial tcp "+addr)
	got := h.log.find("ami: connection attempt failed")
	require.Len(t, got, 2, "Retries 3: two attempts retried, the third one given up")
	for i, rec := range got {
		assert.Equal(t, fmt.Sprint(i+1), rec["attempt"])
	}
	last := h.log.find("ami: connection attempt failed, giving up")
	require.Len(t, last, 1)
	assert.Equal(t, "3", last[0]["attempt"])
}

func TestActionCorrelation(t *testing.T) {
	srv := newTestServer(t, false)
	// Hold three "Test" actions, then answer them in reverse order with
	// events in between, the way responses and events interleave.
	var held []*Frame
	srv.setHandler(func(sc *serverConn, f *Frame) bool {
		if f.Action() != "Test" {
			return false
		}
		held = append(held, f)
		if len(held) == 3 {
			for i := 2; i >= 0; i-- {
				sc.send(event("Newchannel", "Uniqueid", fmt.Sprint(i)),
					response(held[i].ActionID(), "Success", "answer to "+held[i].Get("N")))
			}
		}
		return true
	})
	h := startClient(t, Config{Addr: srv.addr})
	h.waitUp(t)

	done := make(chan *Call, 3)
	var calls []*Call
	for i := range 3 {
		calls = append(calls, h.c.Go(NewAction("Test", "N", fmt.Sprint(i), "ActionID", "mine"), done))
	}
	for range 3 {
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Fatal("calls did not complete")
		}
	}
	ids := map[string]bool{}
	for i, call := range calls {
		require.NoError(t, call.Err)
		assert.Equal(t, "answer to "+fmt.Sprint(i), call.Reply.Get("Message"))
		assert.Equal(t, call.Action.ActionID(), call.Reply.ActionID())
		assert.NotEqual(t, "mine", call.Action.ActionID(), "the client sets its own ActionID")
		ids[call.Action.ActionID()] = true
	}
	assert.Len(t, ids, 3, "ActionIDs are unique")
	for _, want := range []string{"2", "1", "0"} {
		assert.Equal(t, want, h.waitEvent(t, "Newchannel").Get("Uniqueid"), "events in arrival order")
	}
}

func TestActionErrors(t *testing.T) {
	srv := newTestServer(t, false)
	srv.setHandler(func(sc *serverConn, f *Frame) bool {
		switch f.Action() {
		case "Hang":
			return true // never answered
		case "QueueAdd":
			sc.send(response(f.ActionID(), "Error", "Unable to add interface: Already there"))
			return true
		}
		return false
	})
	h := startClient(t, Config{Addr: srv.addr, ActionTimeout: 100 * time.Millisecond})
	h.waitUp(t)
	ctx := context.Background()

	tests := []struct {
		name   string
		action *Frame
		want   error
	}{
		{"no answer", NewAction("Hang"), ErrActionTimeout},
		{"error response", NewAction("QueueAdd", "Queue", "q", "Interface", "SIP/201"), ErrActionFailed},
		{"unknown action", NewAction("NoSuchAction"), ErrActionFailed},
		{"injection", NewAction("QueuePause", "Reason", "lunch\r\nAction: Originate"), ErrUnsafeField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call, err := h.c.Do(ctx, tc.action)
			assert.ErrorIs(t, err, tc.want)
			if errors.Is(err, ErrActionFailed) {
				require.NotNil(t, call.Reply)
				var ae *ActionError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, call.Reply.Get("Message"), ae.Message)
			}
		})
	}
	h.ping(t) // the link survived all of them
	assert.Nil(t, h.sub.Err())
}

// traceFrames returns the frames of a recorded stream that carry the
// ActionID of the first action named action in the recording.
func traceFrames(t *testing.T, name, action string) []*Frame {
	t.Helper()
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), name))
	require.NoError(t, err)
	_, actions := readAll(t, bytes.NewReader(tr.Sent), false)
	id := ""
	for _, a := range actions {
		if a.Action() == action {
			id = a.ActionID()
			break
		}
	}
	require.NotEmpty(t, id, "no %s in %s", action, name)
	_, frames := readAll(t, bytes.NewReader(tr.Received), true)
	var out []*Frame
	for _, f := range frames {
		if f.ActionID() == id {
			out = append(out, f)
		}
	}
	return out
}

func TestListActions(t *testing.T) {
	tests := []struct {
		name      string
		trace     string
		action    string
		dialect14 bool
		items     []string
		complete  string
	}{
		{"1.4 QueueStatus, no EventList", "asterisk-1.4.44/e_queue_pause_unpause_remove.ami", "QueueStatus", true,
			[]string{"QueueParams", "QueueMember"}, "QueueStatusComplete"},
		{"modern QueueStatus", "asterisk-22.10.1/e_queue_pause_unpause_remove.ami", "QueueStatus", false,
			[]string{"QueueParams", "QueueMember"}, "QueueStatusComplete"},
		{"modern CoreShowChannels", "asterisk-22.10.1/i_resync_midcall.ami", "CoreShowChannels", false,
			[]string{"CoreShowChannel", "CoreShowChannel", "CoreShowChannel", "CoreShowChannel"}, "CoreShowChannelsComplete"},
		{"modern Status", "asterisk-22.10.1/i_resync_midcall.ami", "Status", false,
			[]string{"Status", "Status", "Status", "Status"}, "StatusComplete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recorded := traceFrames(t, tc.trace, tc.action)
			require.Len(t, recorded, len(tc.items)+2, "response, items, complete")
			srv := newTestServer(t, tc.dialect14)
			srv.setHandler(func(sc *serverConn, f *Frame) bool {
				if f.Action() != tc.action {
					return false
				}
				// Replay the recording with the client's ActionID, an
				// unrelated event after every frame.
				for i, rf := range recorded {
					out := rf.Clone().Set("ActionID", f.ActionID())
					sc.send(out, event("Newexten", "Uniqueid", fmt.Sprint(i)))
				}
				return true
			})
			h := startClient(t, Config{Addr: srv.addr})
			h.waitUp(t)
			call, err := h.c.Do(context.Background(), NewAction(tc.action))
			require.NoError(t, err)
			assert.Equal(t, "Success", call.Reply.Response())
			var names []string
			for _, it := range call.Items {
				names = append(names, it.Event())
			}
			assert.Equal(t, tc.items, names)
			require.NotNil(t, call.Complete)
			assert.Equal(t, tc.complete, call.Complete.Event())

			// The subscribers got the other events, and none of the list.
			for i := 0; i < len(recorded); {
				it := h.next(t)
				require.NotNil(t, it.Frame)
				require.NotEqual(t, call.Action.ActionID(), it.Frame.ActionID(), "list events are not given to subscribers")
				if it.Frame.Event() == "Newexten" {
					assert.Equal(t, fmt.Sprint(i), it.Frame.Get("Uniqueid"))
					i++
				}
			}
		})
	}
}

func TestSlowSubscriber(t *testing.T) {
	srv := newTestServer(t, false)
	h := startClient(t, Config{Addr: srv.addr})
	slow := h.c.Subscribe(4)
	sc := srv.nextConn(t)
	h.waitUp(t)
	h.waitEvent(t, "FullyBooted")

	const n = 200
	for i := range n {
		sc.send(event("Newstate", "Uniqueid", fmt.Sprint(i)))
	}
	h.ping(t) // the reader is not stalled by the slow subscriber
	for i := range n {
		assert.Equal(t, fmt.Sprint(i), h.waitEvent(t, "Newstate").Get("Uniqueid"), "fast subscriber gets every event in order")
	}

	var got int
	for range slow.C() {
		got++
	}
	assert.LessOrEqual(t, got, 4, "the slow subscriber had only its buffer")
	assert.ErrorIs(t, slow.Err(), ErrSlowSubscriber)
	assert.Len(t, h.log.find("ami: subscriber too slow, subscription closed"), 1)
	assert.Nil(t, h.sub.Err())
}

func TestEventsDuringSetupFollowLinkUp(t *testing.T) {
	srv := newTestServer(t, false)
	srv.setHandler(func(sc *serverConn, f *Frame) bool {
		if f.Action() == "CoreStatus" {
			// Events before the answer that ends the setup.
			sc.send(event("Newchannel", "Uniqueid", "1"), event("Hangup", "Uniqueid", "1"))
		}
		return false
	})
	h := startClient(t, Config{Addr: srv.addr})
	first := h.next(t)
	require.NotNil(t, first.Up, "LinkUp comes before the connection's events")
	for _, want := range []string{"FullyBooted", "Newchannel", "Hangup"} {
		it := h.next(t)
		require.NotNil(t, it.Frame)
		assert.Equal(t, want, it.Frame.Event())
	}
}

func TestPingTimeout(t *testing.T) {
	srv := newTestServer(t, false)
	srv.setHandler(func(sc *serverConn, f *Frame) bool {
		return f.Action() == "Ping" && sc.n == 1 // the first connection goes deaf to Ping
	})
	h := startClient(t, Config{Addr: srv.addr, PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	h.waitUp(t)
	down := h.waitDown(t)
	assert.ErrorIs(t, down.Err, ErrPingTimeout)
	up := h.waitUp(t)
	assert.Equal(t, 2, up.Link)
	assert.Equal(t, RestartNo, up.Restarted)
}

func TestNoPingWhenDisabled(t *testing.T) {
	srv := newTestServer(t, false)
	h := startClient(t, Config{Addr: srv.addr, PingInterval: -1})
	sc := srv.nextConn(t)
	h.waitUp(t)
	h.ping(t)
	sc.nextAction(t, "Ping") // ours
	select {
	case f := <-sc.actions:
		t.Fatalf("unexpected action %s", f.Action())
	case <-time.After(100 * time.Millisecond):
	}
}

func TestReconnect(t *testing.T) {
	tests := []struct {
		name      string
		dialect14 bool
		newStart  string
		shutdown  bool
		want      Restart
	}{
		{"pbx restarted", false, "2026-11-25 22:01:02", false, RestartYes},
		{"same pbx", false, "2026-11-25 21:39:35", false, RestartNo},
		{"1.4 without shutdown", true, "", false, RestartUnknown},
		{"1.4 after shutdown event", true, "", true, RestartYes},
		{"shutdown within the same second", false, "2026-11-25 21:39:35", true, RestartYes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, tc.dialect14)
			srv.setHandler(func(sc *serverConn, f *Frame) bool {
				return f.Action() == "Hang"
			})
			h := startClient(t, Config{Addr: srv.addr, ActionTimeout: waitFor})
			sc := srv.nextConn(t)
			h.waitUp(t)
			pending := h.c.Go(NewAction("Hang"), nil)
			sc.nextAction(t, "Hang")
			if tc.shutdown {
				sc.send(event("Shutdown", "Shutdown", "Cleanly", "Restart", "True"))
				h.waitEvent(t, "Shutdown")
			}

			srv.stop() // the PBX goes away under the client
			select {
			case <-pending.Done:
				assert.ErrorIs(t, pending.Err, ErrDisconnected)
			case <-time.After(waitFor):
				t.Fatal("pending action not aborted")
			}
			down := h.waitDown(t)
			assert.Error(t, down.Err)
			_, err := h.c.Do(context.Background(), NewAction("Ping"))
			assert.ErrorIs(t, err, ErrDisconnected, "actions fail at once while the link is down")

			// Let a few attempts fail before the PBX is back.
			require.Eventually(t, func() bool {
				return len(h.log.find("ami: connection attempt failed")) >= 2
			}, waitFor, 5*time.Millisecond)
			if tc.newStart != "" {
				srv.setStartTime(tc.newStart)
			}
			srv.restart()
			up := h.waitUp(t)
			assert.Equal(t, 2, up.Link)
			assert.GreaterOrEqual(t, up.Attempt, 3)
			assert.Equal(t, tc.want, up.Restarted, "restarted")
			h.ping(t)
		})
	}
}

func TestHostileStream(t *testing.T) {
	tests := []struct {
		name  string
		bytes string
		want  error
	}{
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n\r\n", ErrMalformed},
		{"line without colon", "Event: Newchannel\r\nthis is not a header\r\n\r\n", ErrMalformed},
		{"endless line", "Event: " + strings.Repeat("A", DefaultMaxLine+10), ErrLineTooLong},
		{"endless message", strings.Repeat("Variable: x=1\r\n", DefaultMaxPacket/15+10), ErrPacketTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, false)
			h := startClient(t, Config{Addr: srv.addr})
			sc := srv.nextConn(t)
			h.waitUp(t)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc.sendRaw([]byte(tc.bytes)) // fails once the client closes
			}()
			t.Cleanup(wg.Wait)
			down := h.waitDown(t)
			assert.ErrorIs(t, down.Err, tc.want)
			assert.True(t, errorsAs[*ProtocolError](down.Err), "%v is a *ProtocolError", down.Err)
			assert.NotEmpty(t, h.log.find("ami: protocol error, closing the connection"))
			up := h.waitUp(t)
			assert.Equal(t, 2, up.Link, "reconnected")
			h.ping(t)
		})
	}
}

func TestNotAnAsterisk(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			nc.Close()
		}
	}()
	defer wg.Wait()
	defer ln.Close()
	h := startClient(t, Config{Addr: ln.Addr().String(), Retries: 1})
	select {
	case err = <-h.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not give up")
	}
	assert.ErrorIs(t, err, ErrRetriesExhausted)
	assert.ErrorIs(t, err, ErrBadBanner)
}

func TestShutdown(t *testing.T) {
	srv := newTestServer(t, false)
	h := startClient(t, Config{Addr: srv.addr})
	sc := srv.nextConn(t)
	h.waitUp(t)
	require.NoError(t, h.c.Close())
	assert.NoError(t, <-h.runErr)
	sc.nextAction(t, "Logoff")
	var items []Item
	for it := range h.sub.C() {
		items = append(items, it)
	}
	require.NotEmpty(t, items)
	last := items[len(items)-1]
	require.NotNil(t, last.Down, "LinkDown is the last item")
	assert.ErrorIs(t, last.Down.Err, ErrClosed)
	assert.ErrorIs(t, h.sub.Err(), ErrClosed)
	assert.NoError(t, h.c.Close(), "Close is idempotent")
	call := h.c.Go(NewAction("Ping"), nil)
	assert.ErrorIs(t, (<-call.Done).Err, ErrDisconnected)
	assert.ErrorIs(t, h.c.Subscribe(1).Err(), ErrClosed)
}

func TestRunContext(t *testing.T) {
	srv := newTestServer(t, false)
	c := New(Config{Addr: srv.addr, Username: testUser, Secret: testSecret})
	sub := c.Subscribe(0)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	it := <-sub.C()
	require.NotNil(t, it.Up)
	cancel()
	select {
	case err := <-runErr:
		assert.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	assert.ErrorIs(t, c.Run(context.Background()), ErrClosed, "Run runs once")
}

func TestGoNeverBlocks(t *testing.T) {
	old := sendQueue
	sendQueue = 2
	t.Cleanup(func() { sendQueue = old })

	srv := newTestServer(t, false)
	var gate *gateConn
	var mu sync.Mutex
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		gate = &gateConn{Conn: nc}
		return gate, nil
	}
	h := startClient(t, Config{Addr: srv.addr, Dial: dial, PingInterval: -1})
	h.waitUp(t)
	mu.Lock()
	g := gate
	mu.Unlock()
	g.block() // the writer will hang in its next write

	done := make(chan *Call, 10)
	first := h.c.Go(NewAction("Ping"), done)
	require.Eventually(t, func() bool { return g.waiting.Load() == 1 }, waitFor, time.Millisecond,
		"the writer hangs in its write")
	start := time.Now()
	var calls []*Call
	for range 3 {
		calls = append(calls, h.c.Go(NewAction("Ping"), done))
	}
	assert.Less(t, time.Since(start), time.Second)
	select {
	case call := <-done:
		assert.Same(t, calls[2], call)
		assert.ErrorIs(t, call.Err, ErrQueueFull)
	case <-time.After(waitFor):
		t.Fatal("a full queue did not fail the call")
	}
	g.release()
	for range 3 {
		call := <-done
		assert.NoError(t, call.Err)
	}
	assert.NoError(t, first.Err)
}

func TestGoPanicsOnUnbufferedDone(t *testing.T) {
	c := New(Config{Addr: "127.0.0.1:1"})
	assert.Panics(t, func() { c.Go(NewAction("Ping"), make(chan *Call)) })
	assert.ErrorIs(t, (<-c.Go(NewAction("Ping"), nil).Done).Err, ErrDisconnected)
	c.Close()
}

func TestRetryPause(t *testing.T) {
	c := New(Config{RetryPause: 5 * time.Second})
	tests := []struct {
		failures int
		max      time.Duration
	}{
		{0, 5 * time.Second},
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{10, time.Minute},
	}
	for _, tc := range tests {
		got := c.retryPause(tc.failures)
		if got > tc.max || got < tc.max-tc.max/4 {
			t.Errorf("retryPause(%d) = %v, want %v less up to a quarter", tc.failures, got, tc.max)
		}
	}
}
