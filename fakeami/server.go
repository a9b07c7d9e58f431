package fakeami

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// Tunables of the manager server, in one block so tests can shrink them.
var (
	// sessionQueue bounds the frames waiting to be written to one session.
	// A client that lets it fill is dropped, as Asterisk drops a manager
	// client that does not read within its writetimeout.
	sessionQueue = 8192
	// writeTimeout bounds one write to a session.
	writeTimeout = 5 * time.Second
	// badLoginDelay is how long Asterisk waits before it answers a bad login.
	badLoginDelay = time.Second
	// actionLogSize bounds the log of received actions kept for GET /actions.
	actionLogSize = 4096
)

// Engine is what a Server serves to logged-in sessions: the PBX model.
type Engine interface {
	Attach(s Sink) (detach func())
	Do(s Sink, action *ami.Frame)
}

// Config configures a Server.
type Config struct {
	Dialect Dialect
	// Username and Secret, when Username is set, are a manager user with
	// every read and write class (FullRights).
	Username string
	Secret   string
	// Users are more manager users, with their own classes and event
	// filters (see User); a user of the same name as Username replaces it.
	Users []User
	// Engine answers actions and sends events. Nil in replay mode.
	Engine Engine
	// Replay, when set, is played to every session that logs in (see Replay).
	Replay *Replay
	// StartTime is when the PBX started, for FullyBooted's Uptime.
	StartTime func() time.Time
	Logger    *slog.Logger
}

// Server is a fake Asterisk manager interface: it greets, authenticates
// (plain secret or MD5 challenge), answers Ping, Events and Logoff itself and
// hands every other action of a logged-in session to its Engine. It is safe
// for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	ln       net.Listener
	sessions map[*session]struct{}
	actions  []ActionRecord // ring of received actions, oldest first
	closed   bool

	// Counters for GET /stats, updated by the sessions' goroutines.
	bytesWritten  atomic.Int64 // to every manager session's socket
	eventsWritten atomic.Int64 // event frames written to sessions
	loggedIn      atomic.Int64 // sessions logged in now

	wg sync.WaitGroup
}

// ServerStats are the manager server's counters.
type ServerStats struct {
	BytesWritten  int64 // bytes written to every manager session since start
	EventsWritten int64 // events written to sessions (a broadcast to 3 sessions counts 3)
	Sessions      int   // sessions logged in now
}

// Stats returns the server's counters. It is safe to call from any
// goroutine and takes no lock.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		BytesWritten:  s.bytesWritten.Load(),
		EventsWritten: s.eventsWritten.Load(),
		Sessions:      int(s.loggedIn.Load()),
	}
}

// countingWriter counts the bytes written through it into n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// ActionRecord is one action a session sent, as kept for the control API.
type ActionRecord struct {
	At     time.Time   `json:"at"`
	Action string      `json:"action"`
	Fields [][2]string `json:"fields"` // key and value, in wire order
}

// NewServer returns a Server; call Serve to accept connections.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Engine == nil && cfg.Replay == nil {
		return nil, errors.New("fakeami: server needs an engine or a replay")
	}
	if cfg.Replay != nil {
		// A recording speaks the dialect of the Asterisk that made it.
		cfg.Dialect = DialectModern
		if cfg.Replay.ManagerVersion() == Dialect14.ManagerVersion() {
			cfg.Dialect = Dialect14
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StartTime == nil {
		start := time.Now()
		cfg.StartTime = func() time.Time { return start }
	}
	return &Server{cfg: cfg, log: cfg.Logger, sessions: make(map[*session]struct{})}, nil
}

// ErrServerClosed is returned by Serve when it is called after Close.
var ErrServerClosed = errors.New("fakeami: server closed")

// Serve accepts manager connections on ln until Close. It returns nil after
// Close, or the listener's error. Called after Close, it closes ln and
// returns ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("fakeami: accept: %w", err)
		}
		s.startSession(conn)
	}
}

// Close stops accepting, closes every session and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for ss := range s.sessions {
		ss.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// DropSessions hangs up every manager session once what was queued for it
// has been written, as a restarting PBX does, while the listener stays open
// for reconnects.
func (s *Server) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.sessions {
		ss.Send(closeAfterFlush)
	}
}

