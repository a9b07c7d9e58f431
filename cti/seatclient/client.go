package seatclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
)

// Tunables. They are variables so that tests can shrink them.
var (
	// DialTimeout bounds a TCP connect together with its TLS handshake.
	DialTimeout = 10 * time.Second
	// LoginTimeout bounds the login: the wait for the welcome and the
	// answers to USER, PASS and MAC, together.
	LoginTimeout = 10 * time.Second
	// WriteTimeout bounds the write of one command. A server that does not
	// take a few bytes in that time is gone.
	WriteTimeout = 10 * time.Second
	// QuitTimeout bounds the wait for "900 OK" after QUIT when the client
	// stops.
	QuitTimeout = 3 * time.Second
)

// Defaults of Config.
const (
	// DefaultPort is the seat protocol's port.
	DefaultPort = "5039"
	// DefaultKeepalive is the NOOP interval: a third of the server's
	// default keepalive timeout of 60 s (docs/protocol.md, "Keepalive").
	DefaultKeepalive = 20 * time.Second
	// DefaultRetryPause is the first pause before reconnecting.
	DefaultRetryPause = time.Second
	// DefaultRetryMaxPause is the longest pause between attempts.
	DefaultRetryMaxPause = 30 * time.Second
)

// Config is the configuration of a Client.
type Config struct {
	// Addr is the server's address, host:port.
	Addr string
	// User is the operator's name, sent with USER.
	User string
	// PasswordMD5 is the lower-case hex MD5 of the operator's password,
	// sent with PASS (config.MD5Hex gives it).
	PasswordMD5 string
	// MAC is the address sent with MAC, which names the seat; "" sends
	// none (an operator with a fixed seat needs none).
	MAC string
	// TLS, when set, makes the client connect with TLS using this
	// configuration. Its ServerName defaults to the host of Addr.
	TLS *tls.Config
	// Keepalive is the interval of the client's NOOPs; 0 means
	// DefaultKeepalive. A server silent for twice this interval plus
	// LoginTimeout is taken as gone.
	Keepalive time.Duration
	// Retries is the number of attempts to log in at start before Run gives
	// up with an *UnreachableError; 0 tries for ever. Once a session was
	// established, the client reconnects for ever.
	Retries int
	// RetryPause is the first pause between attempts (0: DefaultRetryPause);
	// it doubles, with jitter, up to RetryMaxPause (0: DefaultRetryMaxPause).
	RetryPause, RetryMaxPause time.Duration
	// Runner performs the action of each Link event; nil performs none.
	Runner *Runner
	// Notify is called with everything the user should see, in order,
	// from the goroutine of Run. It must not block for long. nil drops
	// the notes.
	Notify func(Note)
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
}

// Client is a seat client: it keeps one logged-in session with the server,
// reconnecting with backoff, sends NOOPs to keep it alive, passes every
// status line and event to Config.Notify, performs the actions of Link
// events with Config.Runner, and sends the user's commands (Send).
//
// Run does the work; Send may be called from any goroutine.
type Client struct {
	cfg     Config
	log     *slog.Logger
	reqs    chan request
	done    chan struct{} // closed when Run returns
	started atomic.Bool
}

// request is a command from Send to the goroutine of Run.
type request struct {
	cmd   seatproto.Command
	line  []byte // the command as sent, with its "\n", for the pairing of answers
	reply chan error
}

// New checks cfg and returns a client. It does not connect: Run does.
func New(cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("seatclient: no server address")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("seatclient: server address: %w", err)
	}
	if _, err := seatproto.AppendCommand(nil, seatproto.Command{Verb: seatproto.VerbUser, User: cfg.User}); err != nil {
		return nil, fmt.Errorf("seatclient: user: %w", err)
	}
	if _, err := seatproto.AppendCommand(nil, seatproto.Command{Verb: seatproto.VerbPass, Password: cfg.PasswordMD5}); err != nil {
		return nil, fmt.Errorf("seatclient: password hash: %w", err)
	}
	if cfg.MAC != "" {
		if _, err := seatproto.AppendCommand(nil, seatproto.Command{Verb: seatproto.VerbMAC, MAC: cfg.MAC}); err != nil {
			return nil, fmt.Errorf("seatclient: MAC: %w", err)
		}
	}
	if cfg.Keepalive < 0 || cfg.Retries < 0 || cfg.RetryPause < 0 || cfg.RetryMaxPause < 0 {
		return nil, errors.New("seatclient: negative keepalive, retries or retry pause")
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = DefaultKeepalive
	}
	if cfg.RetryPause == 0 {
		cfg.RetryPause = DefaultRetryPause
	}
	if cfg.RetryMaxPause == 0 {
		cfg.RetryMaxPause = DefaultRetryMaxPause
	}
	cfg.RetryMaxPause = max(cfg.RetryMaxPause, cfg.RetryPause)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:  cfg,
		log:  log.With("server", cfg.Addr, "user", cfg.User),
		reqs: make(chan request),
		done: make(chan struct{}),
	}, nil
}

