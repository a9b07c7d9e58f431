package cti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/astcti/astcti/cti/metrics"
)

// The admin endpoints (Config.AdminListen; docs/operations.md) are for the
// operator's monitoring: read-only, unauthenticated, and never on unless
// asked for. They must not face a public network: /status names every
// operator and where they sit.
//
// Every answer about live state comes from the hub's goroutine (askHub),
// bounded by adminHubWait: a hub that does not answer makes /healthz say
// 503, which is what a health check is for.

const adminIndex = `astcti admin endpoints (docs/operations.md):
  /healthz  200 when the AMI link is up and a configuration is in force, else 503 (JSON)
  /status   the seats logged in, the calls in progress, the last seats closed and why (JSON)
  /metrics  Prometheus metrics (text format)
`

// startAdmin starts serving the admin endpoints on cfg.AdminListen, if
// set, until ctx ends. Its two goroutines are Run's.
func (s *Server) startAdmin(ctx context.Context) error {
	if s.cfg.AdminListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("cti: admin: %w", err)
	}
	srv := &http.Server{
		Handler:           s.adminHandler(),
		ReadHeaderTimeout: adminReadTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       adminIdleTimeout,
		MaxHeaderBytes:    adminMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.log.Info("admin endpoints: /healthz, /status, /metrics", "addr", ln.Addr().String())
	if s.cfg.AdminReady != nil {
		s.cfg.AdminReady(ln.Addr())
	}
	s.goWait(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin endpoints: the server failed", "err", err)
		}
	})
	s.goWait(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), adminShutdownTimeout)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	})
	return nil
}

func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, adminIndex)
	})
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /status", s.serveStatus)
	mux.Handle("GET /metrics", s.metrics.Handler(s.sampleGauges))
	return mux
}

// serveHealth answers 200 when the AMI link is up and a configuration is
// in force, else 503; the body says why either way.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), adminHubWait)
	defer cancel()
	h, err := askHub(ctx, s.hub, (*hub).health)
	if err != nil {
		h.Problems = []string{err.Error()}
	}
	if r := h.Config.Refused; r != nil {
		// The hub does no I/O: that the refused file is gone (the admin
		// deleted it) is seen here.
		if _, err := os.Stat(r.File); errors.Is(err, fs.ErrNotExist) {
			h.Config.Refused = nil
		}
	}
	h.Build = s.build
	code := http.StatusOK
	if !h.Healthy {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), adminHubWait)
	defer cancel()
	st, err := askHub(ctx, s.hub, (*hub).status)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// sampleGauges sets, before a scrape, the gauges whose values the hub and
// the connection set own. When the hub does not answer in time, its gauges
// keep their last values.
func (s *Server) sampleGauges(r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), adminHubWait)
	defer cancel()
	sample, err := askHub(ctx, s.hub, (*hub).sample)
	if err != nil {
		sample = metrics.Sample{}
	}
	sample.SeatsConnected, sample.QueuedBytes = s.connStats()
	s.metrics.Set(sample)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
