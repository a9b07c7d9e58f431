package ctitest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
)

// The manager account of every fake Asterisk this package starts.
const (
	AMIUser   = "astcti"
	AMISecret = "s3cret"
)

// AMIConfig returns a client configuration for a fake Asterisk at addr,
// tuned for tests: retries every 50 ms (doubling), no wait for FullyBooted
// (a replayed recording never sends one at login), and a short action
// timeout.
func AMIConfig(addr string) ami.Config {
	return ami.Config{
		Addr:            addr,
		Username:        AMIUser,
		Secret:          AMISecret,
		RetryPause:      50 * time.Millisecond,
		FullyBootedWait: -1,
		ActionTimeout:   5 * time.Second,
	}
}

// manager is a fakeami.Server serving on its own listener, and the
// goroutine that serves it.
type manager struct {
	srv  *fakeami.Server
	done chan struct{}
}

func serve(t testing.TB, cfg fakeami.Config, ln net.Listener) *manager {
	t.Helper()
	srv, err := fakeami.NewServer(cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("fakeami: %v", err)
	}
	m := &manager{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := srv.Serve(ln); err != nil {
			t.Errorf("fakeami: serve: %v", err)
		}
	}()
	return m
}

// close stops the manager and waits for every goroutine it started.
func (m *manager) close() {
	m.srv.Close()
	<-m.done
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	// A port just freed may stay busy for a moment (another test's
	// ephemeral connection, say): try again until Wait.
	err := Poll(Wait, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

// PBX is a live fake Asterisk: a fakeami.PBX model, run by its clock, and a
// manager server in front of it on 127.0.0.1. The manager can be stopped
// and started again on the same address, as an Asterisk whose manager
// restarts; the model lives on.
type PBX struct {
	PBX  *fakeami.PBX
	Addr string // host:port of the manager
	// Faults stands between the manager and the model: a test makes the
	// PBX refuse or ignore actions with Faults.Add.
	Faults *fakeami.Faults

	t       testing.TB
	dialect fakeami.Dialect
	mu      sync.Mutex
	mgr     *manager // nil while stopped
}

// StartPBX starts a fake PBX with opts and its manager on 127.0.0.1:0. Both
// stop when the test ends.
func StartPBX(t testing.TB, opts fakeami.Options) *PBX {
	t.Helper()
	pbx, err := fakeami.NewPBX(opts)
	if err != nil {
		t.Fatalf("fakeami: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		pbx.Run(ctx)
	}()
	p := &PBX{PBX: pbx, Faults: fakeami.NewFaults(pbx), t: t, dialect: opts.Dialect}
	ln := listen(t, "127.0.0.1:0")
	p.Addr = ln.Addr().String()
	p.mgr = p.serve(ln)
	t.Cleanup(func() {
		p.StopManager()
		cancel()
		<-ran
	})
	return p
}

func (p *PBX) serve(ln net.Listener) *manager {
	return serve(p.t, fakeami.Config{
		Dialect: p.dialect, Username: AMIUser, Secret: AMISecret,
		Engine: p.Faults, StartTime: p.PBX.StartTime,
	}, ln)
}

// Config returns a client configuration for the PBX's manager (AMIConfig).
func (p *PBX) Config() ami.Config { return AMIConfig(p.Addr) }

// StopManager closes the manager server: every manager session is cut and
// the port is closed, so connection attempts are refused. The PBX model
// goes on. It is idempotent.
func (p *PBX) StopManager() {
	p.mu.Lock()
	m := p.mgr
	p.mgr = nil
	p.mu.Unlock()
	if m != nil {
		m.close()
	}
}

// StartManager starts a new manager server on the same address as before.
func (p *PBX) StartManager() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mgr != nil {
		p.t.Fatalf("ctitest: the manager is already running")
	}
	p.mgr = p.serve(listen(p.t, p.Addr))
}

// Manager returns the manager server in service, nil while stopped.
func (p *PBX) Manager() *fakeami.Server {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mgr == nil {
		return nil
	}
	return p.mgr.srv
}

// Restart does what `core restart now` does to a real Asterisk: every call
// ends, the dynamic queue members are forgotten, and every manager session
// is hung up (the listener stays open for reconnects).
func (p *PBX) Restart() {
	p.PBX.Shutdown()
	if m := p.Manager(); m != nil {
		m.DropSessions()
	}
}

// Members returns the interfaces of the members of queue, sorted.
func (p *PBX) Members(queue string) []string {
	var out []string
	for _, q := range p.PBX.State().Queues {
		if q.Name == queue {
			for _, m := range q.Members {
				out = append(out, m.Interface)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Member returns the member iface of queue, if there is one.
func (p *PBX) Member(queue, iface string) (fakeami.MemberSnapshot, bool) {
	for _, q := range p.PBX.State().Queues {
		if q.Name != queue {
			continue
		}
		for _, m := range q.Members {
			if m.Interface == iface {
				return m, true
			}
		}
	}
	return fakeami.MemberSnapshot{}, false
}

// WaitMembers waits until the members of queue are exactly want (in any
// order).
func (p *PBX) WaitMembers(queue string, want ...string) {
	p.t.Helper()
	want = slices.Sorted(slices.Values(want))
	WaitFor(p.t, fmt.Sprintf("the members of %s to be %v", queue, want), func() error {
		got := p.Members(queue)
		return Check(slices.Equal(got, want), "members %v", got)
	})
}

// Replay is a fake Asterisk that plays a recorded trace (fakeami.Replay)
// to the manager sessions that log in, on 127.0.0.1.
type Replay struct {
	AMI  *fakeami.Server
	Addr string
}

// StartReplay serves rp on 127.0.0.1:0 until the test ends.
func StartReplay(t testing.TB, rp *fakeami.Replay) *Replay {
	t.Helper()
	ln := listen(t, "127.0.0.1:0")
	m := serve(t, fakeami.Config{Username: AMIUser, Secret: AMISecret, Replay: rp}, ln)
	t.Cleanup(m.close)
	return &Replay{AMI: m.srv, Addr: ln.Addr().String()}
}

// Config returns a client configuration for the replay (AMIConfig).
func (r *Replay) Config() ami.Config { return AMIConfig(r.Addr) }

// Start starts the recording for the one manager session that waits for
// it (the replay must have WaitCall set), and fails the test if there is
// not exactly one.
func (r *Replay) Start(t testing.TB) {
	t.Helper()
	if n := r.AMI.StartReplay(); n != 1 {
		t.Fatalf("fakeami: the replay started for %d manager sessions, want 1", n)
	}
}

// FreeAddr returns a 127.0.0.1 address where nothing listens (a port the
// system just gave out and that was closed again).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("close: %v", err)
	}
	return addr
}