// Run connects, logs in, and keeps the session until ctx is cancelled,
// reconnecting with backoff whenever the connection is lost. When ctx is
// cancelled during a session it sends QUIT and waits up to QuitTimeout for
// the server's "900 OK"; then it returns nil.
//
// Run returns an error only for what reconnecting cannot mend: a
// *RefusedError when the server refuses the login or the seat (at start or
// on a reconnect), an *UnreachableError when Config.Retries attempts at
// start all failed, and an error wrapping ErrReplaced when the operator
// logged in elsewhere. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("seatclient: Run called twice")
	}
	defer close(c.done)
	bo := newBackoff(c.cfg.RetryPause, c.cfg.RetryMaxPause)
	failures := 0
	loggedIn := false // at least once
	for {
		s, err := c.connect(ctx)
		if err != nil && ctx.Err() != nil {
			return nil
		}
		if err == nil {
			loggedIn = true
			failures = 0
			bo.reset()
			err = c.serve(ctx, s)
			if err == nil || ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrReplaced) {
				return err
			}
		} else {
			var re *RefusedError
			if errors.As(err, &re) {
				return err
			}
			failures++
			if !loggedIn && c.cfg.Retries > 0 && failures >= c.cfg.Retries {
				return &UnreachableError{Addr: c.cfg.Addr, Attempts: failures, Err: err}
			}
		}
		pause := bo.next()
		c.log.Debug("disconnected", "err", err, "retry_in", pause) // the note tells the user
		c.notify(Note{Kind: NoteDisconnected, Err: err, Retry: pause, Attempt: failures})
		if !c.pause(ctx, pause) {
			return nil
		}
	}
}

// Send sends a command of the user: NOOP, ORIG, PAUSE IN or PAUSE OUT. It
// returns once the command is written, before its answer, which comes as a
// NoteStatus with the command in Command. Commands are written in the order
// of the calls, and an ORIG or a PAUSE only once the previous one of its
// kind is answered (the server would refuse it, and its answer would come
// out of order): Send waits for that.
//
// Send refuses a command that the protocol would refuse
// (seatproto.AppendCommand), the login commands and QUIT (cancel Run's
// context to leave). It returns ErrNotConnected when there is no session,
// ErrStopped once the client is leaving, and ctx's error when ctx ends
// first. It is safe to call from any goroutine.
func (c *Client) Send(ctx context.Context, cmd seatproto.Command) error {
	switch cmd.Verb {
	case seatproto.VerbNoop, seatproto.VerbOrig, seatproto.VerbPauseIn, seatproto.VerbPauseOut:
	default:
		return fmt.Errorf("seatclient: %v cannot be sent with Send", cmd.Verb)
	}
	line, err := seatproto.AppendCommand(nil, cmd)
	if err != nil {
		return err
	}
	req := request{cmd: cmd, line: line, reply: make(chan error, 1)}
	select {
	case c.reqs <- req:
	case <-c.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) notify(n Note) {
	if c.cfg.Notify == nil {
		return
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	c.cfg.Notify(n)
}

// pause waits for d, answering Send with ErrNotConnected meanwhile. It
// returns false if ctx was cancelled.
func (c *Client) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case req := <-c.reqs:
			req.reply <- ErrNotConnected
		}
	}
}

// conn is one connection to the server.
type conn struct {
	*seatconn.Conn
	// queues are the queues the server said the seat is in (200 lines),
	// this session. The server repeats them after MAC for a fixed seat
	// (docs/protocol.md); a repeat tells nothing new and is not shown.
	queues map[string]bool
}

// repeated reports whether st only repeats a membership the session was
// told already, and keeps track of 200 and 201 lines.
func (s *conn) repeated(st seatproto.Status) bool {
	switch st.Code {
	case seatproto.CodeQueue:
		if s.queues[st.Token] {
			return true
		}
		if s.queues == nil {
			s.queues = map[string]bool{}
		}
		s.queues[st.Token] = true
	case seatproto.CodeQueueLeft:
		delete(s.queues, st.Token)
	}
	return false
}

// readTimeout is how long a session may stay silent: the server answers
// every NOOP, so twice the keepalive interval (plus some slack) without a
// line means it is gone.
func (c *Client) readTimeout() time.Duration { return 2*c.cfg.Keepalive + LoginTimeout }

