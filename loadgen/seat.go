package loadgen

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
)

// Seat reconnection: a seat whose session ends (a server restart) dials
// again after a pause drawn between these, doubling while it fails.
const (
	redialMin = 50 * time.Millisecond
	redialMax = 500 * time.Millisecond
	// loginTimeout bounds one login, from the connect to the MAC's answer.
	loginTimeout = time.Minute
)

// notice is one Link line a seat read.
type notice struct {
	uid    string
	seat   int32
	at     int64 // unix nanoseconds, when the line was framed
	badFor bool  // the line's data is not the call's (customer_id, caller)
	// session numbers the seat's sessions from 1 (0 for the direct
	// approach's clients, which have one): a Link again in a later
	// session is the re-pop of a live call (docs/protocol.md), not a
	// duplicate.
	session uint32
	data    string // the line's customer_id, for the report of a wrong one
}

// seat is one simulated operator: it logs in, stays logged in, reads
// what the server sends, and logs in again when its session ends.
type seat struct {
	idx   int
	fleet *fleet

	conn    atomic.Pointer[seatconn.Conn] // the session's, nil between sessions
	pausing atomic.Bool                   // between PAUSE IN and PAUSE OUT: not picked again
	// unanswered counts the session's PAUSE commands the server has not
	// answered yet: a seat is picked again only once it is zero.
	unanswered atomic.Int32
	// sessions counts the seat's sessions logged in; the seat's
	// goroutine alone writes it.
	sessions atomic.Uint32
	// token is the resume token of the last session (103), "" for none:
	// the next login uses it instead of the password. The seat's
	// goroutine alone uses it.
	token string
}

// run keeps the seat logged in until ctx is done, then says QUIT.
func (s *seat) run(ctx context.Context) {
	pause := redialMin
	rng := rand.New(rand.NewPCG(uint64(s.idx), 0x5eed))
	for ctx.Err() == nil {
		err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			pause = redialMin // the session was up: a restart, not a refusal
		} else {
			pause = min(pause*2, redialMax)
		}
		jitter := time.Duration(rng.Int64N(int64(pause)))
		select {
		case <-ctx.Done():
		case <-time.After(pause/2 + jitter/2):
		}
	}
}

// session is one connection: dial, log in, then read until it ends. It
// returns nil when the session was logged in, the error otherwise.
func (s *seat) session(ctx context.Context) error {
	f := s.fleet
	release, err := f.dialSlot(ctx)
	if err != nil {
		return err
	}
	c, err := s.dial(ctx)
	if err != nil {
		release()
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { s.quit(c) })
	defer stop()
	res, err := s.login(ctx, c)
	release()
	if err != nil {
		return err
	}
	if f.resume && s.token == "" {
		c.RequestToken()
	}
	f.counts.logins.Add(1)
	f.loggedIn.Add(1)
	s.sessions.Add(1)
	s.conn.Store(c)
	sess := &sessionState{seat: s}
	defer func() {
		s.conn.Store(nil)
		s.unanswered.Store(0) // a closed session answers nothing more
		sess.end()
	}()
	for _, m := range res.Early {
		sess.handle(m)
	}
	for {
		m, err := c.ReadMessage(time.Time{})
		var closed *seatconn.ClosedError
		if errors.As(err, &closed) {
			return nil
		}
		if err != nil {
			return nil
		}
		sess.handle(m)
	}
}

// loopbackSources is how many loopback addresses the seats connect from:
// one source address has about 28,000 ephemeral ports toward one server
// port (net.ipv4.ip_local_port_range), fewer than a large run's seats.
const loopbackSources = 4

// dial connects the seat to the server; to a loopback server, from one of
// loopbackSources addresses (127.0.0.1, 127.0.0.2, …), by seat.
func (s *seat) dial(ctx context.Context) (*seatconn.Conn, error) {
	addr := s.fleet.addr()
	d := net.Dialer{Timeout: seatconn.DefaultDialTimeout}
	if host, _, err := net.SplitHostPort(addr); err == nil && host == "127.0.0.1" {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+s.idx%loopbackSources))}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return seatconn.New(nc, seatconn.Options{ReadBuffer: 1024}), nil
}

