package seatclient

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
)

// waitFor is how long a test waits for something that should happen.
const waitFor = 10 * time.Second

// shrink makes the client's timeouts short for the test.
func shrink(t *testing.T) {
	saved := [...]time.Duration{LoginTimeout, QuitTimeout}
	LoginTimeout, QuitTimeout = 500*time.Millisecond, time.Second
	t.Cleanup(func() { LoginTimeout, QuitTimeout = saved[0], saved[1] })
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// fakeServer is a seat server on 127.0.0.1 whose side of the protocol the
// test writes, line by line.
type fakeServer struct {
	t     *testing.T
	ln    net.Listener
	conns chan *fakeConn
	done  chan struct{}
	wg    sync.WaitGroup
}

func newFakeServer(t *testing.T, tlsConfig *tls.Config) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	fs := &fakeServer{t: t, ln: ln, conns: make(chan *fakeConn, 16), done: make(chan struct{})}
	fs.wg.Add(1)
	go func() {
		defer fs.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case fs.conns <- &fakeConn{t: t, c: c, br: bufio.NewReader(c)}:
			case <-fs.done:
				c.Close()
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(fs.done)
		ln.Close()
		fs.wg.Wait()
		close(fs.conns)
		for c := range fs.conns {
			c.c.Close()
		}
	})
	return fs
}

func (fs *fakeServer) addr() string { return fs.ln.Addr().String() }

// accept returns the next connection of the client.
func (fs *fakeServer) accept() *fakeConn {
	fs.t.Helper()
	select {
	case c := <-fs.conns:
		fs.t.Cleanup(func() { c.c.Close() })
		return c
	case <-time.After(waitFor):
		fs.t.Fatal("the client did not connect")
		return nil
	}
}

type fakeConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (fc *fakeConn) send(lines ...string) {
	fc.t.Helper()
	fc.c.SetWriteDeadline(time.Now().Add(waitFor))
	_, err := fc.c.Write([]byte(strings.Join(lines, "\n") + "\n"))
	require.NoError(fc.t, err)
}

// expect reads the client's next line and checks it against re.
func (fc *fakeConn) expect(re string) string {
	fc.t.Helper()
	fc.c.SetReadDeadline(time.Now().Add(waitFor))
	line, err := seatproto.ReadLine(fc.br, seatproto.MaxLineLen)
	require.NoError(fc.t, err, "waiting for a line matching %q", re)
	require.Regexp(fc.t, regexp.MustCompile(re), string(line))
	return string(line)
}

// expectNothing checks that the client sends nothing for a moment (the
// absence of a line can only be seen by waiting).
func (fc *fakeConn) expectNothing() {
	fc.t.Helper()
	fc.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	line, err := fc.br.ReadString('\n')
	var ne net.Error
	require.True(fc.t, errors.As(err, &ne) && ne.Timeout(), "unexpected %q (%v)", line, err)
	require.Empty(fc.t, line)
}

// expectClosed checks that the client closes the connection.
func (fc *fakeConn) expectClosed() {
	fc.t.Helper()
	fc.c.SetReadDeadline(time.Now().Add(waitFor))
	line, err := seatproto.ReadLine(fc.br, seatproto.MaxLineLen)
	require.Error(fc.t, err, "got %q instead of the end of the connection", line)
	var ne net.Error
	require.False(fc.t, errors.As(err, &ne) && ne.Timeout(), "the client did not close the connection")
}

// login plays the server's side of a login of alice with password alice
// and the given MAC ("" for none).
func (fc *fakeConn) login(mac string) {
	fc.t.Helper()
	fc.send("100 WELCOME")
	fc.expect(`^USER alice$`)
	fc.send("100 OK")
	fc.expect(`^PASS ` + md5hex("alice") + `$`)
	fc.send("102 OK")
	if mac != "" {
		fc.expect(`^MAC ` + mac + `$`)
		fc.send("100 OK")
	}
}

// recorder keeps the client's notes.
type recorder struct {
	mu    sync.Mutex
	notes []Note
	next  int
}

