package cti

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