// login logs the seat in with its resume token when it has one, with
// its password otherwise. A token the server refuses is forgotten, and
// the next session logs in with the password.
func (s *seat) login(ctx context.Context, c *seatconn.Conn) (*seatconn.LoginResult, error) {
	f := s.fleet
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	var (
		res *seatconn.LoginResult
		err error
	)
	if s.token != "" {
		res, err = c.Resume(ctx, f.w.operator(s.idx), s.token, f.w.mac(s.idx))
		f.counts.resumes.Add(1)
	} else {
		res, err = c.Login(ctx, f.w.operator(s.idx), operatorPass, f.w.mac(s.idx))
	}
	var refused *seatconn.RefusedError
	if errors.As(err, &refused) && refused.Verb == seatproto.VerbResume {
		s.token = ""
	}
	if err != nil {
		f.loginFailed(err)
	}
	return res, err
}

// quit ends the session at the run's end: QUIT, which the server answers
// with 900 and a close. The seat's reader then returns.
func (s *seat) quit(c *seatconn.Conn) {
	if err := c.Quit(); err != nil {
		c.Close()
		return
	}
	time.AfterFunc(5*time.Second, func() { c.Close() })
}

// sessionState is what one session of a seat has seen.
type sessionState struct {
	seat      *seat
	queues    map[string]bool
	confirmed bool
	told      bool // of a refused membership, at least once
}

// handle counts what a server line says.
func (ss *sessionState) handle(m seatconn.Message) {
	f := ss.seat.fleet
	switch m.Kind {
	case seatconn.KindMalformed:
		f.counts.malformed.Add(1)
	case seatconn.KindStatus:
		ss.status(m.Status)
	case seatconn.KindEvent:
		if m.Event.ID == seatproto.EventLink {
			f.notice(ss.seat.idx, ss.seat.sessions.Load(), m.Event, m.At)
		}
	}
}

func (ss *sessionState) status(st seatproto.Status) {
	f := ss.seat.fleet
	switch st.Code {
	case seatproto.CodeQueue:
		if ss.queues == nil {
			ss.queues = make(map[string]bool, f.w.queues)
		}
		ss.queues[st.Token] = true
		if !ss.confirmed && len(ss.queues) >= f.w.queues {
			ss.confirmed = true
			f.confirmed.Add(1)
		}
	case seatproto.CodeToken:
		ss.seat.token = st.Text
	case seatproto.CodeQueueLeft:
		f.counts.left.Add(1)
	case seatproto.CodeQueueRefused:
		f.counts.refused.Add(1)
		if !ss.told {
			ss.told = true
			f.counts.seatsTold.Add(1)
		}
	case seatproto.CodePauseOK:
		f.counts.pauseOK.Add(1)
		ss.seat.unanswered.Add(-1)
	case seatproto.CodePauseKO:
		f.counts.pauseKO.Add(1)
		ss.seat.unanswered.Add(-1)
	}
}

// end undoes what the session counted as standing.
func (ss *sessionState) end() {
	f := ss.seat.fleet
	f.loggedIn.Add(-1)
	f.counts.ended.Add(1)
	if ss.confirmed {
		f.confirmed.Add(-1)
	}
}

// fleetCounts are the fleet's counters of what the seats saw.
type fleetCounts struct {
	logins, loginFailures, resumes atomic.Int64
	refused, seatsTold, malformed  atomic.Int64
	pauseSent, pauseOK, pauseKO    atomic.Int64
	keepalives, keepaliveFailures  atomic.Int64
	ended, left                    atomic.Int64 // sessions ended; 201 lines read
}

// fleet is the run's seats.
type fleet struct {
	w        world
	resume   bool // seats ask for resume tokens and log in with them
	seatAddr atomic.Pointer[string]
	seats    []*seat
	dials    chan struct{} // bounds the connects and logins in progress

	loggedIn, confirmed atomic.Int64
	counts              fleetCounts
	failMu              sync.Mutex
	failures            map[string]int64 // login failures by reason

	notices noticeLog

	wg sync.WaitGroup
}

// maxDialing bounds the connects and logins in progress at once, below the
// kernel's accept backlog (net.core.somaxconn, 4096 here): a storm beyond
// it makes the kernel drop SYNs, which clients resend only a second later.
const maxDialing = 2048

