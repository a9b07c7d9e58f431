package seatconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
)

const linkLine = `<event id="Link"><call><uniqueid>1700000000.12</uniqueid><channel>SIP/200-0000000a</channel><calleridnum>200</calleridnum><calleridname>Demo 1</calleridname><context>astcti-service</context><exten>100</exten><linkedid>1700000000.12</linkedid><service>support</service><queue>astcti-queue</queue><appdata><data key="calldata">12345</data></appdata><state>Up</state></call><action type="application"><application>crm</application><parameters>--customer "12345"</parameters></action></event>`

// script is a scripted server on 127.0.0.1: for each line it reads, it
// writes the answer lines that reply gives (none to go on reading), and
// records what it read. It writes greeting first.
type script struct {
	addr string
	got  chan string // lines the server read
}

func startScript(t *testing.T, greeting string, reply func(line string) string) *script {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &script{addr: ln.Addr().String(), got: make(chan string, 16)}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		stop := context.AfterFunc(t.Context(), func() { nc.Close() })
		defer stop()
		io.WriteString(nc, greeting)
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			s.got <- line
			if _, err := io.WriteString(nc, reply(line)); err != nil {
				return
			}
		}
	}()
	return s
}

func dial(t *testing.T, addr string, opts Options) *Conn {
	t.Helper()
	c, err := Dial(t.Context(), addr, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// server answers a login the way astcti does, with a 200 line and a
// re-popped event after PASS.
func server(user, pass string) func(string) string {
	return func(line string) string {
		switch {
		case line == "USER "+user:
			return "100 OK\n"
		case line == "PASS "+PasswordMD5(pass):
			return "102 OK\n200 astcti-queue\n" + linkLine + "\n"
		case strings.HasPrefix(line, "PASS "), strings.HasPrefix(line, "RESUME ") && line != "RESUME tok-"+user:
			return "101 KO authentication failed\n"
		case line == "RESUME tok-"+user:
			return "102 OK\n"
		case line == "TOKEN":
			return "103 TOKEN tok-" + user + "\n"
		case line == "MAC 00:11:22:33:44:01":
			return "100 OK\n"
		case strings.HasPrefix(line, "MAC "):
			return "101 KO unknown seat\n"
		case line == "QUIT":
			return "900 OK\n"
		}
		return "101 KO unknown command\n"
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name      string
		greeting  string
		pass, mac string
		sent      []string
		answers   []string
		early     []string
		refused   seatproto.Verb
		closed    int
		protocol  bool
	}{
		{name: "with MAC", greeting: "100 WELCOME\n", pass: "alice", mac: "00-11-22-33-44-01",
			sent:    []string{"USER alice", "PASS " + PasswordMD5("alice"), "MAC 00:11:22:33:44:01"},
			answers: []string{"100 OK", "102 OK", "100 OK"}, early: []string{"200 astcti-queue", linkLine}},
		{name: "without MAC", greeting: "100 WELCOME\n", pass: "alice",
			sent:    []string{"USER alice", "PASS " + PasswordMD5("alice")},
			answers: []string{"100 OK", "102 OK"}},
		{name: "lines before the welcome are kept", greeting: "200 q0\n100 WELCOME\n", pass: "alice",
			answers: []string{"100 OK", "102 OK"}, early: []string{"200 q0"}},
		{name: "wrong password", greeting: "100 WELCOME\n", pass: "bad", refused: seatproto.VerbPass},
		{name: "unknown seat", greeting: "100 WELCOME\n", pass: "alice", mac: "00:00:00:00:00:99", refused: seatproto.VerbMAC},
		{name: "no welcome", greeting: "100 OK\n", pass: "alice", protocol: true},
		{name: "malformed status", greeting: "1x0 WELCOME\n", pass: "alice", protocol: true},
		{name: "session ended", greeting: "900 OK server shutdown\n", pass: "alice", closed: 900},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startScript(t, tc.greeting, server("alice", "alice"))
			c := dial(t, s.addr, Options{})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			res, err := c.Login(ctx, "alice", tc.pass, tc.mac)
			var re *RefusedError
			var ce *ClosedError
			switch {
			case tc.refused != 0:
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.refused, re.Verb)
				assert.Equal(t, seatproto.CodeKO, re.Status.Code)
				return
			case tc.closed != 0:
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.closed, ce.Status.Code)
				return
			case tc.protocol:
				require.ErrorIs(t, err, ErrProtocol)
				return
			}
			require.NoError(t, err)
			var answers, early []string
			for _, a := range res.Answers {
				answers = append(answers, a.String())
			}
			for _, m := range res.Early {
				early = append(early, string(m.Raw))
				assert.False(t, m.At.IsZero(), "At of %q", m.Raw)
			}
			assert.Equal(t, tc.answers, answers)
			if tc.early != nil || tc.mac != "" {
				assert.Equal(t, tc.early, early)
			}
			for _, want := range tc.sent {
				assert.Equal(t, want, <-s.got)
			}
		})
	}
}

