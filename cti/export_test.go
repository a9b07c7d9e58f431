package cti

import (
	"testing"
	"time"
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

// ShrinkLoginDelay makes the failed-login throttle's delay an hour for the
// test, so that a throttled attempt stays throttled however slow the
// machine, and lets one address fail addrFree times before it is
// throttled.
func ShrinkLoginDelay(t testing.TB, addrFree int) {
	minDelay, maxDelay, free := loginDelayMin, loginDelayMax, addrFreeFailures
	loginDelayMin, loginDelayMax, addrFreeFailures = time.Hour, 2*time.Hour, addrFree
	t.Cleanup(func() { loginDelayMin, loginDelayMax, addrFreeFailures = minDelay, maxDelay, free })
}

// AddrFreeFailures returns the failures one address may make before it is
// throttled.
func AddrFreeFailures() int { return addrFreeFailures }

// NoTLSReloadWait makes every handshake look whether the certificate files
// changed, for the test.
func NoTLSReloadWait(t testing.TB) {
	d := tlsReloadCheck
	tlsReloadCheck = 0
	t.Cleanup(func() { tlsReloadCheck = d })
}
