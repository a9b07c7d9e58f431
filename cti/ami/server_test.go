package ami

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if n := panics.Load(); n != 0 {
			fmt.Fprintf(os.Stderr, "ami: %d panics recovered in connection goroutines\n", n)
			code = 1
		}
		os.Exit(code)
	}))
}

// testServer is a small scriptable manager interface on 127.0.0.1:0. It
// answers Challenge, Login, Ping, CoreStatus and Logoff itself, the 1.4 way
// or the modern way, and hands every other action (and, first, every
// action at all) to the test's handler.
type testServer struct {
	t    testing.TB
	addr string

	mu        sync.Mutex // guards the fields below
	ln        net.Listener
	conns     []*serverConn
	dialect14 bool   // banner 1.0, Pong, no CoreStatus, no FullyBooted
	startTime string // CoreStartupDate and CoreStartupTime, "2026-11-25 21:39:35"
	handler   func(sc *serverConn, f *Frame) bool
	accepts   int

	accepted chan *serverConn
	wg       sync.WaitGroup
}

// serverConn is one client connection to the test server.
type serverConn struct {
	s       *testServer
	n       int // 1 for the first connection the server accepted
	nc      net.Conn
	wmu     sync.Mutex
	w       *Writer
	actions chan *Frame // every action received, in order
	login   chan *Frame // the Login action, once it succeeded
}

const (
	testUser   = "astcti"
	testSecret = "astcti-secret"
)

func newTestServer(t testing.TB, dialect14 bool) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		t:         t,
		addr:      ln.Addr().String(),
		ln:        ln,
		dialect14: dialect14,
		startTime: "2026-11-25 21:39:35",
		accepted:  make(chan *serverConn, 16),
	}
	s.wg.Add(1)
	go s.serve(ln)
	t.Cleanup(s.close)
	return s
}

// setHandler installs h; it sees every action first and returns true when
// it dealt with it.
func (s *testServer) setHandler(h func(sc *serverConn, f *Frame) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

func (s *testServer) setStartTime(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startTime = v
}

func (s *testServer) serve(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		sc := &serverConn{s: s, nc: nc, w: NewWriter(nc), actions: make(chan *Frame, 1024), login: make(chan *Frame, 1)}
		s.mu.Lock()
		s.accepts++
		sc.n = s.accepts
		s.conns = append(s.conns, sc)
		s.mu.Unlock()
		select {
		case s.accepted <- sc:
		default:
		}
		s.wg.Add(1)
		go sc.run()
	}
}

// stop closes the listener and every connection: the PBX is gone.
func (s *testServer) stop() {
	s.mu.Lock()
	ln, conns := s.ln, s.conns
	s.ln, s.conns = nil, nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, sc := range conns {
		sc.nc.Close()
	}
}

// restart listens again on the same address.
func (s *testServer) restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.serve(ln)
}

func (s *testServer) close() {
	s.stop()
	s.wg.Wait()
}

