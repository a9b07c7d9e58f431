package cti

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/buildinfo"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/metrics"
	"github.com/astcti/astcti/cti/resume"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/cti/throttle"
)

// Config configures a Server.
type Config struct {
	AMI       ami.Config    // the one manager connection to Asterisk
	Listen    string        // seat listener address, e.g. "127.0.0.1:5039"; "" for none
	ConfigDir string        // the directory of configuration snapshots
	Keepalive time.Duration // a seat that sends nothing this long is closed; default 60 s
	Logger    *slog.Logger
	// Ready, when set, is called once seats are accepted, with the
	// listener's address (useful with port 0): the plain one, or the TLS
	// one when there is no plain listener.
	Ready func(seats net.Addr)
	// ResumeKeyFile holds the key of the resume tokens (TOKEN, RESUME:
	// docs/protocol.md), made at the first start; "" means resume.key in
	// ConfigDir. ResumeTTL is how long a token logs in; 0 means
	// DefaultResumeTTL, and a negative value turns tokens off.
	ResumeKeyFile string
	ResumeTTL     time.Duration
	// AdminListen is the address of the admin endpoints (/healthz, /status,
	// /metrics; docs/operations.md), "" for none. They are unauthenticated:
	// never expose them to a public network.
	AdminListen string
	// AdminReady, when set, is called with the admin listener's address
	// once it listens. It is called before Ready, on Run's goroutine.
	AdminReady func(admin net.Addr)
	// StaleMemberGrace is how long after the start seats have to log in
	// again before the queue members of configured seats that no session
	// holds (left by an earlier run that was killed) are removed from the
	// configured queues; 0 means DefaultStaleMemberGrace, and a negative
	// value turns the removal off (cti/stale.go).
	StaleMemberGrace time.Duration
	// TLSListen is the address of a second seat listener, speaking TLS
	// with the configuration TLS (see LoadTLS), "" for none. It serves the
	// same protocol, limits and sessions as Listen (cti/tlslisten.go).
	TLSListen string
	TLS       *tls.Config
	// TLSReady, when set, is called with the TLS listener's address,
	// before Ready.
	TLSReady func(tlsSeats net.Addr)
	// LoginTimeout is how long a connection has to log in (USER, then PASS
	// or RESUME accepted), whatever it sends meanwhile; 0 means
	// DefaultLoginTimeout.
	LoginTimeout time.Duration
	// LoginThrottle is how failed logins are throttled; its zero value
	// means throttle.LoginPolicy().
	LoginThrottle throttle.Policy
	// MaxSeats caps the seat connections open at once, logged in or not,
	// and MaxConnsPerAddr those from one remote IP address; the excess is
	// refused with a 906 line (docs/protocol.md). 0 means
	// DefaultMaxSeats and DefaultMaxConnsPerAddr, a negative value no cap.
	MaxSeats        int
	MaxConnsPerAddr int
	// Listener, when set, is the seat listener, used instead of listening
	// on Listen (socket activation, tests). Run closes it.
	Listener net.Listener
}

// DefaultStaleMemberGrace is the default of Config.StaleMemberGrace: long
// enough for the seat clients of a call centre to reconnect after a
// restart (they retry with a pause growing to 30 s at most).
const DefaultStaleMemberGrace = 2 * time.Minute

// The defaults of Config's limits on seat connections (docs/reliability.md).
const (
	// DefaultLoginTimeout leaves a person typing a password time enough,
	// and a connection that never logs in no time to hold a descriptor.
	DefaultLoginTimeout = 30 * time.Second
	// DefaultMaxSeats is the number of seats astcti is sized for;
	// docs/astcti.service's LimitNOFILE=65536 leaves room for them and for
	// the server's own files. Run lowers it to fit a smaller open-file
	// limit.
	DefaultMaxSeats = 50000
	// DefaultMaxConnsPerAddr leaves room for a whole office behind one NAT
	// address or one TLS proxy, and keeps a single host from taking every
	// seat connection.
	DefaultMaxConnsPerAddr = 256
)

// DefaultResumeTTL is how long a resume token logs in: a long shift, so
// that a seat logged in at the start of its day resumes after a restart
// at the end of it.
const DefaultResumeTTL = 12 * time.Hour