func (r *recorder) notify(n Note) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
}

// wait returns the next note (after those returned before) of kind k,
// passing over the others.
func (r *recorder) wait(t *testing.T, k NoteKind) Note {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		r.mu.Lock()
		for r.next < len(r.notes) {
			n := r.notes[r.next]
			r.next++
			if n.Kind == k {
				r.mu.Unlock()
				return n
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %v note", k)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// atLeast waits for n notes and returns them all.
func (r *recorder) atLeast(t *testing.T, n int) []Note {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if notes := r.all(); len(notes) >= n {
			return notes
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d notes", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) all() []Note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Note(nil), r.notes...)
}

// running is a client run by a test.
type running struct {
	c      *Client
	rec    *recorder
	cancel context.CancelFunc
	errc   chan error
}

func startClient(t *testing.T, cfg Config) *running {
	t.Helper()
	rec := &recorder{}
	cfg.Notify = rec.notify
	if cfg.User == "" {
		cfg.User = "alice"
	}
	if cfg.PasswordMD5 == "" {
		cfg.PasswordMD5 = md5hex("alice")
	}
	if cfg.RetryPause == 0 {
		cfg.RetryPause = 10 * time.Millisecond
	}
	c, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, rec: rec, cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.errc:
		case <-time.After(waitFor):
			t.Error("Run did not return")
		}
	})
	return r
}

// result waits for Run's error.
func (r *running) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.errc:
		r.errc <- err // for the cleanup
		return err
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestClientSession(t *testing.T) {
	shrink(t)
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr(), MAC: "00:11:22:33:44:01", Runner: &Runner{NoOpen: true}})
	sc := fs.accept()
	sc.send("100 WELCOME")
	sc.expect(`^USER alice$`)
	sc.send("100 OK")
	sc.expect(`^PASS ` + md5hex("alice") + `$`)
	// A fixed seat: the queue line and a re-popped event come before the
	// answer to MAC.
	sc.send("102 OK", "200 astcti-queue", `<event id="CallerId"><call><uniqueid>1.0</uniqueid><calleridnum>300</calleridnum></call></event>`)
	sc.expect(`^MAC 00:11:22:33:44:01$`)
	sc.send("100 OK")

	// The connection comes first, then the lines of the login in order.
	notes := cl.rec.atLeast(t, 3)
	conn := notes[0]
	assert.Equal(t, Note{Kind: NoteConnected, Addr: fs.addr(), User: "alice", MAC: "00:11:22:33:44:01"}, Note{Kind: conn.Kind, Addr: conn.Addr, User: conn.User, MAC: conn.MAC})
	assert.False(t, conn.Time.IsZero())
	st := cl.rec.wait(t, NoteStatus)
	assert.Equal(t, seatproto.InQueue("astcti-queue"), st.Status)
	assert.Empty(t, st.Command)
	ev := cl.rec.wait(t, NoteEvent)
	assert.Equal(t, "CallerId", ev.Event.ID)
	assert.Equal(t, []NoteKind{NoteConnected, NoteStatus, NoteEvent}, []NoteKind{notes[0].Kind, notes[1].Kind, notes[2].Kind})

	sc.send(strings.TrimSuffix(string(seatproto.AppendEvent(nil, linkEvent)), "\n"))
	ev = cl.rec.wait(t, NoteEvent)
	assert.Equal(t, linkEvent, ev.Event)
	act := cl.rec.wait(t, NoteAction)
	assert.Equal(t, &ActionResult{UniqueID: "1700000000.12", Type: "browser", URL: linkEvent.Action.Application, Outcome: Printed}, act.Action)

	// Commands are paired with their answers; 200 lines and events between
	// them answer nothing. A PAUSE waits for the previous one's answer.
	ctx := context.Background()
	require.NoError(t, cl.c.Send(ctx, seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: "lunch break"}))
	sc.expect(`^PAUSE IN lunch break$`)
	require.NoError(t, cl.c.Send(ctx, seatproto.Command{Verb: seatproto.VerbOrig, Exten: "200", Context: "from-operators", Priority: "1"}))
	sc.expect(`^ORIG 200 from-operators 1$`)
	unpaused := make(chan error, 1)
	go func() { unpaused <- cl.c.Send(ctx, seatproto.Command{Verb: seatproto.VerbPauseOut}) }()
	sc.send("301 PAUSE PENDING", "201 astcti-queue", "100 OK")
	sc.expectNothing()
	sc.send("300 OK")
	sc.expect(`^PAUSE OUT$`)
	require.NoError(t, <-unpaused)
	sc.send("300 OK")
	for _, want := range []struct {
		line, cmd string
	}{
		{"301 PAUSE PENDING", "PAUSE IN lunch break"},
		{"201 astcti-queue", ""},
		{"100 OK", "ORIG 200 from-operators 1"},
		{"300 OK", "PAUSE IN lunch break"},
		{"300 OK", "PAUSE OUT"},
	} {
		n := cl.rec.wait(t, NoteStatus)
		assert.Equal(t, want.line, n.Status.String())
		assert.Equal(t, want.cmd, n.Command, "the command %q answers", want.line)
		assert.False(t, n.Keepalive)
	}

	// Stopping lets the commands sent get their answers, then sends QUIT
	// and waits for 900.
	require.NoError(t, cl.c.Send(ctx, seatproto.Command{Verb: seatproto.VerbPauseIn}))
	sc.expect(`^PAUSE IN$`)
	cl.cancel()
	sc.send("301 PAUSE PENDING")
	sc.expectNothing()
	sc.send("300 OK")
	sc.expect(`^QUIT$`)
	sc.send("900 OK")
	require.NoError(t, cl.result(t))
	for _, want := range []seatproto.Status{seatproto.PausePending(), seatproto.PauseOK()} {
		n := cl.rec.wait(t, NoteStatus)
		assert.Equal(t, want, n.Status)
		assert.Equal(t, "PAUSE IN", n.Command)
	}
	bye := cl.rec.wait(t, NoteStatus)
	assert.Equal(t, "QUIT", bye.Command)
	assert.Equal(t, seatproto.Bye(), bye.Status)
	sc.expectClosed()
	assert.ErrorIs(t, cl.c.Send(context.Background(), seatproto.Command{Verb: seatproto.VerbNoop}), ErrStopped)
}