// Actions returns the actions received since start, oldest first (at most
// the last actionLogSize).
func (s *Server) Actions() []ActionRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ActionRecord{}, s.actions...) // [] in JSON when empty, never null
}

// StartReplay starts the replay for every logged-in session that waits for
// it (see Replay.Wait).
func (s *Server) StartReplay() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ss := range s.sessions {
		if ss.startReplay() {
			n++
		}
	}
	return n
}

func (s *Server) record(f *ami.Frame) {
	rec := ActionRecord{At: time.Now(), Action: f.Action(), Fields: make([][2]string, len(f.Fields))}
	for i, fl := range f.Fields {
		if ami.EqualFold(fl.Key, "Secret") || ami.EqualFold(fl.Key, "Key") {
			fl.Value = "********"
		}
		rec.Fields[i] = [2]string{fl.Key, fl.Value}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.actions) >= actionLogSize {
		s.actions = append(s.actions[:0], s.actions[1:]...)
	}
	s.actions = append(s.actions, rec)
}

func (s *Server) startSession(conn net.Conn) {
	ss := &session{
		srv:    s,
		conn:   conn,
		out:    make(chan *ami.Frame, sessionQueue),
		done:   make(chan struct{}),
		replay: make(chan struct{}),
		log:    s.log.With("remote", conn.RemoteAddr().String()),
	}
	ss.events.Store(true)
	ss.mask.Store(^uint32(0))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		ss.writeLoop()
	}()
	go func() {
		defer s.wg.Done()
		ss.readLoop()
		// Let the writer send what is queued (a Goodbye, an "Authentication
		// failed") before the socket closes, but not wait for ever.
		ss.Send(closeAfterFlush)
		select {
		case <-ss.done:
		case <-time.After(writeTimeout):
			ss.close()
		}
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
}

// session is one manager connection: a reader goroutine that parses actions
// and a writer goroutine that owns the socket's write side.
type session struct {
	srv    *Server
	conn   net.Conn
	out    chan *ami.Frame
	done   chan struct{}
	once   sync.Once
	events atomic.Bool           // "Events: on" (the default) or off
	mask   atomic.Uint32         // the classes of events asked for (Events: user, …): a classMask
	perms  atomic.Pointer[perms] // the logged-in user's classes; nil before login

	replay     chan struct{} // closed to start a waiting replay
	replayOnce sync.Once
	challenge  string // reader goroutine only
	log        *slog.Logger
}

// Send queues f for the client without blocking; a client whose queue is
// full is dropped. It is safe to call from any goroutine.
func (ss *session) Send(f *ami.Frame) {
	select {
	case <-ss.done:
	case ss.out <- f:
	default:
		ss.log.Warn("manager client does not read: dropping it", "queued", len(ss.out))
		ss.close()
	}
}

// sendWait queues f, waiting for room; it reports false once the session is
// closed. The replay uses it so that playing as fast as possible never
// drops the client.
func (ss *session) sendWait(f *ami.Frame) bool {
	select {
	case <-ss.done:
		return false
	case ss.out <- f:
		return true
	}
}

// eventSink is the Sink that broadcasts reach: it honours "Events: off".
type eventSink struct{ ss *session }

func (e eventSink) Send(f *ami.Frame) {
	if e.ss.events.Load() && e.ss.wants(f, true) {
		e.ss.Send(f)
	}
}

func (ss *session) close() {
	ss.once.Do(func() {
		close(ss.done)
		ss.conn.Close()
	})
}

func (ss *session) startReplay() bool {
	started := false
	ss.replayOnce.Do(func() { close(ss.replay); started = true })
	return started
}

