package configurator

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// Bounds and timeouts. Those a test needs other values of are Config
// fields (MaxImportBytes, LiveCacheTTL, AuditPage).
const (
	// MaxSessions bounds the sessions kept; the least recently used one is
	// ended to make room.
	MaxSessions = 1000
	// IdleTimeout ends a session that made no request for so long.
	IdleTimeout = 30 * time.Minute
	// AbsoluteTimeout ends a session so long after its login.
	AbsoluteTimeout = 12 * time.Hour
	// ResetTokenTTL is how long a password reset token is valid.
	ResetTokenTTL = 15 * time.Minute
	// MaxResetTokens bounds the reset tokens outstanding (one per user).
	MaxResetTokens = 100
	// MaxBodyBytes bounds a request body (every form is small).
	MaxBodyBytes int64 = 64 << 10
	// DefaultMaxImportBytes bounds the body of an XML import (POST
	// /apply/import): the largest XML file config reads (16 MiB) and the
	// form around it.
	DefaultMaxImportBytes int64 = 16<<20 + 64<<10
	// DefaultLiveCacheTTL is how long a reading of the server serves every
	// browser of the Live page before the next request reads it again.
	DefaultLiveCacheTTL = time.Second
	// ServerTimeout bounds a request to the server's admin endpoint
	// (--server-admin), and maxServerBody its answer.
	ServerTimeout       = 3 * time.Second
	maxServerBody int64 = 1 << 20
	// maxStatusBody bounds the server's /status, which lists every seat
	// logged in (about 250 bytes each): 64 MiB is some 250,000 seats.
	maxStatusBody int64 = 64 << 20

	// HTTP server bounds.
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleConnTimeout   = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 5 * time.Second
)

// Config is a configurator's configuration.
type Config struct {
	// Store is the working database. The configurator changes it only
	// through Store.As(the session's user), so that the audit log says
	// who made every change.
	Store *config.Store
	Users Users
	// ApplyDir is the server's configuration directory, where Apply writes
	// snapshots.
	ApplyDir string
	// ServerAdmin is the URL of the server's admin endpoints
	// (--admin-listen), "" for none.
	ServerAdmin string
	// Secure is true when the configurator is served over TLS: the session
	// cookie is then Secure and __Host- prefixed.
	Secure bool
	// Logger gets the configurator's log, the reset tokens included. Nil
	// discards it.
	Logger *slog.Logger

	// MaxImportBytes bounds an XML import's upload; 0 means
	// DefaultMaxImportBytes.
	MaxImportBytes int64
	// LiveCacheTTL is how long the Live page's reading of the server is
	// shared; 0 means DefaultLiveCacheTTL.
	LiveCacheTTL time.Duration
	// AuditPage is the audit log's entries per page; 0 means
	// config.DefaultAuditPage.
	AuditPage int
}

// Handler is the configurator's HTTP handler. It is safe for concurrent
// use.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	pairs    *throttle.Limiter // failed logins per (user id, address)
	addrs    *throttle.Limiter // failed logins per address
	resets   *resets
	live     *liveCache // the Live module's reading of the server
	pages    map[string]*template.Template
	mux      *routeMux
	handler  http.Handler
}

// New returns the configurator's handler. It fails when a template does
// not parse.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Users == nil {
		return nil, errors.New("configurator: Store and Users are required")
	}
	cfg.MaxImportBytes = cmp.Or(cfg.MaxImportBytes, DefaultMaxImportBytes)
	cfg.LiveCacheTTL = cmp.Or(cfg.LiveCacheTTL, DefaultLiveCacheTTL)
	cfg.AuditPage = cmp.Or(cfg.AuditPage, config.DefaultAuditPage)
	h := &Handler{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.sessions = newSessions(MaxSessions, IdleTimeout, AbsoluteTimeout)
	// The seat server's policy: throttle.LoginPolicy (docs/security.md).
	h.pairs, h.addrs = throttle.LoginPolicy().Limiters()
	h.resets = newResets(MaxResetTokens, ResetTokenTTL)
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h.pages = pages
	h.routes()
	return h, nil
}

// ServeHTTP serves the configurator.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// Serve serves h on ln until ctx ends, with TLS when tc is not nil, then
// shuts down gracefully (shutdownTimeout at most). It returns nil after a
// stop through ctx.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tc *tls.Config, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleConnTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("configurator: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("configurator: shutdown: %w", err)
	}
	return nil
}
