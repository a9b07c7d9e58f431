package ctitest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
)

// Seat is a seat client on a real socket (a seatconn.Conn). A reader
// goroutine keeps every line the server sends (Lines, Events); Expect
// waits for lines from a cursor. Its methods fail the test they were made
// for; call them from the test's goroutine.
type Seat struct {
	t    testing.TB
	conn *seatconn.Conn

	mu      sync.Mutex
	lines   []string
	err     error         // why reading ended, once it has
	changed chan struct{} // closed and replaced when lines or err change
	paused  bool
	resume  chan struct{} // closed to let a paused reader go on
	cursor  int           // test goroutine only

	readerDone chan struct{}
	closeOnce  sync.Once
}

// DialSeat connects a seat to the server at addr. The connection is closed
// when the test ends.
func DialSeat(t testing.TB, addr string) *Seat {
	t.Helper()
	conn, err := seatconn.Dial(t.Context(), addr, seatconn.Options{DialTimeout: Wait, WriteTimeout: Wait})
	if err != nil {
		t.Fatalf("ctitest: dial %s: %v", addr, err)
	}
	return newSeat(t, conn)
}

// DialSeatFrom connects a seat to the server at addr from the local IP
// address from (another loopback address, such as 127.0.0.2, makes a
// second client address on one machine), with TLS when tc is set. The
// connection is closed when the test ends.
func DialSeatFrom(t testing.TB, addr, from string, tc *tls.Config) *Seat {
	t.Helper()
	d := &net.Dialer{Timeout: Wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	var nc net.Conn
	var err error
	if tc != nil {
		nc, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(t.Context(), "tcp", addr)
	} else {
		nc, err = d.DialContext(t.Context(), "tcp", addr)
	}
	if err != nil {
		t.Fatalf("ctitest: dial %s from %s: %v", addr, from, err)
	}
	return newSeat(t, seatconn.New(nc, seatconn.Options{WriteTimeout: Wait}))
}

// newSeat starts the reader of a seat over conn.
func newSeat(t testing.TB, conn *seatconn.Conn) *Seat {
	st := &Seat{
		t: t, conn: conn,
		changed:    make(chan struct{}),
		resume:     make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	go st.read()
	t.Cleanup(st.Close)
	return st
}

func (st *Seat) read() {
	defer close(st.readerDone)
	for {
		st.mu.Lock()
		for st.paused {
			resume := st.resume
			st.mu.Unlock()
			<-resume
			st.mu.Lock()
		}
		st.mu.Unlock()
		m, err := st.conn.ReadMessage(time.Time{})
		var closed *seatconn.ClosedError
		if errors.As(err, &closed) {
			err = nil // a 9xx line is a line; the end of the stream follows
		}
		st.mu.Lock()
		if err != nil {
			st.err = err
		} else {
			st.lines = append(st.lines, string(m.Raw))
		}
		close(st.changed)
		st.changed = make(chan struct{})
		st.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// StopReading makes the seat stop reading from its socket after the line
// it is reading, as a client that hangs does: the server's writes pile up
// in the socket buffers, then in the server's queue for the seat.
func (st *Seat) StopReading() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.paused = true
}

// ResumeReading undoes StopReading.
func (st *Seat) ResumeReading() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.paused {
		st.paused = false
		close(st.resume)
		st.resume = make(chan struct{})
	}
}

// SetReadBuffer sets the size of the socket's receive buffer, so that a
// seat that stops reading fills it sooner.
func (st *Seat) SetReadBuffer(bytes int) {
	st.t.Helper()
	if err := st.conn.NetConn().(*net.TCPConn).SetReadBuffer(bytes); err != nil {
		st.t.Fatalf("ctitest: SetReadBuffer: %v", err)
	}
}

// Send writes one line (a "\n" is added).
func (st *Seat) Send(line string) {
	st.t.Helper()
	if err := st.conn.SendRaw(line); err != nil {
		st.t.Fatalf("ctitest: seat send %q: %v", line, err)
	}
}

// Write writes b as it is, in one write: many commands at once, say.
func (st *Seat) Write(b []byte) {
	st.t.Helper()
	nc := st.conn.NetConn()
	if err := nc.SetWriteDeadline(time.Now().Add(Wait)); err != nil {
		st.t.Fatalf("ctitest: seat write: %v", err)
	}
	if _, err := nc.Write(b); err != nil {
		st.t.Fatalf("ctitest: seat write of %d bytes: %v", len(b), err)
	}
}

// send writes one command in its wire form (seatproto.AppendCommand).
func (st *Seat) send(cmd seatproto.Command) {
	st.t.Helper()
	if err := st.conn.Send(cmd); err != nil {
		st.t.Fatalf("ctitest: seat: %v", err)
	}
}

// wait waits until the seat has more than n lines or reading ended, and
// returns the lines, whether that happened before deadline, and the read
// error.
func (st *Seat) wait(n int, deadline <-chan time.Time) (lines []string, ok bool, err error) {
	for {
		st.mu.Lock()
		var ch chan struct{}
		lines, err, ch = st.lines, st.err, st.changed
		st.mu.Unlock()
		if len(lines) > n || err != nil {
			return lines, true, err
		}
		select {
		case <-ch:
		case <-deadline:
			return lines, false, err
		}
	}
}

// Expect waits for the next line, from the cursor on, that matches the
// regular expression re, moves the cursor past it and returns its
// submatches. Lines before it are skipped (they stay in Lines and Events).
// It fails the test, with what the seat received, if no such line comes
// within Wait or the connection ends first.
func (st *Seat) Expect(re string) []string {
	st.t.Helper()
	m, err := st.expect(regexp.MustCompile(re), Wait)
	if err != nil {
		st.t.Fatalf("ctitest: %v", err)
	}
	return m
}

// ExpectWithin is Expect with a deadline of d, returning an error instead
// of failing the test.
func (st *Seat) ExpectWithin(d time.Duration, re string) ([]string, error) {
	return st.expect(regexp.MustCompile(re), d)
}

func (st *Seat) expect(re *regexp.Regexp, d time.Duration) ([]string, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		lines, ok, err := st.wait(st.cursor, timer.C)
		for st.cursor < len(lines) {
			line := lines[st.cursor]
			st.cursor++
			if m := re.FindStringSubmatch(line); m != nil {
				return m, nil
			}
		}
		switch {
		case err != nil:
			return nil, fmt.Errorf("seat: no line matching %q before the connection ended (%v); received:\n%s", re, err, transcript(lines))
		case !ok:
			return nil, fmt.Errorf("seat: no line matching %q within %v; received:\n%s", re, d, transcript(lines))
		}
	}
}

// Next returns the next line from the cursor, waiting up to Wait.
func (st *Seat) Next() string {
	st.t.Helper()
	return st.Expect(`^.*$`)[0]
}

// ExpectClosed waits until the server has closed the connection, and
// returns the lines after the cursor. A connection cut in the middle of a
// line (a seat dropped as a slow consumer, say) counts as closed; the cut
// line is not in Lines.
func (st *Seat) ExpectClosed() []string {
	st.t.Helper()
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	for {
		lines, ok, err := st.wait(len(st.Lines()), timer.C)
		if err != nil {
			rest := lines[st.cursor:]
			st.cursor = len(lines)
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
				st.t.Fatalf("ctitest: seat read error: %v", err)
			}
			return rest
		}
		if !ok {
			st.t.Fatalf("ctitest: the server did not close the seat within %v; received:\n%s", Wait, transcript(lines))
		}
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// Sync is a barrier: it sends NOOP, waits for its "100 OK" and returns the
// lines that came from the cursor on before it. Every line the server
// queued for the seat before it handled the NOOP is then in Lines. Do not
// use it with an ORIG or a MAC waiting for its own "100 OK".
func (st *Seat) Sync() []string {
	st.t.Helper()
	from := st.cursor
	st.Send("NOOP")
	st.Expect(`^100 OK$`)
	lines := st.Lines()
	return lines[from : st.cursor-1]
}

// Login reads the welcome and logs in: USER, PASS (the MD5 of password),
// and MAC when mac is not empty, as seatconn.Handshake does it. It fails
// the test at the first answer that is not OK. Lines that answer no
// command (the "200 queue" lines of an operator with a fixed seat, between
// PASS's answer and MAC's) are skipped: they stay in Lines.
func (st *Seat) Login(user, password, mac string) {
	st.t.Helper()
	h, err := seatconn.NewHandshake(user, seatconn.PasswordMD5(password), mac)
	if err != nil {
		st.t.Fatalf("ctitest: %v", err)
	}
	for {
		line := st.Next()
		cmd, send, done, err := h.Step(seatconn.Parse([]byte(line), time.Now()))
		switch {
		case err != nil:
			st.t.Fatalf("ctitest: login of %s: %v", user, err)
		case done:
			return
		case send:
			st.send(cmd)
		}
	}
}

// Quit sends QUIT and waits for "900 OK" and the end of the connection.
func (st *Seat) Quit() {
	st.t.Helper()
	st.send(seatproto.Command{Verb: seatproto.VerbQuit})
	st.Expect(`^900 OK$`)
	st.ExpectClosed()
}

// Lines returns every line received so far.
func (st *Seat) Lines() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.lines...)
}