// connect dials the server and logs in. Lines that come during the login
// and answer nothing (200 lines, re-popped events) are handled as in a
// session, after the NoteConnected.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	sc, err := seatconn.Dial(ctx, c.cfg.Addr, seatconn.Options{
		TLS: c.cfg.TLS, DialTimeout: DialTimeout, WriteTimeout: WriteTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("seatclient: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	res, err := sc.LoginMD5(lctx, c.cfg.User, c.cfg.PasswordMD5, c.cfg.MAC)
	cancel()
	if err != nil {
		sc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.loginError(err)
	}
	s := &conn{Conn: sc}
	c.log.Info("logged in", "mac", c.cfg.MAC)
	c.notify(Note{Kind: NoteConnected, Addr: c.cfg.Addr, User: c.cfg.User, MAC: c.cfg.MAC})
	for _, m := range res.Early {
		if m.Kind == seatconn.KindStatus && s.repeated(m.Status) {
			continue
		}
		c.handle(m, Note{Kind: NoteStatus, Status: m.Status})
	}
	return s, nil
}

// loginError turns an error of seatconn's login into the client's: the
// refusals and final lines into typed errors, what the protocol does not
// allow into ErrProtocol.
func (c *Client) loginError(err error) error {
	var (
		re *seatconn.RefusedError
		ce *seatconn.ClosedError
	)
	switch {
	case errors.As(err, &re):
		r := &RefusedError{Verb: re.Verb, Reason: printable(re.Status.Text)}
		if re.Verb == seatproto.VerbMAC {
			r.MAC = c.cfg.MAC
		}
		return r
	case errors.As(err, &ce):
		c.notify(Note{Kind: NoteStatus, Status: ce.Status})
		return &ClosedError{Status: ce.Status}
	case errors.Is(err, seatconn.ErrProtocol):
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return fmt.Errorf("seatclient: %w", err)
}

// pending is a command sent and not yet answered.
type pending struct {
	line      string // as sent, without "\n"
	pauseIn   bool   // PAUSE IN: 301 comes before the answer
	keepalive bool   // the client's own NOOP
}

// answers pairs status lines with the commands they answer.
//
// The server answers each command in order (docs/protocol.md), but it
// answers a command at once while an earlier PAUSE waits for the PBX's
// confirmation or an ORIG for the PBX's acceptance: a NOOP sent after an
// ORIG gets its 100 OK first. So answers are paired within two families —
// PAUSE IN and PAUSE OUT are answered 30x, every other command 10x — and
// the client sends no PAUSE while a PAUSE waits and nothing of the 10x
// family while an ORIG waits (busy; its own NOOP is then skipped). Then no
// answer can be taken for another's.
type answers struct {
	cmds   []pending // 10x family: NOOP, ORIG
	pauses []pending // 30x family: PAUSE IN, PAUSE OUT
}

// busy reports whether line must wait before it is sent: a PAUSE while a
// PAUSE waits for its answer, any other command while an ORIG does (the
// server answers it before the ORIG).
func (a *answers) busy(line []byte) bool {
	if bytes.HasPrefix(line, []byte("PAUSE ")) {
		return len(a.pauses) > 0
	}
	return slices.ContainsFunc(a.cmds, func(p pending) bool { return strings.HasPrefix(p.line, "ORIG ") })
}

// add records line as sent.
func (a *answers) add(line []byte, keepalive bool) {
	p := pending{line: string(line[:len(line)-1]), keepalive: keepalive}
	if bytes.HasPrefix(line, []byte("PAUSE ")) {
		p.pauseIn = bytes.HasPrefix(line, []byte("PAUSE IN"))
		a.pauses = append(a.pauses, p)
		return
	}
	a.cmds = append(a.cmds, p)
}

// idle reports whether no command of the 10x family waits.
func (a *answers) idle() bool { return len(a.cmds) == 0 }

// empty reports whether no command waits.
func (a *answers) empty() bool { return len(a.cmds) == 0 && len(a.pauses) == 0 }

// match returns the note of a status line, with the command it answers:
// 200 and 201 lines answer nothing, 30x lines answer the oldest PAUSE, and
// the others the oldest other command; 301 comes before PAUSE IN's answer,
// which is still awaited.
func (a *answers) match(st seatproto.Status) Note {
	n := Note{Kind: NoteStatus, Status: st}
	if st.Code == seatproto.CodeQueue || st.Code == seatproto.CodeQueueLeft {
		return n
	}
	q := &a.pauses
	if st.Code/100 != 3 && len(a.cmds) > 0 {
		q = &a.cmds // (a 101 with no other command waiting answers a PAUSE)
	}
	if len(*q) == 0 {
		return n
	}
	head := (*q)[0]
	n.Command, n.Keepalive = head.line, head.keepalive
	if !(st.Code == seatproto.CodePausePending && head.pauseIn) {
		*q = (*q)[1:]
	}
	return n
}

// read is what the reader hands to the session loop: a message, or the
// error that ended reading.
type read struct {
	m   seatconn.Message
	err error
}

// serve runs one logged-in session until the connection ends. It returns
// nil when the session ended because ctx was cancelled, and otherwise why
// it ended. When ctx is cancelled it lets the commands sent get their
// answers, then sends QUIT and waits for 900 (each wait at most
// QuitTimeout).
//
// The goroutine of Run is the only writer of the connection: the client's
// lines are few and small, and each write has a deadline. One reader
// goroutine per connection reads the server's lines and hands them over;
// serve waits for it before returning.
func (c *Client) serve(ctx context.Context, s *conn) error {
	lines := make(chan read)
	stopRead := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.readLoop(s, lines, stopRead)
	}()
	var held []request // Send's commands waiting for their turn
	defer func() {
		s.Close()
		close(stopRead)
		wg.Wait()
		for _, req := range held {
			req.reply <- ErrNotConnected
		}
	}()

	tick := time.NewTicker(c.cfg.Keepalive)
	defer tick.Stop()
	var (
		ans      answers
		quitting bool // ctx is done: no more commands
		quitSent bool
		quitWait <-chan time.Time
		ctxDone  = ctx.Done()
	)
	// release writes the held commands, in order, while they need not wait.
	release := func() error {
		for len(held) > 0 && !ans.busy(held[0].line) {
			req := held[0]
			held = held[1:]
			err := s.Send(req.cmd)
			req.reply <- err
			if err != nil {
				return err
			}
			ans.add(req.line, false)
		}
		return nil
	}
	sendQuit := func() error {
		quitSent = true
		quitWait = time.After(QuitTimeout)
		return s.Quit()
	}
	for {
		select {
		case r := <-lines:
			if r.err != nil {
				if quitting {
					return nil
				}
				if errors.Is(r.err, io.EOF) {
					return errors.New("seatclient: the server closed the connection")
				}
				return fmt.Errorf("seatclient: connection lost: %w", r.err)
			}
			if r.m.Kind != seatconn.KindStatus {
				c.handle(r.m, Note{})
				continue
			}
			st := r.m.Status
			if st.Final() {
				n := Note{Kind: NoteStatus, Status: st}
				if quitSent {
					n.Command = "QUIT"
				}
				c.notify(n)
				if quitSent && st.Code == seatproto.CodeBye {
					return nil
				}
				return &ClosedError{Status: st}
			}
			if !s.repeated(st) {
				c.notify(ans.match(st))
			}
			if err := release(); err != nil {
				return err
			}
			if quitting && !quitSent && ans.empty() {
				if err := sendQuit(); err != nil {
					return nil
				}
			}
		case <-tick.C:
			if quitting || !ans.idle() {
				continue // the line that waits keeps the session alive
			}
			if err := s.Noop(); err != nil {
				return err
			}
			ans.add([]byte("NOOP\n"), true)
		case req := <-c.reqs:
			if quitting {
				req.reply <- ErrStopped
				continue
			}
			held = append(held, req)
			if err := release(); err != nil {
				return err
			}
		case <-ctxDone:
			ctxDone, quitting = nil, true
			for _, req := range held {
				req.reply <- ErrStopped
			}
			held = nil
			if ans.empty() {
				if err := sendQuit(); err != nil {
					return nil
				}
			} else {
				quitWait = time.After(QuitTimeout)
			}
		case <-quitWait:
			if quitSent {
				c.log.Warn("no answer to QUIT; leaving anyway")
				return nil
			}
			c.log.Warn("commands still unanswered; leaving anyway")
			if err := sendQuit(); err != nil {
				return nil
			}
		}
	}
}

