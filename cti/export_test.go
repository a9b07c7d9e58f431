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