// Server is astcti's CTI server: one AMI connection, the call tracker, and
// the seats. Run starts it in this order: check the
// configuration, connect to Asterisk (retrying as configured), then accept
// seats.
type Server struct {
	cfg    Config
	log    *slog.Logger
	holder *config.Holder
	client *ami.Client
	hub    *hub
	limits *limits
	resume *resume.Signer // nil when tokens are off

	metrics *metrics.Metrics
	build   buildinfo.Info // of the running binary, for /healthz

	watcher atomic.Pointer[config.Watcher] // set once Run has started it; for Reload
	nextID  atomic.Uint64
	panics  atomic.Int64 // panics recovered in seat goroutines
	mu      sync.Mutex
	conns   map[*seatConn]struct{} // guarded by mu
	perAddr map[string]int         // connections by remote IP address; guarded by mu
	// maxSeats and maxPerAddr are the caps on connections in total and from
	// one address, 0 for none (Config.MaxSeats, MaxConnsPerAddr; Run may
	// lower maxSeats to fit the open-file limit).
	maxSeats, maxPerAddr int
	wg                   sync.WaitGroup // every goroutine Run starts

	// writeBufs are the seat writers' buffers, lent while a writer has
	// lines to write: idle seats hold none.
	writeBufs sync.Pool
}

// seatWriteBuffer is the size of a seat writer's buffer.
const seatWriteBuffer = 16 << 10

// writeBuffer lends a seat writer a buffer of seatWriteBuffer bytes.
func (s *Server) writeBuffer() *[]byte {
	if b, ok := s.writeBufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, seatWriteBuffer)
	return &b
}

// putWriteBuffer takes a buffer back; its writer no longer uses it.
func (s *Server) putWriteBuffer(b *[]byte) { s.writeBufs.Put(b) }

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = 60 * time.Second
	}
	if cfg.StaleMemberGrace == 0 {
		cfg.StaleMemberGrace = DefaultStaleMemberGrace
	}
	if cfg.AMI.Logger == nil {
		cfg.AMI.Logger = cfg.Logger.With("part", "ami")
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = DefaultLoginTimeout
	}
	build := buildinfo.Get()
	return &Server{
		cfg: cfg, log: cfg.Logger, limits: newLimits(cmp.Or(cfg.LoginThrottle, throttle.LoginPolicy())),
		conns: make(map[*seatConn]struct{}), perAddr: make(map[string]int),
		maxSeats:   orDefault(cfg.MaxSeats, DefaultMaxSeats),
		maxPerAddr: orDefault(cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr),
		metrics:    metrics.New(build, closeReasonLabels()), build: build,
	}
}

// orDefault is n for a cap of Config: def when 0, none (0) when negative.
func orDefault(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// fitSeatsToFiles lowers the cap on seat connections to what the
// process's open-file limit leaves room for, keeping filesReserved for
// the server's own files (the AMI link, the listeners, the configuration,
// the admin endpoints' clients): a seat over the cap is told so, while one
// over the limit would only meet a failed accept.
func (s *Server) fitSeatsToFiles() {
	limit, ok := openFileLimit()
	if !ok {
		return
	}
	room := int(min(limit, 1<<30)) - filesReserved
	if room < 1 {
		room = 1
	}
	if s.maxSeats == 0 || s.maxSeats > room {
		level := slog.LevelWarn
		if s.cfg.MaxSeats == 0 {
			level = slog.LevelInfo // the default, not the admin's figure
		}
		s.log.Log(context.Background(), level, "the cap on seat connections is lowered to fit the open-file limit (raise LimitNOFILE or ulimit -n for more)",
			"max_seats", room, "open_file_limit", limit, "configured", s.maxSeats)
		s.maxSeats = room
	}
}

// Metrics returns the server's metrics, for a program that embeds it and
// reads or serves them itself (the admin endpoints serve them at /metrics).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Run serves until ctx is done, then shuts down: every queue membership is
// removed, every seat told, and Run returns nil once every goroutine it
// started has ended. It returns an error when the configuration cannot be
// loaded, when the AMI connection cannot be made within its retries, or
// when the seat listener fails.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Listener != nil {
		defer s.cfg.Listener.Close()
	}
	s.fitSeatsToFiles()
	snap, err := config.LoadDir(ctx, s.cfg.ConfigDir, s.log)
	if err != nil {
		return err // "config: …" names the directory
	}
	s.log.Info("configuration in force", "file", snap.Source, "summary", snap.Summary())
	s.holder = config.NewHolder(snap)
	s.resume = s.loadResumeKey()
	s.client = ami.New(s.cfg.AMI)
	s.hub = newHub(s, snap)
	sub := s.client.Subscribe(amiSubscription)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.startAdmin(ctx); err != nil {
		return err
	}
	// The AMI client outlives ctx: the hub's shutdown sends its QueueRemove
	// actions through it. It is closed once the hub has stopped.
	amiCtx, stopAMI := context.WithCancel(context.Background())
	defer stopAMI()
	amiErr := make(chan error, 1)
	s.goWait(func() { amiErr <- s.client.Run(amiCtx) })
	hubCtx, stopHub := context.WithCancel(context.Background())
	defer stopHub()
	s.goWait(func() { s.hub.run(hubCtx, sub) })
	s.startWatcher(ctx)

	err = s.serveSeats(ctx, amiErr)
	cancel()
	stopHub() // the hub removes the memberships and tells the seats
	<-s.hub.quit
	s.client.Close()
	s.closeConns()
	s.wg.Wait()
	return err
}

