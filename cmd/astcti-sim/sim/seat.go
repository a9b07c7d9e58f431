package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
)

// Seat tunables, in one block so that tests can shrink them.
var (
	// seatNoop is the time between two NOOPs (the server's keepalive is
	// 60 s; a client sends at least every third of it).
	seatNoop = 20 * time.Second
	// seatAnswerWait bounds the wait for each answer of the login.
	seatAnswerWait = 10 * time.Second
	// seatQuitWait bounds the wait for 900 OK after QUIT.
	seatQuitWait = 2 * time.Second
	// seatRetryMin and seatRetryMax bound the pause before a reconnection.
	seatRetryMin = 200 * time.Millisecond
	seatRetryMax = 5 * time.Second
	// seatWorkMin/Max: how long a seat stays unpaused before a pause;
	// seatBreakMin/Max: how long a pause lasts.
	seatWorkMin, seatWorkMax   = 20 * time.Second, 60 * time.Second
	seatBreakMin, seatBreakMax = 5 * time.Second, 15 * time.Second
)

// pauseReasons are the reasons simulated operators give for a pause.
var pauseReasons = []string{"coffee", "lunch", "paperwork", "meeting"}

// kind says what a seat reports.
type kind int

const (
	kindLoggedIn     kind = iota + 1 // USER, PASS, MAC accepted
	kindQueue                        // 200 queue: text is the queue
	kindPaused                       // the PBX confirmed PAUSE IN: text is the reason
	kindUnpaused                     // the PBX confirmed PAUSE OUT
	kindPauseFailed                  // 302 KO: text is the reason
	kindKO                           // 101 KO: text is the reason
	kindEvent                        // an event (CallerId, Link, Hangup, …): ev
	kindDisconnected                 // the session ended, or could not start: text says why and what next
	kindLoggedOut                    // the server answered QUIT
)

// report is one thing a simulated seat saw, for the view.
type report struct {
	at   time.Time
	seat int // index in the simulation's operators
	kind kind
	text string
	ev   *seatproto.Event
}

// seat is a simulated operator at a seat: it logs in (USER, PASS, MAC),
// keeps the session alive with NOOP, reports every status line and event it
// receives, pauses now and then (PAUSE IN, then PAUSE OUT), and connects
// again when the session ends (a server restart, say). It speaks the seat
// protocol directly, with seatproto.
type seat struct {
	idx  int
	op   Operator
	addr string
	rng  *rand.Rand // owned by run's goroutine
	// send hands a report to the view; it may block.
	send func(report)
	// ready is called after each successful login.
	ready func()
	// joined holds the queues the server said the seat is in, this
	// session: a repeated 200 line (the server repeats them after MAC for
	// a fixed seat) is reported once.
	joined map[string]bool
}

