package fakeami

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// echoEngine is an Engine for server tests: it answers every action with
// Success and broadcasts one "Echo" event per action to every session.
type echoEngine struct {
	mu    sync.Mutex
	sinks map[*Sink]Sink
}

func (e *echoEngine) Attach(s Sink) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sinks == nil {
		e.sinks = map[*Sink]Sink{}
	}
	key := &s
	e.sinks[key] = s
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.sinks, key)
	}
}

func (e *echoEngine) Do(s Sink, a *ami.Frame) {
	s.Send(response(a.ActionID(), "Success", "done "+a.Action()))
	e.broadcast(&ami.Frame{Fields: []ami.Field{{Key: "Event", Value: "Echo"}, {Key: "Action", Value: a.Action()}}})
}

func (e *echoEngine) broadcast(f *ami.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sinks {
		s.Send(f)
	}
}

// startServer serves cfg on 127.0.0.1 and returns its address; the server
// is closed when the test ends.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Secret = "u", "s3cret"
	}
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, <-done)
	})
	return srv, ln.Addr().String()
}

// amiConn is a raw manager connection for tests.
type amiConn struct {
	t    *testing.T
	conn net.Conn
	r    *ami.Reader
	w    *ami.Writer
}

func dialAMI(t *testing.T, addr string) *amiConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &amiConn{t: t, conn: conn, r: ami.NewReader(conn), w: ami.NewWriter(conn)}
	_, err = c.r.ReadBanner()
	require.NoError(t, err)
	return c
}

func (c *amiConn) send(f *ami.Frame) {
	c.t.Helper()
	require.NoError(c.t, c.w.WriteFrame(f))
	require.NoError(c.t, c.w.Flush())
}

func (c *amiConn) next() (*ami.Frame, error) {
	m, err := c.r.Next()
	if err != nil {
		return nil, err
	}
	return m.Frame(), nil
}

func (c *amiConn) expect() *ami.Frame {
	c.t.Helper()
	f, err := c.next()
	require.NoError(c.t, err)
	return f
}

func (c *amiConn) login(kv ...string) *ami.Frame {
	c.t.Helper()
	c.send(ami.NewAction("Login", append([]string{"ActionID", "l1", "Username", "u", "Secret", "s3cret"}, kv...)...))
	return c.expect()
}

func TestServerLogin(t *testing.T) {
	defer func(d time.Duration) { badLoginDelay = d }(badLoginDelay)
	badLoginDelay = 10 * time.Millisecond
	md5Key := func(challenge string) string {
		sum := md5.Sum([]byte(challenge + "s3cret"))
		return hex.EncodeToString(sum[:])
	}
	tests := []struct {
		name    string
		dialect Dialect
		run     func(c *amiConn) *ami.Frame // returns the login response
		want    string                      // its Message
		closed  bool                        // the server hangs up after it
	}{
		{"plain", DialectModern, func(c *amiConn) *ami.Frame { return c.login() }, "Authentication accepted", false},
		{"bad secret", DialectModern, func(c *amiConn) *ami.Frame {
			c.send(ami.NewAction("Login", "ActionID", "l1", "Username", "u", "Secret", "nope"))
			return c.expect()
		}, "Authentication failed", true},
		{"unknown user", Dialect14, func(c *amiConn) *ami.Frame {
			c.send(ami.NewAction("Login", "ActionID", "l1", "Username", "x", "Secret", "s3cret"))
			return c.expect()
		}, "Authentication failed", true},
		{"md5", Dialect14, func(c *amiConn) *ami.Frame {
			c.send(ami.NewAction("Challenge", "ActionID", "c1", "AuthType", "MD5"))
			ch := c.expect().Get("Challenge")
			require.NotEmpty(t, ch)
			c.send(ami.NewAction("Login", "ActionID", "l1", "Username", "u", "AuthType", "MD5", "Key", md5Key(ch)))
			return c.expect()
		}, "Authentication accepted", false},
		{"md5 wrong key", DialectModern, func(c *amiConn) *ami.Frame {
			c.send(ami.NewAction("Challenge", "ActionID", "c1", "AuthType", "MD5"))
			c.expect()
			c.send(ami.NewAction("Login", "ActionID", "l1", "Username", "u", "AuthType", "MD5", "Key", md5Key("other")))
			return c.expect()
		}, "Authentication failed", true},
		{"md5 without challenge", DialectModern, func(c *amiConn) *ami.Frame {
			c.send(ami.NewAction("Login", "ActionID", "l1", "Username", "u", "AuthType", "MD5", "Key", md5Key("")))
			return c.expect()
		}, "Authentication failed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startServer(t, Config{Dialect: tc.dialect, Engine: &echoEngine{}})
			c := dialAMI(t, addr)
			resp := tc.run(c)
			assert.Equal(t, "l1", resp.ActionID())
			assert.Equal(t, tc.want, resp.Get("Message"))
			if tc.closed {
				_, err := c.next()
				assert.ErrorIs(t, err, io.EOF, "the server hangs up after a failed login")
			}
		})
	}
}

func TestServerBeforeLogin(t *testing.T) {
	tests := []struct {
		dialect Dialect
		want    string
	}{
		{Dialect14, "Authentication Required"},
		{DialectModern, "Permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.dialect.String(), func(t *testing.T) {
			_, addr := startServer(t, Config{Dialect: tc.dialect, Engine: &echoEngine{}})
			c := dialAMI(t, addr)
			c.send(ami.NewAction("QueueStatus", "ActionID", "q1"))
			resp := c.expect()
			assert.Equal(t, "Error", resp.Response())
			assert.Equal(t, tc.want, resp.Get("Message"))
			c.send(ami.NewAction("Logoff", "ActionID", "bye"))
			assert.Equal(t, "Goodbye", c.expect().Response())
		})
	}
}