func (ss *session) writeLoop() {
	w := ami.NewWriter(countingWriter{ss.conn, &ss.srv.bytesWritten})
	ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	version := ss.srv.cfg.Dialect.ManagerVersion()
	if rp := ss.srv.cfg.Replay; rp != nil {
		version = rp.ManagerVersion()
	}
	if err := w.WriteBanner(version); err != nil || w.Flush() != nil {
		ss.close()
		return
	}
	for {
		select {
		case <-ss.done:
			return
		case f := <-ss.out:
			if f == closeAfterFlush {
				w.Flush()
				ss.close()
				return
			}
			ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := w.WriteFrame(f); err != nil {
				ss.log.Debug("write", "err", err)
				ss.close()
				return
			}
			if len(f.Fields) > 0 && f.Fields[0].Key == "Event" {
				ss.srv.eventsWritten.Add(1)
			}
			if len(ss.out) == 0 {
				if err := w.Flush(); err != nil {
					ss.close()
					return
				}
			}
		}
	}
}

// closeAfterFlush, queued as a frame, makes the writer flush and hang up.
var closeAfterFlush = &ami.Frame{}

func (ss *session) readLoop() {
	r := ami.NewReader(ss.conn)
	r.MaxLine, r.MaxPacket = 8<<10, 64<<10
	loggedIn := false
	var detach func()
	defer func() {
		if detach != nil {
			detach()
		}
	}()
	for {
		m, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				ss.log.Debug("read", "err", err)
			}
			return
		}
		f := m.Frame()
		ss.srv.record(f)
		if !loggedIn {
			ok, end := ss.handleLoggedOut(f)
			if end {
				return
			}
			if ok {
				loggedIn = true
				ss.srv.loggedIn.Add(1)
				defer ss.srv.loggedIn.Add(-1)
				detach = ss.afterLogin(f)
			}
			continue
		}
		if ss.handleSessionAction(f) {
			return
		}
	}
}

// handleLoggedOut answers an action of a session that has not logged in.
// It reports whether the session just logged in, and whether it must end.
func (ss *session) handleLoggedOut(f *ami.Frame) (loggedIn, end bool) {
	id := f.ActionID()
	switch {
	case ami.EqualFold(f.Action(), "Challenge"):
		if !ami.EqualFold(f.Get("AuthType"), "MD5") {
			ss.Send(response(id, "Error", "Must specify AuthType"))
			return false, false
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(1e9))
		ss.challenge = n.String()
		r := &ami.Frame{}
		r.Add("Response", "Success")
		if id != "" {
			r.Add("ActionID", id)
		}
		r.Add("Challenge", ss.challenge)
		ss.Send(r)
		return false, false
	case ami.EqualFold(f.Action(), "Login"):
		if ss.checkLogin(f) {
			ss.Send(response(id, "Success", "Authentication accepted"))
			return true, false
		}
		// Asterisk answers a bad login after about a second, then hangs up.
		select {
		case <-time.After(badLoginDelay):
		case <-ss.done:
			return false, true
		}
		ss.Send(response(id, "Error", "Authentication failed"))
		ss.Send(closeAfterFlush)
		return false, true
	case ami.EqualFold(f.Action(), "Logoff"):
		ss.logoff(id)
		return false, true
	}
	msg := "Permission denied"
	if ss.srv.cfg.Dialect == Dialect14 {
		msg = "Authentication Required"
	}
	ss.Send(response(id, "Error", msg))
	return false, false
}

func (ss *session) checkLogin(f *ami.Frame) bool {
	u, ok := ss.srv.user(f.Get("Username"))
	if !ok {
		return false
	}
	if ami.EqualFold(f.Get("AuthType"), "MD5") {
		if ss.challenge == "" {
			return false
		}
		sum := md5.Sum([]byte(ss.challenge + u.Secret))
		return ami.EqualFold(f.Get("Key"), hex.EncodeToString(sum[:]))
	}
	return f.Get("Secret") == u.Secret
}

// afterLogin sends what Asterisk sends after a good login and starts the
// flow of events. It returns the function that stops that flow.
func (ss *session) afterLogin(login *ami.Frame) (detach func()) {
	if v := login.Get("Events"); v != "" {
		ss.setEvents(v)
	}
	cfg := &ss.srv.cfg
	if u, ok := ss.srv.user(login.Get("Username")); ok {
		ss.perms.Store(newPerms(u, cfg.Dialect))
	}
	if cfg.Replay != nil {
		return ss.runReplay()
	}
	if cfg.Dialect == DialectModern {
		up := strconv.Itoa(int(time.Since(cfg.StartTime()).Seconds()))
		booted := &ami.Frame{}
		booted.Add("Event", "FullyBooted").Add("Privilege", "system,all").
			Add("Uptime", up).Add("LastReload", up).Add("Status", "Fully Booted")
		// action_login writes it to the session itself: the read
		// classes and the Events mask apply, not the eventfilter.
		if ss.events.Load() && ss.wants(booted, false) {
			ss.Send(booted)
		}
		eventSink{ss}.Send(ss.successfulAuth(login.Get("Username")))
	}
	return cfg.Engine.Attach(eventSink{ss})
}