// readLoop reads the server's lines and hands them to serve until an error
// (handed over too) or until stop is closed. A final status line is handed
// over as a line: serve ends the session on it.
func (c *Client) readLoop(s *conn, lines chan<- read, stop <-chan struct{}) {
	for {
		m, err := s.ReadMessage(time.Now().Add(c.readTimeout()))
		var closed *seatconn.ClosedError
		if errors.As(err, &closed) {
			err = nil
		}
		select {
		case lines <- read{m.Clone(), err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// handle passes an event to Notify, and performs a Link's action; a
// status line goes to Notify as the note st; a malformed line is logged.
func (c *Client) handle(m seatconn.Message, st Note) {
	switch m.Kind {
	case seatconn.KindStatus:
		c.notify(st)
		return
	case seatconn.KindMalformed:
		c.log.Warn("malformed line ignored", "err", m.Err)
		return
	}
	ev := m.Event
	c.log.Debug("event", "event", ev.ID, "uniqueid", ev.Call.UniqueID)
	c.notify(Note{Kind: NoteEvent, Event: ev})
	if ev.ID == seatproto.EventLink && ev.Action != nil && c.cfg.Runner != nil {
		res := c.cfg.Runner.Perform(ev)
		c.notify(Note{Kind: NoteAction, Action: &res})
	}
}