func newFleet(w world, addr string, resume bool) *fleet {
	f := &fleet{w: w, resume: resume, dials: make(chan struct{}, maxDialing), failures: make(map[string]int64)}
	f.setAddr(addr)
	f.seats = make([]*seat, w.seats)
	for i := range f.seats {
		f.seats[i] = &seat{idx: i, fleet: f}
	}
	return f
}

func (f *fleet) addr() string        { return *f.seatAddr.Load() }
func (f *fleet) setAddr(addr string) { f.seatAddr.Store(&addr) }

// start starts every seat at once: a login storm.
func (f *fleet) start(ctx context.Context) {
	for _, s := range f.seats {
		f.wg.Go(func() { s.run(ctx) })
	}
}

// wait waits for every seat's goroutine once ctx is done.
func (f *fleet) wait() { f.wg.Wait() }

func (f *fleet) dialSlot(ctx context.Context) (func(), error) {
	select {
	case f.dials <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-f.dials }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fleet) loginFailed(err error) {
	f.counts.loginFailures.Add(1)
	reason := "connection"
	var refused *seatconn.RefusedError
	var closed *seatconn.ClosedError
	switch {
	case errors.As(err, &refused):
		reason = refused.Verb.String() + " refused: " + refused.Status.Text
	case errors.As(err, &closed):
		reason = "closed: " + strconv.Itoa(closed.Status.Code)
	case errors.Is(err, seatconn.ErrProtocol):
		reason = "protocol error"
	}
	f.failMu.Lock()
	f.failures[reason]++
	f.failMu.Unlock()
}

// notice records a Link line that seat idx read at at in its session.
func (f *fleet) notice(idx int, session uint32, ev *seatproto.Event, at time.Time) {
	n := notice{uid: ev.Call.UniqueID, seat: int32(idx), at: at.UnixNano(), session: session, data: dataOf(ev)}
	n.badFor = dataOf(ev) != ev.Call.CallerIDNum || ev.Call.CallerIDNum == ""
	f.notices.add(n)
}

func dataOf(ev *seatproto.Event) string {
	for _, d := range ev.Call.AppData {
		if d.Key == dataVar {
			return d.Value
		}
	}
	return ""
}

// keepalive sends every logged-in seat a NOOP once per period, spread
// over the period, until ctx is done.
func (f *fleet) keepalive(ctx context.Context, period time.Duration) {
	const ticks = 100
	t := time.NewTicker(period / ticks)
	defer t.Stop()
	for tick := 0; ; tick = (tick + 1) % ticks {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i := tick; i < len(f.seats); i += ticks {
			if c := f.seats[i].conn.Load(); c != nil {
				f.counts.keepalives.Add(1)
				if c.Noop() != nil {
					f.counts.keepaliveFailures.Add(1)
				}
			}
		}
	}
}

// pauses sends PAUSE IN to a random logged-in seat rate times a second,
// and PAUSE OUT to it after hold, until ctx is done.
func (f *fleet) pauses(ctx context.Context, rate float64, hold time.Duration, seed int64) {
	if rate <= 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9a05e))
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	var unpause sync.WaitGroup
	defer unpause.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A seat that is pausing, or whose last PAUSE is not answered
		// yet, is not picked again: its next PAUSE would get "302 KO
		// pause pending", a refusal of the load's own making.
		s := f.seats[rng.IntN(len(f.seats))]
		c := s.conn.Load()
		if c == nil || s.unanswered.Load() != 0 || !s.pausing.CompareAndSwap(false, true) {
			continue
		}
		if !s.sendPause(c, true) {
			s.pausing.Store(false)
			continue
		}
		unpause.Go(func() {
			defer s.pausing.Store(false)
			select {
			case <-ctx.Done():
			case <-time.After(hold):
				if c := s.conn.Load(); c != nil {
					s.sendPause(c, false)
				}
			}
		})
	}
}

// sendPause sends PAUSE IN (in) or PAUSE OUT on c and counts it as sent
// and unanswered; it reports whether it was sent.
func (s *seat) sendPause(c *seatconn.Conn, in bool) bool {
	s.unanswered.Add(1)
	var err error
	if in {
		err = c.PauseIn("loadgen")
	} else {
		err = c.PauseOut()
	}
	if err != nil {
		s.unanswered.Add(-1)
		return false
	}
	s.fleet.counts.pauseSent.Add(1)
	return true
}