// loadResumeKey returns the signer of resume tokens, or nil when they are
// off: by configuration, or because the key cannot be read or made (a
// read-only directory), which leaves logins by password as they are.
func (s *Server) loadResumeKey() *resume.Signer {
	if s.cfg.ResumeTTL < 0 {
		return nil
	}
	path := s.cfg.ResumeKeyFile
	if path == "" {
		path = filepath.Join(s.cfg.ConfigDir, "resume.key")
	}
	key, err := resume.LoadOrCreateKey(path)
	if err == nil {
		var signer *resume.Signer
		if signer, err = resume.NewSigner(key); err == nil {
			return signer
		}
	}
	s.log.Warn("resume tokens are off: seats log in with their password only", "err", err)
	return nil
}

// resumeTTL is how long the tokens made now log in.
func (s *Server) resumeTTL() time.Duration {
	if s.cfg.ResumeTTL == 0 {
		return DefaultResumeTTL
	}
	return s.cfg.ResumeTTL
}

// checkToken reports whether token logs op in now.
func (s *Server) checkToken(op *config.Operator, token string) bool {
	return s.resume != nil && s.resume.Verify(op.Username, op.PasswordHash, token, time.Now())
}

// startWatcher follows the configuration directory and hands every new
// snapshot to the hub.
func (s *Server) startWatcher(ctx context.Context) {
	w := config.NewWatcher(s.cfg.ConfigDir, s.holder, s.log.With("part", "config"))
	w.OnChange = func(old, cur *config.Snapshot) {
		s.hub.post(eventConfig{old: old, new: cur, mtime: modTime(cur.Source)})
	}
	w.OnRefused = func(file string, err error) {
		s.hub.post(eventConfigRefused{file: file, mtime: modTime(file), at: time.Now(), err: err})
	}
	s.watcher.Store(w)
	s.goWait(func() { w.Run(ctx) })
}

// modTime is file's modification time, zero when it cannot be read. It
// runs on the watcher's goroutine, which has just read the file.
func modTime(file string) time.Time {
	if info, err := os.Stat(file); err == nil {
		return info.ModTime()
	}
	return time.Time{}
}

// Reload asks for a rescan of the configuration directory now, as SIGHUP
// does: a new valid snapshot is put in force as if the watcher had seen
// it, and the result is logged ("configuration rescanned on request").
// It reports false, doing nothing, before Run has read the configuration
// (Run then reads the directory anyway). It never blocks and is safe to
// call from any goroutine.
func (s *Server) Reload() bool {
	w := s.watcher.Load()
	if w == nil {
		return false
	}
	w.Reload()
	return true
}

// serveSeats waits for the first AMI login, then accepts seats until ctx is
// done or the AMI client gives up.
func (s *Server) serveSeats(ctx context.Context, amiErr <-chan error) error {
	select {
	case <-s.hub.firstUp:
	case err := <-amiErr:
		return err // an *ami.RetriesError: "AMI ADDR: N connection attempts failed: …"
	case <-ctx.Done():
		return nil
	}
	lns, err := s.listenSeats()
	if err != nil {
		return fmt.Errorf("seats: %w", err)
	}
	acceptErr := make(chan error, len(lns))
	for _, ln := range lns {
		s.goWait(func() { acceptErr <- s.accept(ctx, ln) })
	}
	running := len(lns)
	select {
	case <-ctx.Done():
	case err = <-amiErr:
	case err = <-acceptErr:
		running--
		err = fmt.Errorf("seats: %w", err)
	}
	for _, ln := range lns {
		ln.Close()
	}
	for range running {
		<-acceptErr
	}
	return err
}