func TestClientKeepalive(t *testing.T) {
	shrink(t)
	LoginTimeout = 300 * time.Millisecond // the read timeout is 2 × keepalive + LoginTimeout
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr(), Keepalive: 100 * time.Millisecond})
	sc := fs.accept()
	sc.login("")
	cl.rec.wait(t, NoteConnected)
	for range 3 {
		sc.expect(`^NOOP$`)
		sc.send("100 OK")
		n := cl.rec.wait(t, NoteStatus)
		assert.True(t, n.Keepalive, "the answer to the client's NOOP is marked")
		assert.Equal(t, "NOOP", n.Command)
	}
	// A server that answers nothing is given up, and the client reconnects.
	start := time.Now()
	n := cl.rec.wait(t, NoteDisconnected)
	assert.ErrorContains(t, n.Err, "timeout")
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	sc2 := fs.accept()
	sc2.login("")
	cl.rec.wait(t, NoteConnected)
}

func TestClientReconnect(t *testing.T) {
	shrink(t)
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr(), MAC: "00:11:22:33:44:01", Runner: &Runner{NoOpen: true}})
	link := strings.TrimSuffix(string(seatproto.AppendEvent(nil, linkEvent)), "\n")

	sc := fs.accept()
	sc.login("00:11:22:33:44:01")
	sc.send(link)
	assert.Equal(t, Printed, cl.rec.wait(t, NoteAction).Action.Outcome)

	// The connection drops: the client logs in again, and the live call's
	// Link, re-popped by the server, does not pop the screen twice.
	sc.c.Close()
	n := cl.rec.wait(t, NoteDisconnected)
	assert.ErrorContains(t, n.Err, "closed the connection")
	assert.Zero(t, n.Attempt)
	sc = fs.accept()
	sc.login("00:11:22:33:44:01")
	sc.send(link)
	assert.Equal(t, Skipped, cl.rec.wait(t, NoteAction).Action.Outcome)

	// The server stops (900 OK server shutdown): the client comes back.
	sc.send("900 OK server shutdown")
	n = cl.rec.wait(t, NoteDisconnected)
	var ce *ClosedError
	require.ErrorAs(t, n.Err, &ce)
	assert.Equal(t, seatproto.ServerShutdown(), ce.Status)
	sc.expectClosed()

	// Attempts that fail while the server restarts are counted, and do not
	// end the client even with Retries (that is for the start only).
	for i := 1; i <= 2; i++ {
		sc = fs.accept()
		sc.c.Close()
		n = cl.rec.wait(t, NoteDisconnected)
		assert.Equal(t, i, n.Attempt)
	}
	sc = fs.accept()
	sc.login("00:11:22:33:44:01")
	cl.rec.wait(t, NoteConnected)
}

