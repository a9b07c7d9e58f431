package cti

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// Config configures a Server.
type Config struct {
	AMI       ami.Config    // the one manager connection to Asterisk
	Listen    string        // seat listener address, e.g. "127.0.0.1:5039"
	ConfigDir string        // the directory of configuration snapshots
	Keepalive time.Duration // a seat that sends nothing this long is closed; default 60 s
	Logger    *slog.Logger
	// Ready, when set, is called once seats are accepted, with the
	// listener's address (useful with port 0).
	Ready func(seats net.Addr)
}

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

	nextID atomic.Uint64
	panics atomic.Int64 // panics recovered in seat goroutines
	mu     sync.Mutex
	conns  map[*seatConn]struct{}
	wg     sync.WaitGroup // every goroutine Run starts

	// writeBufs are the seat writers' buffers, lent while a writer has
	// lines to write: idle seats hold none.
	writeBufs sync.Pool
}

// seatWriteBuffer is the size of a seat writer's buffer.
const seatWriteBuffer = 16 << 10

// writeBuffer lends a seat writer a buffer that writes to nc.
func (s *Server) writeBuffer(nc net.Conn) *bufio.Writer {
	w, ok := s.writeBufs.Get().(*bufio.Writer)
	if !ok {
		return bufio.NewWriterSize(nc, seatWriteBuffer)
	}
	w.Reset(nc)
	return w
}

// putWriteBuffer takes a buffer back; its writer no longer uses it.
func (s *Server) putWriteBuffer(w *bufio.Writer) {
	w.Reset(nil) // keep no connection alive
	s.writeBufs.Put(w)
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = 60 * time.Second
	}
	if cfg.AMI.Logger == nil {
		cfg.AMI.Logger = cfg.Logger.With("part", "ami")
	}
	return &Server{cfg: cfg, log: cfg.Logger, limits: newLimits(), conns: make(map[*seatConn]struct{})}
}

// Run serves until ctx is done, then shuts down: every queue membership is
// removed, every seat told, and Run returns nil once every goroutine it
// started has ended. It returns an error when the configuration cannot be
// loaded, when the AMI connection cannot be made within its retries, or
// when the seat listener fails.
func (s *Server) Run(ctx context.Context) error {
	snap, err := config.LoadDir(ctx, s.cfg.ConfigDir, s.log)
	if err != nil {
		return fmt.Errorf("cti: configuration: %w", err)
	}
	s.log.Info("configuration in force", "file", snap.Source, "summary", snap.Summary())
	s.holder = config.NewHolder(snap)
	s.client = ami.New(s.cfg.AMI)
	s.hub = newHub(s, snap)
	sub := s.client.Subscribe(amiSubscription)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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

// startWatcher follows the configuration directory and hands every new
// snapshot to the hub.
func (s *Server) startWatcher(ctx context.Context) {
	w := config.NewWatcher(s.cfg.ConfigDir, s.holder, s.log.With("part", "config"))
	w.OnChange = func(old, cur *config.Snapshot) { s.hub.post(eventConfig{old: old, new: cur}) }
	s.goWait(func() { w.Run(ctx) })
}

// serveSeats waits for the first AMI login, then accepts seats until ctx is
// done or the AMI client gives up.
func (s *Server) serveSeats(ctx context.Context, amiErr <-chan error) error {
	select {
	case <-s.hub.firstUp:
	case err := <-amiErr:
		return fmt.Errorf("cti: AMI: %w", err)
	case <-ctx.Done():
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cti: seats: %w", err)
	}
	s.log.Info("accepting seats", "addr", ln.Addr().String())
	if s.cfg.Ready != nil {
		s.cfg.Ready(ln.Addr())
	}
	acceptErr := make(chan error, 1)
	s.goWait(func() { acceptErr <- s.accept(ln) })
	select {
	case <-ctx.Done():
		ln.Close()
		<-acceptErr
		return nil
	case err := <-amiErr:
		ln.Close()
		<-acceptErr
		if err != nil {
			return fmt.Errorf("cti: AMI: %w", err)
		}
		return nil
	case err := <-acceptErr:
		return fmt.Errorf("cti: seats: %w", err)
	}
}

func (s *Server) accept(ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := newSeatConn(s, s.nextID.Add(1), nc)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.goWait(func() {
			defer s.recoverSeat(c)
			c.readLoop()
			<-c.done
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		})
	}
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
