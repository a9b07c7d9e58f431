package cti

import (
	"time"

	"github.com/astcti/astcti/cti/ami"
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