func TestClientRefused(t *testing.T) {
	tests := []struct {
		name      string
		server    func(sc *fakeConn)
		sentinel  error
		verb      seatproto.Verb
		reason    string
		reconnect bool // refused on a reconnection
	}{
		{"wrong password", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("100 OK")
			sc.expect(`^PASS `)
			sc.send("101 KO authentication failed")
		}, ErrLoginRefused, seatproto.VerbPass, "authentication failed", false},
		{"too many failures", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("100 OK")
			sc.expect(`^PASS `)
			sc.send("101 KO too many failed logins, try later")
			sc.c.Close()
		}, ErrLoginRefused, seatproto.VerbPass, "too many failed logins, try later", false},
		{"bad user", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("101 KO no")
		}, ErrLoginRefused, seatproto.VerbUser, "no", false},
		{"reason with control characters", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("101 KO no\x1b[2J\u202eway")
		}, ErrLoginRefused, seatproto.VerbUser, "no [2J way", false},
		{"unknown seat", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("100 OK")
			sc.expect(`^PASS `)
			sc.send("102 OK")
			sc.expect(`^MAC 00:00:00:00:00:99$`)
			sc.send("101 KO unknown seat")
		}, ErrSeatRefused, seatproto.VerbMAC, "unknown seat", false},
		{"seat in use after a reconnection", func(sc *fakeConn) {
			sc.send("100 WELCOME")
			sc.expect(`^USER alice$`)
			sc.send("100 OK")
			sc.expect(`^PASS `)
			sc.send("102 OK")
			sc.expect(`^MAC 00:00:00:00:00:99$`)
			sc.send("101 KO seat in use")
		}, ErrSeatRefused, seatproto.VerbMAC, "seat in use", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shrink(t)
			fs := newFakeServer(t, nil)
			cl := startClient(t, Config{Addr: fs.addr(), MAC: "00:00:00:00:00:99", Retries: 3})
			if tc.reconnect {
				sc := fs.accept()
				sc.login("00:00:00:00:00:99")
				sc.send("905 KO seat removed")
				cl.rec.wait(t, NoteDisconnected)
			}
			tc.server(fs.accept())
			err := cl.result(t)
			require.ErrorIs(t, err, tc.sentinel)
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.verb, re.Verb)
			assert.Equal(t, tc.reason, re.Reason)
			if tc.verb == seatproto.VerbMAC {
				assert.Equal(t, "00:00:00:00:00:99", re.MAC)
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	shrink(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cl := startClient(t, Config{Addr: addr, Retries: 3})
	err = cl.result(t)
	require.ErrorIs(t, err, ErrUnreachable)
	var ue *UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 3, ue.Attempts)
	assert.Equal(t, addr, ue.Addr)
	assert.ErrorContains(t, err, "connection refused")
	var attempts []int
	for _, n := range cl.rec.all() {
		attempts = append(attempts, n.Attempt)
	}
	assert.Equal(t, []int{1, 2}, attempts, "a note between attempts")
}