// nextConn waits for the next accepted connection.
func (s *testServer) nextConn(t testing.TB) *serverConn {
	t.Helper()
	select {
	case sc := <-s.accepted:
		return sc
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

func (sc *serverConn) run() {
	defer sc.s.wg.Done()
	defer sc.nc.Close()
	version := "11.0.0"
	if sc.s.dialect14 {
		version = "1.0"
	}
	sc.sendRaw([]byte(bannerPrefix + version + "\r\n"))
	r := NewReader(sc.nc)
	challenge := ""
	for {
		m, err := r.Next()
		if err != nil {
			return
		}
		f := m.Frame()
		select {
		case sc.actions <- f:
		default:
		}
		sc.s.mu.Lock()
		h, is14, start := sc.s.handler, sc.s.dialect14, sc.s.startTime
		sc.s.mu.Unlock()
		if h != nil && h(sc, f) {
			continue
		}
		id := f.ActionID()
		switch f.Action() {
		case "Challenge":
			challenge = "482917356"
			sc.send(NewAction("x").Del("Action").Add("Response", "Success").Add("ActionID", id).Add("Challenge", challenge))
		case "Login":
			ok := f.Get("Username") == testUser && f.Get("Secret") == testSecret
			if f.Get("AuthType") == "MD5" {
				sum := md5.Sum([]byte(challenge + testSecret))
				ok = f.Get("Username") == testUser && f.Get("Key") == hex.EncodeToString(sum[:])
			}
			if !ok {
				sc.send(response(id, "Error", "Authentication failed"))
				return
			}
			sc.login <- f
			sc.send(response(id, "Success", "Authentication accepted"))
			if !is14 {
				sc.send(event("FullyBooted", "Privilege", "system,all", "Uptime", "159", "Status", "Fully Booted"))
			}
		case "Ping":
			if is14 {
				sc.send(NewAction("x").Del("Action").Add("Response", "Pong").Add("ActionID", id))
			} else {
				sc.send(response(id, "Success", "").Del("Message").Add("Ping", "Pong").Add("Timestamp", "1795642768.000000"))
			}
		case "CoreStatus":
			if is14 {
				sc.send(response(id, "Error", "Invalid/unknown command"))
				continue
			}
			date, clock, _ := strings.Cut(start, " ")
			sc.send(response(id, "Success", "").Del("Message").Add("CoreStartupDate", date).Add("CoreStartupTime", clock))
		case "Logoff":
			sc.send(response(id, "Goodbye", "Thanks for all the fish."))
			return
		default:
			sc.send(response(id, "Error", "Invalid/unknown command"))
		}
	}
}

// send writes frames to the client at once.
func (sc *serverConn) send(frames ...*Frame) {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	for _, f := range frames {
		if err := sc.w.WriteFrame(f); err != nil {
			return
		}
	}
	sc.w.Flush()
}

// sendRaw writes bytes as they are.
func (sc *serverConn) sendRaw(b []byte) {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	sc.w.Flush()
	sc.nc.Write(b)
}

// nextAction waits for the next action named name the client sent.
func (sc *serverConn) nextAction(t testing.TB, name string) *Frame {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-sc.actions:
			if f.Action() == name {
				return f
			}
		case <-deadline:
			t.Fatalf("no %s action came", name)
			return nil
		}
	}
}

func response(id, kind, msg string) *Frame {
	f := &Frame{Fields: []Field{{"Response", kind}, {"ActionID", id}}}
	if msg != "" {
		f.Add("Message", msg)
	}
	return f
}

func event(name string, kv ...string) *Frame {
	f := NewAction("x", kv...)
	f.Fields[0] = Field{"Event", name}
	return f
}

// logRecorder is a slog.Handler that keeps every record, for tests that
// check what was logged.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
	attrs   []slog.Attr
	parent  *logRecorder
}

func (l *logRecorder) root() *logRecorder {
	if l.parent != nil {
		return l.parent.root()
	}
	return l
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(l.attrs...)
	root := l.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.records = append(root.records, r)
	return nil
}

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{attrs: append(append([]slog.Attr(nil), l.attrs...), as...), parent: l}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// find returns the records whose message is msg, as "key=value" strings of
// their attributes.
func (l *logRecorder) find(msg string) []map[string]string {
	root := l.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var out []map[string]string
	for _, r := range root.records {
		if r.Message != msg {
			continue
		}
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

// gateConn is a net.Conn whose writes wait while its gate is closed, to
// make the client's writer block.
type gateConn struct {
	net.Conn
	mu      sync.Mutex
	open    chan struct{}
	waiting atomic.Int32 // writes waiting at the gate
}

func (g *gateConn) Write(b []byte) (int, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	if open != nil {
		g.waiting.Add(1)
		<-open
		g.waiting.Add(-1)
	}
	return g.Conn.Write(b)
}

func (g *gateConn) Close() error {
	g.release()
	return g.Conn.Close()
}

func (g *gateConn) block() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		g.open = make(chan struct{})
	}
}

func (g *gateConn) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != nil {
		close(g.open)
		g.open = nil
	}
}

// errorsAs is errors.As for tests that only want the bool.
func errorsAs[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