// accept accepts seats on ln until it is closed. A failed accept other
// than a closed listener (EMFILE: out of file descriptors, say) does not
// stop it: it waits, 5 ms at first and twice as long after each failure
// in a row up to a second (as net/http's Server does), and tries again,
// while the seats connected are served as before. A burst of failures is
// logged once as it starts and once as it ends.
func (s *Server) accept(ctx context.Context, ln net.Listener) error {
	var (
		delay      time.Duration // the pause after the last failure; 0 when accept works
		burst      int           // failures in the current burst
		burstStart time.Time
		// Refusals are logged at most once per refusalLogEvery, with how
		// many there were since the last line.
		refusals      int
		refusalLogged time.Time
	)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.metrics.AcceptError()
			if burst == 0 {
				burstStart = time.Now()
				s.log.Warn("cannot accept seats; retrying with a growing pause, the seats connected are served as before",
					"err", err, "seats", s.connCount())
			}
			burst++
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		if burst > 0 {
			s.log.Info("accepting seats again", "failures", burst, "for", time.Since(burstStart).Round(time.Millisecond))
			burst, delay = 0, 0
		}
		c := newSeatConn(s, s.nextID.Add(1), nc)
		if refused := s.addConn(c); refused != "" {
			s.metrics.SeatRefused(refused)
			s.refuse(c, refused == metrics.RefusedTooManyFromAddr)
			refusals++
			if now := time.Now(); now.Sub(refusalLogged) >= refusalLogEvery {
				c.log.Warn("seat connections refused: over a cap (--max-seats, --max-seats-per-address)",
					"reason", refused, "refused", refusals, "since", refusalSince(refusalLogged, now))
				refusalLogged, refusals = now, 0
			}
			continue
		}
		s.goWait(func() {
			defer s.recoverSeat(c)
			c.readLoop()
			<-c.done
			s.metrics.SeatClosed(c.Reason().label())
			s.removeConn(c)
		})
	}
}

// addConn registers c, unless the caps on connections, in total or from
// c's address, are reached: it then returns the reason of the refusal (a
// metrics.Refused* label).
func (s *Server) addConn(c *seatConn) (refused string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.maxSeats > 0 && len(s.conns) >= s.maxSeats:
		return metrics.RefusedTooMany
	case s.maxPerAddr > 0 && s.perAddr[c.remote] >= s.maxPerAddr:
		return metrics.RefusedTooManyFromAddr
	}
	s.conns[c] = struct{}{}
	s.perAddr[c.remote]++
	return ""
}

// removeConn forgets c, once it has ended.
func (s *Server) removeConn(c *seatConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.perAddr[c.remote]--; s.perAddr[c.remote] <= 0 {
		delete(s.perAddr, c.remote)
	}
}

// refusalSince is how long ago the last log line of refusals was, for the
// next one; "" for the first.
func refusalSince(last, now time.Time) string {
	if last.IsZero() {
		return ""
	}
	return now.Sub(last).Round(time.Second).String()
}

// connCount returns the number of seat connections open.
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// refuse tells a connection over a cap why, instead of welcoming it, and
// closes it. The line goes into the new socket's empty send buffer, so the
// write does not wait; its deadline is there for safety only, and bounds
// the accept loop's time on it.
func (s *Server) refuse(c *seatConn, fromAddr bool) {
	c.nc.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	c.nc.Write(seatproto.AppendStatus(nil, seatproto.TooManyConns(fromAddr)))
	c.nc.Close()
}

// recoverSeat keeps a bug in one seat's handling from taking the server
// down: the seat is closed and the panic logged with its stack.
func (s *Server) recoverSeat(c *seatConn) {
	if r := recover(); r != nil {
		s.panics.Add(1)
		c.log.Error("panic in seat reader", "panic", r, "stack", string(debug.Stack()))
		c.closeNow(CloseReadError)
	}
}

// connStats counts the seat connections open and the bytes queued for
// their writers.
func (s *Server) connStats() (conns int, queued int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		queued += c.outBytes.Load()
	}
	return len(s.conns), queued
}

// Panics returns the number of panics recovered in seat goroutines; tests
// fail when it is not zero.
func (s *Server) Panics() int64 { return s.panics.Load() }

// closeConns closes the connections of seats that never logged in; the hub
// closed the others.
func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close(CloseShutdown)
	}
}

// goWait runs fn in a goroutine that Run waits for.
func (s *Server) goWait(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}
