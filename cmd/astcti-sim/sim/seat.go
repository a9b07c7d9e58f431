package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
)

// Seat tunables, in one block so that tests can shrink them.
var (
	// seatNoop is the time between two NOOPs (the server's keepalive is
	// 60 s; a client sends at least every third of it).
	seatNoop = 20 * time.Second
	// seatLoginWait bounds the login: the welcome and the answers to
	// USER, PASS and MAC.
	seatLoginWait = 30 * time.Second
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
// protocol through a seatconn.Conn.
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

// dialError is a session that could not connect.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }

// errStopped ends a session because the simulation stops.
var errStopped = errors.New("stopped")

// read is what the reader goroutine hands the session: a message or the
// error that ended reading.
type read struct {
	m   seatconn.Message
	err error
}

// conn is one session's connection: the session's goroutine writes, a
// reader goroutine reads once the login is over.
type conn struct {
	*seatconn.Conn
	reads chan read
	quit  chan struct{}
	wg    sync.WaitGroup
}

func (c *conn) read() {
	for {
		m, err := c.ReadMessage(time.Time{})
		var closed *seatconn.ClosedError
		if errors.As(err, &closed) {
			err = nil // handle ends the session on the 9xx line
		}
		select {
		case c.reads <- read{m.Clone(), err}:
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
	c.Close()
	c.wg.Wait()
}

// session runs one connection: login, then the logged-in loop. It reports
// whether the login succeeded, and why the session ended.
func (s *seat) session(ctx context.Context) (loggedIn bool, err error) {
	sc, err := seatconn.Dial(ctx, s.addr, seatconn.Options{DialTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	if err != nil {
		return false, &dialError{err}
	}
	c := &conn{Conn: sc, reads: make(chan read, 64), quit: make(chan struct{})}
	defer c.close()
	s.joined = map[string]bool{}
	lctx, cancel := context.WithTimeout(ctx, seatLoginWait)
	res, err := c.Login(lctx, s.op.Name, s.op.Password, s.op.MAC)
	cancel()
	if ctx.Err() != nil {
		return false, errStopped
	}
	if err != nil {
		return false, err
	}
	s.report(kindLoggedIn, "", nil)
	for _, m := range res.Early {
		s.handle(m, nil)
	}
	s.ready()
	c.wg.Go(c.read)
	return true, s.loggedIn(ctx, c)
}

// pauser is the pause state of a logged-in session.
type pauser struct {
	paused  bool
	pending seatproto.Verb // the PAUSE IN or PAUSE OUT waiting for its answer; 0 for none
	reason  string         // the reason of the pending PAUSE IN
}

// handle reports one line from the server. It returns the line as a
// status, if it is one, and an error for a final status line.
func (s *seat) handle(m seatconn.Message, p *pauser) (seatproto.Status, error) {
	switch m.Kind {
	case seatconn.KindEvent:
		s.report(kindEvent, "", m.Event)
		return seatproto.Status{}, nil
	case seatconn.KindMalformed:
		s.report(kindKO, fmt.Sprintf("bad line from the server: %v", m.Err), nil)
		return seatproto.Status{}, nil
	}
	st := m.Status
	switch {
	case st.Final():
		return st, fmt.Errorf("server: %s", st)
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
	return st, nil
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
		case r := <-c.reads:
			if r.err != nil {
				return r.err
			}
			if _, err := s.handle(r.m, p); err != nil {
				return err
			}
		case <-noop.C:
			if err := c.Noop(); err != nil {
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
	return c.Send(cmd)
}

// quit ends the session: QUIT, then the lines up to 900 OK, the end of the
// connection, or seatQuitWait.
func (s *seat) quit(c *conn, p *pauser) error {
	if err := c.Quit(); err != nil {
		return errStopped
	}
	t := time.NewTimer(seatQuitWait)
	defer t.Stop()
	for {
		var r read
		select {
		case r = <-c.reads:
		case <-t.C:
			return errStopped
		}
		if r.err != nil {
			return errStopped
		}
		if st, err := s.handle(r.m, p); err != nil {
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