// TestResume logs in with a resume token instead of the password, and
// tells a refused token apart, as a RESUME refusal.
func TestResume(t *testing.T) {
	s := startScript(t, "100 WELCOME\n", server("alice", "alice"))
	c := dial(t, s.addr, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := c.Resume(ctx, "alice", "tok-alice", "00:11:22:33:44:01")
	require.NoError(t, err)
	assert.Len(t, res.Answers, 3)
	for _, want := range []string{"USER alice", "RESUME tok-alice", "MAC 00:11:22:33:44:01"} {
		assert.Equal(t, want, <-s.got)
	}
	require.NoError(t, c.RequestToken())
	assert.Equal(t, "TOKEN", <-s.got)
	m, err := c.ReadMessage(time.Now().Add(5 * time.Second))
	require.NoError(t, err)
	assert.Equal(t, seatproto.ResumeToken("tok-alice"), m.Status)

	s = startScript(t, "100 WELCOME\n", server("alice", "alice"))
	c = dial(t, s.addr, Options{})
	_, err = c.Resume(ctx, "alice", "stale", "")
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, seatproto.VerbResume, re.Verb)
	_, err = c.Resume(ctx, "alice", "not a token", "")
	assert.Error(t, err, "refused before anything is sent")
}

func TestLoginCancelled(t *testing.T) {
	s := startScript(t, "", server("alice", "alice")) // no welcome: Login waits
	c := dial(t, s.addr, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Login(ctx, "alice", "alice", "")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestLoginRefusesBadValues(t *testing.T) {
	s := startScript(t, "100 WELCOME\n", server("alice", "alice"))
	c := dial(t, s.addr, Options{})
	_, err := c.Login(t.Context(), "al ice", "alice", "")
	require.ErrorIs(t, err, seatproto.ErrBadParam)
	select {
	case l := <-s.got:
		t.Fatalf("the server read %q, want nothing", l)
	default:
	}
}

func TestReadMessage(t *testing.T) {
	long := "200 " + strings.Repeat("q", 100)
	tests := []struct {
		name   string
		wire   string
		buf    int
		kind   Kind
		raw    string
		closed bool
		err    error
	}{
		{name: "status", wire: "200 astcti-queue\n", kind: KindStatus, raw: "200 astcti-queue"},
		{name: "crlf", wire: "300 OK\r\n", kind: KindStatus, raw: "300 OK"},
		{name: "event", wire: linkLine + "\n", kind: KindEvent, raw: linkLine},
		{name: "event longer than the buffer", wire: linkLine + "\r\n", buf: 16, kind: KindEvent, raw: linkLine},
		{name: "status longer than the buffer", wire: long + "\n", buf: 16, kind: KindStatus, raw: long},
		{name: "cr at the buffer's end", wire: "200 abcdefghijkl\r\n", buf: 16, kind: KindStatus, raw: "200 abcdefghijkl"},
		{name: "malformed status", wire: "hello\n", kind: KindMalformed, raw: "hello", err: seatproto.ErrBadStatus},
		{name: "malformed event", wire: "<event id=\n", kind: KindMalformed, raw: "<event id=", err: seatproto.ErrBadEvent},
		{name: "final", wire: "999 KO replaced by a new login\n", kind: KindStatus, raw: "999 KO replaced by a new login", closed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startScript(t, tc.wire+"100 OK\n", func(string) string { return "" })
			c := dial(t, s.addr, Options{ReadBuffer: tc.buf})
			before := time.Now()
			m, err := c.ReadMessage(time.Now().Add(5 * time.Second))
			if tc.closed {
				var ce *ClosedError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, m.Status, ce.Status)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.kind, m.Kind)
			assert.Equal(t, tc.raw, string(m.Raw))
			assert.False(t, m.At.Before(before), "At %v before the read began %v", m.At, before)
			if tc.err != nil {
				assert.ErrorIs(t, m.Err, tc.err)
			}
			if tc.kind == KindEvent {
				assert.Equal(t, "1700000000.12", m.Event.Call.UniqueID)
			}
			if !tc.closed { // the stream is still in step
				next, err := c.ReadMessage(time.Now().Add(5 * time.Second))
				require.NoError(t, err)
				assert.Equal(t, "100 OK", string(next.Raw))
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"end between lines", "100 OK\n", io.EOF},
		{"end in a line", "100 OK\n200 q", io.ErrUnexpectedEOF},
		{"end in a long line", "100 OK\n200 " + strings.Repeat("q", 40), io.ErrUnexpectedEOF},
		{"line too long", "100 OK\n" + strings.Repeat("x", seatproto.MaxServerLineLen+2) + "\n", seatproto.ErrLineTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			go func() {
				nc, err := ln.Accept()
				if err == nil {
					io.WriteString(nc, tc.wire)
					nc.Close()
				}
			}()
			c := dial(t, ln.Addr().String(), Options{ReadBuffer: 16})
			_, err = c.ReadMessage(time.Now().Add(5 * time.Second))
			require.NoError(t, err)
			_, err = c.ReadMessage(time.Now().Add(5 * time.Second))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestReadDeadline(t *testing.T) {
	s := startScript(t, "", func(string) string { return "" })
	c := dial(t, s.addr, Options{})
	_, err := c.ReadMessage(time.Now().Add(20 * time.Millisecond))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func TestSend(t *testing.T) {
	tests := []struct {
		name string
		send func(*Conn) error
		want string
		err  error
	}{
		{"noop", (*Conn).Noop, "NOOP", nil},
		{"pause in", func(c *Conn) error { return c.PauseIn("lunch break") }, "PAUSE IN lunch break", nil},
		{"pause in without reason", func(c *Conn) error { return c.PauseIn("") }, "PAUSE IN", nil},
		{"pause out", (*Conn).PauseOut, "PAUSE OUT", nil},
		{"orig", func(c *Conn) error { return c.Orig("201", "phones", "1") }, "ORIG 201 phones 1", nil},
		{"quit", (*Conn).Quit, "QUIT", nil},
		{"raw", func(c *Conn) error { return c.SendRaw("hello there") }, "hello there", nil},
		{"bad orig", func(c *Conn) error { return c.Orig("12a", "phones", "1") }, "", seatproto.ErrBadParam},
		{"line break in a reason", func(c *Conn) error { return c.PauseIn("a\nb") }, "", seatproto.ErrBadParam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startScript(t, "", func(string) string { return "" })
			c := dial(t, s.addr, Options{})
			err := tc.send(c)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.NoError(t, c.Noop())
				assert.Equal(t, "NOOP", <-s.got, "the refused command wrote nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, <-s.got)
		})
	}
}

// TestConcurrentSend checks that a writer and a keepalive writing at once
// never mix their lines.
func TestConcurrentSend(t *testing.T) {
	const n = 200
	s := startScript(t, "", func(string) string { return "" })
	s.got = make(chan string, 2*n)
	c := dial(t, s.addr, Options{})
	errs := make(chan error, 2)
	for _, f := range []func() error{c.Noop, func() error { return c.PauseIn("coffee") }} {
		go func() {
			for range n {
				if err := f(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	counts := map[string]int{}
	for range 2 * n {
		select {
		case l := <-s.got:
			counts[l]++
		case <-time.After(5 * time.Second):
			t.Fatalf("the server read only %v", counts)
		}
	}
	assert.Equal(t, map[string]int{"NOOP": n, "PAUSE IN coffee": n}, counts)
}

func TestClosedErrorUnwrapsNothing(t *testing.T) {
	err := error(&ClosedError{Status: seatproto.Bye()})
	assert.Equal(t, "seatconn: the server ended the session: 900 OK", err.Error())
	assert.Nil(t, errors.Unwrap(err))
}

// TestHandshake feeds a Handshake lines directly, as ctitest does.
func TestHandshake(t *testing.T) {
	tests := []struct {
		name  string
		mac   string
		lines []string
		sends []string // the command after each line, "" for none
		done  bool
		early int
		err   error
	}{
		{name: "with MAC", mac: "00:11:22:33:44:01",
			lines: []string{"100 WELCOME", "100 OK", "102 OK", "200 q", linkLine, "100 OK"},
			sends: []string{"USER alice", "PASS " + PasswordMD5("pw"), "MAC 00:11:22:33:44:01", "", "", ""},
			done:  true, early: 2},
		{name: "garbage event kept", lines: []string{"100 WELCOME", "<junk", "100 OK", "102 OK"},
			sends: []string{"USER alice", "", "PASS " + PasswordMD5("pw"), ""}, done: true, early: 1},
		{name: "pause line before the welcome", lines: []string{"300 OK", "100 WELCOME"},
			sends: []string{"", "USER alice"}, early: 1},
		{name: "refused", lines: []string{"100 WELCOME", "101 KO unknown command"}, sends: []string{"USER alice", ""},
			err: &RefusedError{}},
		{name: "replaced", lines: []string{"100 WELCOME", "999 KO replaced by a new login"}, sends: []string{"USER alice", ""},
			err: &ClosedError{}},
		{name: "wrong answer", lines: []string{"100 WELCOME", "102 OK"}, sends: []string{"USER alice", ""}, err: ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHandshake("alice", PasswordMD5("pw"), tc.mac)
			require.NoError(t, err)
			var done bool
			for i, l := range tc.lines {
				cmd, send, d, err := h.Step(Parse([]byte(l), time.Now()))
				if i == len(tc.lines)-1 && tc.err != nil {
					switch want := tc.err.(type) {
					case *RefusedError:
						assert.ErrorAs(t, err, &want)
					case *ClosedError:
						assert.ErrorAs(t, err, &want)
					default:
						assert.ErrorIs(t, err, tc.err)
					}
					return
				}
				require.NoError(t, err, "Step(%q)", l)
				got := ""
				if send {
					got = cmd.String()
				}
				assert.Equal(t, tc.sends[i], got, "Step(%q)", l)
				done = d
			}
			assert.Equal(t, tc.done, done)
			assert.Len(t, h.Result().Early, tc.early)
		})
	}
}