// TestClientUnreachableNoWelcome counts as failed an attempt that
// connects but never gets a welcome: a server that is not (yet) serving.
func TestClientUnreachableNoWelcome(t *testing.T) {
	shrink(t)
	LoginTimeout = 300 * time.Millisecond
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr(), Retries: 2})
	fs.accept()
	sc := fs.accept()
	sc.send("hello")
	err := cl.result(t)
	var ue *UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 2, ue.Attempts)
	assert.ErrorIs(t, err, ErrProtocol)
}

func TestClientReplaced(t *testing.T) {
	shrink(t)
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr()})
	sc := fs.accept()
	sc.login("")
	sc.send("999 KO replaced by a new login")
	err := cl.result(t)
	require.ErrorIs(t, err, ErrReplaced)
	n := cl.rec.wait(t, NoteStatus)
	assert.Equal(t, seatproto.Replaced(), n.Status)
	sc.expectClosed()
}

// TestClientStopWhileConnecting stops a client whose server accepts but
// never speaks: Run returns at once, with no error.
func TestClientStopWhileConnecting(t *testing.T) {
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr()})
	fs.accept()
	cl.cancel()
	require.NoError(t, cl.result(t))
}

// TestClientQuitUnanswered stops a client whose server does not answer
// QUIT: it leaves after QuitTimeout.
func TestClientQuitUnanswered(t *testing.T) {
	shrink(t)
	QuitTimeout = 50 * time.Millisecond
	fs := newFakeServer(t, nil)
	cl := startClient(t, Config{Addr: fs.addr()})
	sc := fs.accept()
	sc.login("")
	cl.rec.wait(t, NoteConnected)
	cl.cancel()
	sc.expect(`^QUIT$`)
	require.NoError(t, cl.result(t))
	sc.expectClosed()
}

func TestClientSend(t *testing.T) {
	shrink(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cl := startClient(t, Config{Addr: addr, RetryPause: time.Hour})
	ctx := context.Background()
	cl.rec.wait(t, NoteDisconnected)
	assert.ErrorIs(t, cl.c.Send(ctx, seatproto.Command{Verb: seatproto.VerbPauseOut}), ErrNotConnected)
	for _, cmd := range []seatproto.Command{
		{Verb: seatproto.VerbQuit},
		{Verb: seatproto.VerbUser, User: "bob"},
		{Verb: seatproto.VerbMAC, MAC: "00:11:22:33:44:55"},
		{Verb: seatproto.VerbOrig, Exten: "200\nQUIT", Context: "x", Priority: "1"},
		{Verb: seatproto.VerbPauseIn, Reason: "a\r\nQUIT"},
	} {
		assert.Error(t, cl.c.Send(ctx, cmd), "Send(%v)", cmd.Verb)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{Addr: "127.0.0.1:5039", User: "alice", PasswordMD5: md5hex("alice")}
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"no address", func(c *Config) { c.Addr = "" }},
		{"no port", func(c *Config) { c.Addr = "cti.example" }},
		{"user with a space", func(c *Config) { c.User = "alice smith" }},
		{"user with a newline", func(c *Config) { c.User = "alice\nQUIT" }},
		{"no user", func(c *Config) { c.User = "" }},
		{"password not a hash", func(c *Config) { c.PasswordMD5 = "alice" }},
		{"bad MAC", func(c *Config) { c.MAC = "00:11:22" }},
		{"negative retries", func(c *Config) { c.Retries = -1 }},
		{"negative keepalive", func(c *Config) { c.Keepalive = -time.Second }},
	}
	_, err := New(good)
	require.NoError(t, err)
	for _, tc := range tests {
		cfg := good
		tc.change(&cfg)
		_, err := New(cfg)
		assert.Error(t, err, "New with %s", tc.name)
	}
}

