package ctitest

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// Options configures a test server.
type Options struct {
	// Model is the configuration, written as a snapshot into a new
	// directory; nil means config.Demo().
	Model *config.Model
	// Dir, when set, is the configuration directory, read as it is (Model
	// is not written): a directory that snapshots are applied to during
	// the test, such as a configurator's.
	Dir string
	// AMI is the manager connection, e.g. PBX.Config() or Replay.Config().
	AMI ami.Config
	// Keepalive is the seat keepalive; 0 means the server's default.
	Keepalive time.Duration
	// Admin serves the admin endpoints on 127.0.0.1:0 (see AdminURL).
	Admin bool
	// StaleMemberGrace is cti.Config.StaleMemberGrace; 0 means the
	// server's default.
	StaleMemberGrace time.Duration
	// TLS, when set, adds a TLS seat listener on 127.0.0.1:0 with this
	// configuration (see TLSAddr).
	TLS *tls.Config
	// LoginTimeout is the server's login timeout; 0 means its default.
	LoginTimeout time.Duration
	// LoginThrottle is the failed-login policy; its zero value means the
	// server's default.
	LoginThrottle throttle.Policy
	// MaxSeats is the server's cap on seat connections; 0 means its
	// default. MaxConnsPerAddr is its cap per address; 0 means none,
	// since every test seat comes from 127.0.0.1.
	MaxSeats, MaxConnsPerAddr int
	// Listener, when set, is the seat listener (it must listen on
	// 127.0.0.1); the server closes it.
	Listener net.Listener
}

// Server is a cti.Server running in the test's process on 127.0.0.1:0.
type Server struct {
	*cti.Server
	Dir  string // the configuration directory
	Logs *Logs  // every record the server logged

	t      testing.TB
	cancel context.CancelFunc
	ready  chan net.Addr
	admin  chan net.Addr
	tls    chan net.Addr
	done   chan struct{} // closed when Run has returned
	err    error         // Run's result, once done is closed
	taken  bool          // Result gave err to the test

	mu       sync.Mutex
	addr     string
	tlsAddr  string
	adminURL string
}

// New starts a server with opts and does not wait for it to accept seats
// (see WaitReady): use it for servers that must not come up. The server is
// stopped when the test ends; Run must then return (within Wait), and no
// panic may have been recovered in a seat goroutine.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := opts.Dir
	if dir == "" {
		m := opts.Model
		if m == nil {
			m = config.Demo()
		}
		dir = t.TempDir()
		if _, err := config.WriteSnapshot(context.Background(), dir, m); err != nil {
			t.Fatalf("ctitest: configuration: %v", err)
		}
	}
	logs := NewLogs(t)
	s := &Server{
		Dir: dir, Logs: logs, t: t,
		ready: make(chan net.Addr, 1),
		admin: make(chan net.Addr, 1),
		tls:   make(chan net.Addr, 1),
		done:  make(chan struct{}),
	}
	tlsListen := ""
	if opts.TLS != nil {
		tlsListen = "127.0.0.1:0"
	}
	adminListen := ""
	if opts.Admin {
		adminListen = "127.0.0.1:0"
	}
	perAddr := opts.MaxConnsPerAddr
	if perAddr == 0 {
		perAddr = -1
	}
	s.Server = cti.New(cti.Config{
		AMI:         opts.AMI,
		Listen:      "127.0.0.1:0",
		ConfigDir:   dir,
		Keepalive:   opts.Keepalive,
		Logger:      logs.Logger(),
		Ready:       func(a net.Addr) { offer(s.ready, a) },
		AdminListen: adminListen,
		AdminReady:  func(a net.Addr) { offer(s.admin, a) },

		StaleMemberGrace: opts.StaleMemberGrace,
		TLSListen:        tlsListen,
		TLS:              opts.TLS,
		TLSReady:         func(a net.Addr) { offer(s.tls, a) },
		LoginTimeout:     opts.LoginTimeout,
		LoginThrottle:    opts.LoginThrottle,
		MaxSeats:         opts.MaxSeats,
		MaxConnsPerAddr:  perAddr,
		Listener:         opts.Listener,
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.err = s.Server.Run(ctx)
	}()
	t.Cleanup(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(Wait):
			t.Errorf("ctitest: Run did not return within %v of the end of the test", Wait)
			return
		}
		if n := s.Panics(); n != 0 {
			t.Errorf("ctitest: %d panics recovered in seat goroutines", n)
		}
		if s.err != nil && !s.taken {
			t.Errorf("ctitest: Run: %v", s.err)
		}
	})
	return s
}

// offer hands a to a hook's channel; each hook is called once, and never
// blocks the server.
func offer(ch chan net.Addr, a net.Addr) {
	select {
	case ch <- a:
	default:
	}
}

// Start starts a server with opts and waits until it accepts seats.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(t, opts)
	s.WaitReady()
	return s
}

// WaitReady waits until the server accepts seats, and fails the test if
// Run returns or Wait passes first.
func (s *Server) WaitReady() {
	s.t.Helper()
	select {
	case a := <-s.ready:
		s.mu.Lock()
		s.addr = a.String()
		select { // TLSReady came before Ready
		case t := <-s.tls:
			s.tlsAddr = t.String()
		default:
		}
		s.mu.Unlock()
	case <-s.done:
		s.t.Fatalf("ctitest: Run returned before the server was ready: %v", s.err)
	case <-time.After(Wait):
		s.t.Fatalf("ctitest: the server was not ready within %v", Wait)
	}
}

// Addr returns the seat address, once ready.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// TLSAddr returns the TLS seat address, once ready, with Options.TLS.
func (s *Server) TLSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsAddr
}

// Stop cancels Run's context and returns what Run returned. It fails the
// test if Run does not return within Wait.
func (s *Server) Stop() error {
	s.t.Helper()
	s.cancel()
	return s.Result(Wait)
}

// Result waits up to d for Run to return and returns its error. It fails
// the test if Run is still running after d. Without a call to Result (or
// Stop), an error of Run fails the test when it ends.
func (s *Server) Result(d time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		s.taken = true
		return s.err
	case <-time.After(d):
		s.t.Fatalf("ctitest: Run did not return within %v", d)
		return nil
	}
}

// Done is closed when Run has returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// Dial connects a seat to the server.
func (s *Server) Dial() *Seat {
	s.t.Helper()
	return DialSeat(s.t, s.Addr())
}