// run keeps the seat logged in until ctx is done; it then sends QUIT and
// returns once the session has ended. It blocks.
func (s *seat) run(ctx context.Context) {
	pause := seatRetryMin
	for {
		loggedIn, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		var dial *dialError
		if errors.As(err, &dial) {
			s.report(kindDisconnected, "cannot connect ("+dial.err.Error()+"), trying again", nil)
		} else {
			s.report(kindDisconnected, "disconnected ("+err.Error()+"), connecting again", nil)
		}
		if loggedIn {
			pause = seatRetryMin
		}
		wait := pause/2 + time.Duration(s.rng.Int64N(int64(pause)))
		pause = min(2*pause, seatRetryMax)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *seat) report(k kind, text string, ev *seatproto.Event) {
	s.send(report{at: time.Now(), seat: s.idx, kind: k, text: text, ev: ev})
}

// line is what the reader goroutine hands the session: a line or the
// error that ended reading.
type line struct {
	b   []byte
	err error
}

// dialError is a session that could not connect.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }

// errStopped ends a session because the simulation stops.
var errStopped = errors.New("stopped")

// conn is one session's connection: the session's goroutine writes, a
// reader goroutine reads.
type conn struct {
	nc    net.Conn
	lines chan line
	quit  chan struct{}
	wg    sync.WaitGroup
}

func (c *conn) read() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		b, err := seatproto.ReadLine(br, seatproto.MaxServerLineLen)
		if b != nil {
			b = append([]byte(nil), b...)
		}
		select {
		case c.lines <- line{b, err}:
		case <-c.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// close closes the connection and waits for the reader.
func (c *conn) close() {
	close(c.quit)
	c.nc.Close()
	c.wg.Wait()
}

func (c *conn) send(cmd seatproto.Command) error {
	b, err := seatproto.AppendCommand(nil, cmd)
	if err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = c.nc.Write(b)
	return err
}

// session runs one connection: login, then the logged-in loop. It reports
// whether the login succeeded, and why the session ended.
func (s *seat) session(ctx context.Context) (loggedIn bool, err error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return false, &dialError{err}
	}
	c := &conn{nc: nc, lines: make(chan line, 64), quit: make(chan struct{})}
	s.joined = map[string]bool{}
	c.wg.Go(c.read)
	defer c.close()
	if err := s.login(ctx, c); err != nil {
		return false, err
	}
	s.ready()
	return true, s.loggedIn(ctx, c)
}

// next returns the next line, or an error when reading ended, ctx is done
// or the deadline passed.
func (c *conn) next(ctx context.Context, deadline <-chan time.Time) ([]byte, error) {
	select {
	case l := <-c.lines:
		return l.b, l.err
	case <-ctx.Done():
		return nil, errStopped
	case <-deadline:
		return nil, errors.New("no answer from the server")
	}
}

// login reads the welcome and sends USER, PASS and MAC, each waiting for
// its answer; lines that are not answers (200 queue, events of a re-pop)
// are handled on the way.
func (s *seat) login(ctx context.Context, c *conn) error {
	if _, err := s.await(ctx, c, nil); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	steps := []struct {
		cmd  seatproto.Command
		code int
	}{
		{seatproto.Command{Verb: seatproto.VerbUser, User: s.op.Name}, seatproto.CodeOK},
		{seatproto.Command{Verb: seatproto.VerbPass, Password: config.MD5Hex(s.op.Password)}, seatproto.CodeLoggedIn},
		{seatproto.Command{Verb: seatproto.VerbMAC, MAC: s.op.MAC}, seatproto.CodeOK},
	}
	for _, st := range steps {
		if err := c.send(st.cmd); err != nil {
			return err
		}
		got, err := s.await(ctx, c, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", st.cmd.Verb, err)
		}
		if got.Code != st.code {
			return fmt.Errorf("%s: %s", st.cmd.Verb, got)
		}
		if st.cmd.Verb == seatproto.VerbPass {
			s.report(kindLoggedIn, "", nil)
		}
	}
	return nil
}

// await returns the next status line that answers a command (100, 101,
// 102), handling the others (200, 201, 30x, events) with p on the way. A
// final status line (9xx) ends the session.
func (s *seat) await(ctx context.Context, c *conn, p *pauser) (seatproto.Status, error) {
	t := time.NewTimer(seatAnswerWait)
	defer t.Stop()
	for {
		b, err := c.next(ctx, t.C)
		if err != nil {
			return seatproto.Status{}, err
		}
		st, isStatus, err := s.handle(b, p)
		if err != nil {
			return seatproto.Status{}, err
		}
		if isStatus && (st.Code == seatproto.CodeOK || st.Code == seatproto.CodeKO || st.Code == seatproto.CodeLoggedIn) {
			return st, nil
		}
	}
}

// pauser is the pause state of a logged-in session.
type pauser struct {
	paused  bool
	pending seatproto.Verb // the PAUSE IN or PAUSE OUT waiting for its answer; 0 for none
	reason  string         // the reason of the pending PAUSE IN
}

// handle reports one line from the server. It returns the line as a
// status, if it is one, and an error for a final status line.
func (s *seat) handle(b []byte, p *pauser) (seatproto.Status, bool, error) {
	if seatproto.IsEvent(b) {
		ev, err := seatproto.ParseEvent(b)
		if err != nil {
			s.report(kindKO, fmt.Sprintf("bad event from the server: %v", err), nil)
			return seatproto.Status{}, false, nil
		}
		s.report(kindEvent, "", ev)
		return seatproto.Status{}, false, nil
	}
	st, err := seatproto.ParseStatus(b)
	if err != nil {
		s.report(kindKO, fmt.Sprintf("bad line from the server: %q", b), nil)
		return seatproto.Status{}, false, nil
	}
	switch {
	case st.Final():
		return st, true, fmt.Errorf("server: %s", st)
	case st.Code == seatproto.CodeQueue:
		if !s.joined[st.Token] {
			s.joined[st.Token] = true
			s.report(kindQueue, st.Token, nil)
		}
	case st.Code == seatproto.CodeQueueLeft:
		delete(s.joined, st.Token)
	case st.Code == seatproto.CodeKO:
		s.report(kindKO, st.Text, nil)
	case st.Code == seatproto.CodePauseOK && p != nil && p.pending != 0:
		p.paused = p.pending == seatproto.VerbPauseIn
		p.pending = 0
		if p.paused {
			s.report(kindPaused, p.reason, nil)
		} else {
			s.report(kindUnpaused, "", nil)
		}
	case st.Code == seatproto.CodePauseKO && p != nil:
		p.pending = 0
		s.report(kindPauseFailed, st.Text, nil)
	}
	return st, true, nil
}

// loggedIn is the session after login: it sends NOOP every seatNoop,
// pauses and unpauses at random times, and reports what the server sends.
// When ctx is done it sends QUIT and waits briefly for 900 OK.
func (s *seat) loggedIn(ctx context.Context, c *conn) error {
	noop := time.NewTicker(seatNoop)
	defer noop.Stop()
	p := &pauser{}
	pause := time.NewTimer(s.between(seatWorkMin, seatWorkMax))
	defer pause.Stop()
	for {
		select {
		case l := <-c.lines:
			if l.err != nil {
				return l.err
			}
			if _, _, err := s.handle(l.b, p); err != nil {
				return err
			}
		case <-noop.C:
			if err := c.send(seatproto.Command{Verb: seatproto.VerbNoop}); err != nil {
				return err
			}
		case <-pause.C:
			if err := s.togglePause(c, p); err != nil {
				return err
			}
			if p.paused || p.pending == seatproto.VerbPauseIn {
				pause.Reset(s.between(seatBreakMin, seatBreakMax))
			} else {
				pause.Reset(s.between(seatWorkMin, seatWorkMax))
			}
		case <-ctx.Done():
			return s.quit(c, p)
		}
	}
}

// togglePause sends PAUSE IN when the seat works and PAUSE OUT when it is
// paused; nothing while a PAUSE waits for its answer.
func (s *seat) togglePause(c *conn, p *pauser) error {
	if p.pending != 0 {
		return nil
	}
	cmd := seatproto.Command{Verb: seatproto.VerbPauseOut}
	if !p.paused {
		cmd = seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: pauseReasons[s.rng.IntN(len(pauseReasons))]}
	}
	p.pending, p.reason = cmd.Verb, cmd.Reason
	return c.send(cmd)
}

// quit ends the session: QUIT, then the lines up to 900 OK, the end of the
// connection, or seatQuitWait.
func (s *seat) quit(c *conn, p *pauser) error {
	if err := c.send(seatproto.Command{Verb: seatproto.VerbQuit}); err != nil {
		return errStopped
	}
	t := time.NewTimer(seatQuitWait)
	defer t.Stop()
	for {
		b, err := c.next(context.Background(), t.C)
		if err != nil {
			return errStopped
		}
		if st, _, err := s.handle(b, p); err != nil {
			if st.Code == seatproto.CodeBye {
				s.report(kindLoggedOut, "", nil)
			}
			return errStopped
		}
	}
}

// between returns a duration drawn in [lo, hi].
func (s *seat) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1))
}
