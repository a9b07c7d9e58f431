package fakeami

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// The control API's HTTP server limits (Listen). A posted scenario is at
// most 1 MiB, which ReadTimeout leaves ample time for.
const (
	controlReadHeaderTimeout = 5 * time.Second
	controlReadTimeout       = 30 * time.Second
	controlWriteTimeout      = 30 * time.Second
	controlIdleTimeout       = time.Minute
	controlMaxHeaderBytes    = 64 << 10
)

// ServeConfig says what Listen serves, and where.
type ServeConfig struct {
	Server *Server // the manager server; required
	// PBX is the model whose clock runs and which the control API reads
	// and drives; nil when Server plays a Replay instead.
	PBX     *PBX
	Listen  string // the manager interface's address, e.g. "127.0.0.1:5038" or "127.0.0.1:0"
	Control string // the HTTP control API's address; "" serves none
}

// Running is a fake PBX whose manager server, and maybe control API, serve
// their listeners while the PBX's clock runs, each part in a goroutine that
// Stop waits for. Listen and Start make one. Its methods are safe to call
// from any goroutine.
type Running struct {
	PBX         *PBX    // nil in replay mode
	Server      *Server // the manager server
	Addr        string  // the manager listener's address, e.g. "127.0.0.1:40123"
	ControlAddr string  // the control API's listener address; "" without one

	cancel   context.CancelFunc // ends the PBX's Run
	hs       *http.Server       // the control API; nil without one
	wg       sync.WaitGroup     // the parts' goroutines
	errc     chan error         // each part's result, in the order they end; buffered for all
	ended    chan struct{}      // closed once the first part has ended
	endOnce  sync.Once
	stopOnce sync.Once
	err      error // the first error of a part; set in stopOnce
}

// Listen listens on cfg.Listen for the manager interface and, if
// cfg.Control is set, on cfg.Control for the control API, and starts
// serving them and running cfg.PBX. Once it returns, Addr and ControlAddr
// hold the bound addresses for the caller to announce. An error to listen
// on the control address is wrapped as "control: …".
func Listen(cfg ServeConfig) (*Running, error) {
	if cfg.Server == nil {
		return nil, errors.New("fakeami: Listen without a Server")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	var cln net.Listener
	if cfg.Control != "" {
		if cln, err = net.Listen("tcp", cfg.Control); err != nil {
			ln.Close()
			return nil, fmt.Errorf("control: %w", err)
		}
	}
	return start(cfg.PBX, cfg.Server, ln, cln), nil
}

// Start serves srv on ln and runs pbx's clock, each in a goroutine that
// Close waits for. It serves no control API.
func Start(pbx *PBX, srv *Server, ln net.Listener) *Running {
	return start(pbx, srv, ln, nil)
}

// start serves srv on ln, the control API on cln unless it is nil, and
// runs pbx unless it is nil.
func start(pbx *PBX, srv *Server, ln, cln net.Listener) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{
		PBX: pbx, Server: srv, Addr: ln.Addr().String(),
		cancel: cancel,
		errc:   make(chan error, 3),
		ended:  make(chan struct{}),
	}
	r.goPart(func() error {
		// Serve may start only after Stop has closed srv.
		if err := srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
			return err
		}
		return nil
	})
	if pbx != nil {
		r.goPart(func() error { return pbx.Run(ctx) })
	}
	if cln != nil {
		r.ControlAddr = cln.Addr().String()
		r.hs = &http.Server{
			Handler:           (&Control{PBX: pbx, Server: srv}).Handler(),
			ReadHeaderTimeout: controlReadHeaderTimeout,
			ReadTimeout:       controlReadTimeout,
			WriteTimeout:      controlWriteTimeout,
			IdleTimeout:       controlIdleTimeout,
			MaxHeaderBytes:    controlMaxHeaderBytes,
		}
		r.goPart(func() error {
			if err := r.hs.Serve(cln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	return r
}

// goPart runs f in a goroutine that Stop waits for, and hands its result
// to r.errc.
func (r *Running) goPart(f func() error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.errc <- f()
		r.endOnce.Do(func() { close(r.ended) })
	}()
}

// Wait blocks until ctx is done or a part has ended by itself (its
// listener failed), then stops r as Stop does and returns Stop's error.
func (r *Running) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-r.ended:
	}
	return r.Stop()
}

// Stop stops every part and waits for their goroutines to end, and returns
// the first error a part returned, if any. None of the steps waits for a
// client, in this order: the control API drops its connections (Close, not
// Shutdown, which would wait for requests), the manager server closes its
// listener and every session's socket, which ends a write that waits on a
// client that does not read, and the PBX's Run ends once it has taken the
// PBX's lock, which the model releases at least every maxTasksPerStep
// tasks. Later calls return the same error.
func (r *Running) Stop() error {
	r.stopOnce.Do(func() {
		r.cancel()
		if r.hs != nil {
			r.hs.Close()
		}
		r.Server.Close()
		r.wg.Wait()
		close(r.errc)
		for err := range r.errc {
			if err != nil && r.err == nil {
				r.err = err
			}
		}
	})
	return r.err
}

// Close is Stop without its error, for defer and t.Cleanup.
func (r *Running) Close() {
	_ = r.Stop()
}