func TestServerSessionActions(t *testing.T) {
	eng := &echoEngine{}
	_, addr := startServer(t, Config{Dialect: DialectModern, Engine: eng})
	c := dialAMI(t, addr)
	require.Equal(t, "Success", c.login().Response())
	assert.Equal(t, "FullyBooted", c.expect().Event())
	assert.Equal(t, "SuccessfulAuth", c.expect().Event())

	c.send(ami.NewAction("QueueAdd", "ActionID", "a1"))
	resp := c.expect()
	assert.Equal(t, "done QueueAdd", resp.Get("Message"), "the engine answers first")
	assert.Equal(t, "Echo", c.expect().Event(), "then its events come")

	c.send(ami.NewAction("Events", "ActionID", "e1", "EventMask", "off"))
	assert.Equal(t, "Events Off", c.expect().Response())
	c.send(ami.NewAction("QueueAdd", "ActionID", "a2"))
	c.send(ami.NewAction("Ping", "ActionID", "p1"))
	assert.Equal(t, "a2", c.expect().ActionID())
	pong := c.expect()
	assert.Equal(t, "p1", pong.ActionID(), "no Echo event between: events are off")
	assert.Equal(t, "Pong", pong.Get("Ping"))

	c.send(ami.NewAction("Logoff", "ActionID", "bye"))
	assert.Equal(t, "Thanks for all the fish.", c.expect().Get("Message"))
	_, err := c.next()
	assert.ErrorIs(t, err, io.EOF)
}

// TestServerDropsBadClients shows that a client sending garbage, and a
// client that stops reading, lose their session while others go on.
func TestServerDropsBadClients(t *testing.T) {
	defer func(n int) { sessionQueue = n }(sessionQueue)
	sessionQueue = 128
	eng := &echoEngine{}
	_, addr := startServer(t, Config{Dialect: Dialect14, Engine: eng})

	good := dialAMI(t, addr)
	good.login()
	garbage := dialAMI(t, addr)
	_, err := garbage.conn.Write([]byte("\x00\x01binary\r\n\r\n"))
	require.NoError(t, err)
	_, err = garbage.next()
	assert.Error(t, err, "the garbage sender is hung up on")

	slow := dialAMI(t, addr)
	slow.login()
	// The login response is written before the session is attached to the
	// engine: wait for it, or the flood could start without the slow client.
	deadline := time.Now().Add(10 * time.Second)
	for !eng.attached(2) {
		require.True(t, time.Now().Before(deadline), "the slow client is never attached")
		time.Sleep(time.Millisecond)
	}
	// The slow client never reads again: its queue overflows and it is
	// dropped, while the good client keeps reading every event.
	flood := &ami.Frame{Fields: []ami.Field{{Key: "Event", Value: "Flood"}, {Key: "Payload", Value: strings.Repeat("x", 1000)}}}
	sent, read := 0, 0
	for sent < 100000 && eng.attached(2) {
		eng.broadcast(flood)
		sent++
		if sent%32 == 0 {
			drain(t, good, 32)
			read += 32
		}
	}
	require.False(t, eng.attached(2), "the slow client was not dropped after %d events", sent)
	require.True(t, eng.attached(1), "the good client stays")
	good.send(ami.NewAction("Ping", "ActionID", "p"))
	for {
		f := good.expect()
		if f.ActionID() == "p" {
			assert.Equal(t, "Pong", f.Response())
			break
		}
		require.Equal(t, "Flood", f.Get("Event"))
		read++
	}
	assert.Equal(t, sent, read, "the good client got every event")

	// The slow client finds its connection closed once it reads what the
	// kernel had buffered.
	for {
		if _, err := slow.next(); err != nil {
			var ne net.Error
			assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the slow client is hung up on, not left waiting: %v", err)
			break
		}
	}
}

func (e *echoEngine) attached(n int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sinks) >= n
}

func drain(t *testing.T, c *amiConn, n int) {
	t.Helper()
	for range n {
		c.expect()
	}
}

// TestReplayPlaysTrace checks that a replay sends every message of the
// recording after its login response, in order, and hangs up where the
// recorded PBX did.
func TestReplayPlaysTrace(t *testing.T) {
	tests := []struct {
		trace  string
		hangUp bool
	}{
		{"asterisk-1.4.44/c_queue_answered.ami", false},
		{"asterisk-22.10.1/n_pbx_restart.ami", true},
	}
	for _, tc := range tests {
		t.Run(tc.trace, func(t *testing.T) {
			tr, err := amitrace.Load(filepath.Join(amitrace.Root(), tc.trace))
			require.NoError(t, err)
			rp, err := NewReplay(tr, 0)
			require.NoError(t, err)
			want := recordedFrames(t, tr.Received)
			require.Greater(t, len(want), rp.Len())

			_, addr := startServer(t, Config{Replay: rp})
			c := dialAMI(t, addr)
			c.login()
			var got []*ami.Frame
			for len(got) < rp.Len() {
				got = append(got, c.expect())
			}
			assert.Equal(t, want[1:1+rp.Len()], got)
			c.send(ami.NewAction("Ping", "ActionID", "p"))
			f, err := c.next()
			if tc.hangUp {
				// The Ping may reach the closed socket before the client
				// reads its FIN: the kernel then answers it with a reset.
				// Either is the hang-up.
				assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "want a hang-up, got %v", err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "p", f.ActionID())
			}
		})
	}
}

func recordedFrames(t *testing.T, b []byte) []*ami.Frame { return readStream(t, b, true) }