func TestAnswers(t *testing.T) {
	type sent struct {
		line      string
		keepalive bool
	}
	type got struct {
		line, command string
		keepalive     bool
	}
	tests := []struct {
		name    string
		sent    []sent
		replies []string
		want    []got
	}{
		{"in order", []sent{{"ORIG 200 x 1", false}, {"NOOP", true}}, []string{"100 OK", "100 OK"},
			[]got{{"100 OK", "ORIG 200 x 1", false}, {"100 OK", "NOOP", true}}},
		{"queue lines answer nothing", []sent{{"NOOP", true}}, []string{"200 q", "201 q", "100 OK"},
			[]got{{"200 q", "", false}, {"201 q", "", false}, {"100 OK", "NOOP", true}}},
		{"pause answered after later commands", []sent{{"PAUSE IN lunch", false}, {"ORIG 200 x 1", false}},
			[]string{"301 PAUSE PENDING", "100 OK", "300 OK"},
			[]got{{"301 PAUSE PENDING", "PAUSE IN lunch", false}, {"100 OK", "ORIG 200 x 1", false}, {"300 OK", "PAUSE IN lunch", false}}},
		{"pause out", []sent{{"PAUSE OUT", false}}, []string{"302 KO pbx unavailable"},
			[]got{{"302 KO pbx unavailable", "PAUSE OUT", false}}},
		{"a 101 with only a pause waiting", []sent{{"PAUSE IN", false}}, []string{"101 KO too many requests"},
			[]got{{"101 KO too many requests", "PAUSE IN", false}}},
		{"a 30x with no pause waiting", []sent{{"NOOP", true}}, []string{"300 OK", "100 OK"},
			[]got{{"300 OK", "", false}, {"100 OK", "NOOP", true}}},
		{"nothing waiting", nil, []string{"100 OK"}, []got{{"100 OK", "", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a answers
			for _, s := range tc.sent {
				a.add([]byte(s.line+"\n"), s.keepalive)
			}
			for i, r := range tc.replies {
				st, err := seatproto.ParseStatus([]byte(r))
				require.NoError(t, err)
				n := a.match(st)
				assert.Equal(t, tc.want[i], got{n.Status.String(), n.Command, n.Keepalive}, "match(%q)", r)
			}
			assert.True(t, a.idle())
			assert.Empty(t, a.pauses)
		})
	}
}

func TestAnswersBusy(t *testing.T) {
	var a answers
	a.add([]byte("ORIG 200 x 1\n"), false)
	assert.False(t, a.idle())
	assert.True(t, a.busy([]byte("ORIG 201 x 1\n")))
	assert.False(t, a.busy([]byte("PAUSE IN\n")))
	assert.True(t, a.busy([]byte("NOOP\n")), "the server would answer it before the ORIG")
	a.add([]byte("PAUSE IN\n"), false)
	assert.True(t, a.busy([]byte("PAUSE OUT\n")))
	a.match(seatproto.OK())
	assert.False(t, a.busy([]byte("ORIG 201 x 1\n")), "the first ORIG was answered")
	assert.False(t, a.busy([]byte("NOOP\n")))
	a.add([]byte("NOOP\n"), true)
	a.match(seatproto.OK())
	assert.True(t, a.idle())
	assert.False(t, a.empty())
	a.match(seatproto.PauseOK())
	assert.True(t, a.empty())
}

func TestBackoff(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	for round := range 2 {
		want := []time.Duration{100, 200, 400, 800, 1000, 1000}
		for i, w := range want {
			w *= time.Millisecond
			d := b.next()
			assert.True(t, d >= w*3/4 && d <= w, "round %d, pause %d: %v, want between %v and %v", round, i, d, w*3/4, w)
		}
		b.reset()
	}
}

func ExampleClient() {
	c, err := New(Config{
		Addr:        "cti.example:5039",
		User:        "alice",
		PasswordMD5: "6384e2b2184bcbf58eccf10ca7a6563c", // config.MD5Hex("alice")
		MAC:         "00:11:22:33:44:01",
		Runner:      &Runner{NoOpen: true},
		Notify:      func(n Note) { fmt.Println(FormatText(n)) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c // c.Run(ctx) runs until ctx is cancelled
	// Output:
}
