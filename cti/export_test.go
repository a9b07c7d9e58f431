package cti

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// Sessions returns the operators that have a session on the hub, or nil
// and false when the hub has stopped.
func (s *Server) Sessions() ([]string, bool) {
	var ops []string
	ok := s.hub.inspect(func(h *hub) {
		for op := range h.byOperator {
			ops = append(ops, op)
		}
	})
	return ops, ok
}

// ActionsPeak returns the most actions the hub has had in flight at once,
// and the bound it keeps them under.
func (s *Server) ActionsPeak() (peak, window int) {
	s.hub.inspect(func(h *hub) { peak = h.out.peak })
	return peak, amiWindow
}

// ShrunkLoginThrottle is the failed-login policy with its delays an hour,
// so that a throttled attempt stays throttled however slow the machine,
// and addrFree failures allowed per address.
func ShrunkLoginThrottle(addrFree int) throttle.Policy {
	p := throttle.LoginPolicy()
	p.Base, p.Max, p.AddrFree = time.Hour, 2*time.Hour, addrFree
	return p
}

// NoTLSReloadWait makes every handshake look whether the certificate files
// changed, for the test.
func NoTLSReloadWait(t testing.TB) {
	d := tlsReloadCheck
	tlsReloadCheck = 0
	t.Cleanup(func() { tlsReloadCheck = d })
}

// SetReconcileEvery changes how often the hub checks its calls against
// the PBX's channels, for servers started afterwards; it returns the
// function that restores it.
func SetReconcileEvery(d time.Duration) (restore func()) {
	old := reconcileEvery
	reconcileEvery = d
	return func() { reconcileEvery = old }
}

// InjectAMI hands frames to the hub as if the PBX had sent them: a test
// makes the tracker know channels the PBX does not have (their Hangup
// lost).
func (s *Server) InjectAMI(frames ...*ami.Frame) bool {
	return s.hub.inspect(func(h *hub) {
		for _, f := range frames {
			h.amiEvent(f, time.Now())
		}
	})
}

// TrackerLen returns the number of channels the hub's tracker follows.
func (s *Server) TrackerLen() (n int) {
	s.hub.inspect(func(h *hub) { n = h.tracker.Len() })
	return n
}

// CountStandInChecks counts, for the test, the password checks run against
// the stand-in hash of a login that has no real one to check (an unknown
// name, a disabled operator). Call it before the server starts.
func CountStandInChecks(t testing.TB) *atomic.Int64 {
	orig := dummyOperator
	var n atomic.Int64
	dummyOperator = func() *config.Operator { n.Add(1); return orig() }
	t.Cleanup(func() { dummyOperator = orig })
	return &n
}

// SeatActionBurst returns how many PAUSE or ORIG one seat may send at once
// before the rate limit refuses them.
func SeatActionBurst() int { return seatActionBurst }