// successfulAuth is the security event Asterisk 12+ sends after a login.
func (ss *session) successfulAuth(user string) *ami.Frame {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000-0700")
	f := &ami.Frame{}
	f.Add("Event", "SuccessfulAuth").Add("Privilege", "security,all").
		Add("EventTV", now).Add("Severity", "Informational").Add("Service", "AMI").
		Add("EventVersion", "1").Add("AccountID", user).
		Add("SessionID", fmt.Sprintf("%p", ss)).
		Add("LocalAddress", addrText(ss.conn.LocalAddr())).
		Add("RemoteAddress", addrText(ss.conn.RemoteAddr())).
		Add("UsingPassword", "0").Add("SessionTV", now)
	return f
}

func addrText(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return fmt.Sprintf("IPV4/TCP/%s/%d", t.IP, t.Port)
	}
	return a.String()
}

// setEvents takes an Events mask (a Login's Events header, the Events
// action's EventMask): on, off, a list of classes or a number.
func (ss *session) setEvents(v string) {
	m := eventsMask(ss.srv.cfg.Dialect, v)
	ss.mask.Store(uint32(m))
	ss.events.Store(m != 0)
}

// handleSessionAction answers the actions that belong to the manager
// session rather than to the PBX, and passes the rest to the engine. It
// reports whether the session must end.
func (ss *session) handleSessionAction(f *ami.Frame) bool {
	id := f.ActionID()
	switch name := f.Action(); {
	case ami.EqualFold(name, "Logoff"):
		ss.logoff(id)
		return true
	case ami.EqualFold(name, "Ping"):
		ss.Send(ss.pong(id))
	case ami.EqualFold(name, "Events"):
		ss.setEvents(f.Get("EventMask"))
		state := "Events On"
		if !ss.events.Load() {
			state = "Events Off"
		}
		r := &ami.Frame{}
		r.Add("Response", state)
		if id != "" {
			r.Add("ActionID", id)
		}
		ss.Send(r)
	case ami.EqualFold(name, "Login"), ami.EqualFold(name, "Challenge"):
		ss.Send(response(id, "Success", "Already authenticated"))
	case ss.srv.cfg.Replay != nil:
		ss.Send(response(id, "Error", "fakeami is replaying a recording: actions are not performed"))
	case !ss.mayWrite(name):
		ss.Send(response(id, "Error", "Permission denied"))
	case ss.managerCommand(f):
		// answered by the manager itself (manager show user)
	default:
		ss.srv.cfg.Engine.Do(ss, f)
	}
	return false
}

func (ss *session) pong(id string) *ami.Frame {
	r := &ami.Frame{}
	if ss.srv.cfg.Dialect == Dialect14 {
		r.Add("Response", "Pong")
		if id != "" {
			r.Add("ActionID", id)
		}
		return r
	}
	r.Add("Response", "Success")
	if id != "" {
		r.Add("ActionID", id)
	}
	now := time.Now()
	r.Add("Ping", "Pong").Add("Timestamp", fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000))
	return r
}

func (ss *session) logoff(id string) {
	ss.Send(response(id, "Goodbye", "Thanks for all the fish."))
	ss.Send(closeAfterFlush)
}

// response builds a Response frame with Asterisk's field order.
func response(id, kind, msg string) *ami.Frame {
	r := &ami.Frame{}
	r.Add("Response", kind)
	if id != "" {
		r.Add("ActionID", id)
	}
	r.Add("Message", msg)
	return r
}

// ListenAndServe listens on addr and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeami: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	return s.Serve(ln)
}
