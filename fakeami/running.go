package fakeami

import (
	"context"
	"net"
	"sync"
)

// Running is a fake PBX whose manager server serves a listener, as tests
// and tools start one. Start makes it; Close stops both.
type Running struct {
	PBX    *PBX
	Server *Server
	Addr   string // the listener's address, e.g. "127.0.0.1:40123"

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start serves srv on ln and runs pbx's clock, each in a goroutine that
// Close waits for.
func Start(pbx *PBX, srv *Server, ln net.Listener) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{PBX: pbx, Server: srv, Addr: ln.Addr().String(), cancel: cancel}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); _ = srv.Serve(ln) }()
	go func() { defer r.wg.Done(); _ = pbx.Run(ctx) }()
	return r
}

// Close stops the PBX's clock and the server (its listener and every
// session), and waits for both goroutines to end.
func (r *Running) Close() {
	r.cancel()
	r.Server.Close()
	r.wg.Wait()
}