// Events returns every event received so far, parsed, in order. It fails
// the test on a line that starts like an event and does not parse.
func (st *Seat) Events() []*seatproto.Event {
	st.t.Helper()
	return ParseEvents(st.t, st.Lines())
}

// ParseEvents returns the events among lines, parsed.
func ParseEvents(t testing.TB, lines []string) []*seatproto.Event {
	t.Helper()
	var out []*seatproto.Event
	for _, l := range lines {
		if !seatproto.IsEvent([]byte(l)) {
			continue
		}
		ev, err := seatproto.ParseEvent([]byte(l))
		if err != nil {
			t.Fatalf("ctitest: bad event line %q: %v", l, err)
		}
		out = append(out, ev)
	}
	return out
}

// Close closes the connection at once (an abrupt close, no QUIT) and waits
// for the reader. It is idempotent.
func (st *Seat) Close() {
	st.closeOnce.Do(func() {
		st.conn.Close()
		st.ResumeReading()
		<-st.readerDone
	})
}

func transcript(lines []string) string {
	const max = 40
	var b strings.Builder
	if len(lines) > max {
		fmt.Fprintf(&b, "\t… %d lines …\n", len(lines)-max)
		lines = lines[len(lines)-max:]
	}
	for _, l := range lines {
		if len(l) > 300 {
			l = l[:300] + "…"
		}
		b.WriteString("\t" + l + "\n")
	}
	if b.Len() == 0 {
		return "\t(nothing)"
	}
	return b.String()
}
