package cti

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// tlsReloadCheck is how often, at most, a handshake looks whether the
// certificate or key file changed (a renewal by certbot, say); the check is
// two stat calls.
var tlsReloadCheck = 10 * time.Second

// LoadTLS returns the TLS configuration of the seat listener for the PEM
// certificate chain certFile and its key keyFile, with TLS 1.2 at least.
// The files are read now, so that a bad pair fails at start; later
// handshakes load them again when their modification time changed (checked
// every tlsReloadCheck at most), so a renewed certificate needs no restart.
// A pair that fails to load then keeps the previous one in use, logged once.
func LoadTLS(certFile, keyFile string, log *slog.Logger) (*tls.Config, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := r.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
}

// certReloader holds the seat listener's certificate and loads it again
// when its files change. It is safe for concurrent use (handshakes run on
// the seats' goroutines).
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	checked   time.Time // the last look at the files
	certMod   time.Time // the files' modification times when cert was loaded,
	keyMod    time.Time // or when loading them last failed
	lastError string
}

// load reads the pair. r.mu must be held, or r not yet shared.
func (r *certReloader) load() error {
	certMod, keyMod, err := r.modTimes()
	if err == nil {
		var cert tls.Certificate
		cert, err = tls.LoadX509KeyPair(r.certFile, r.keyFile)
		if err == nil {
			r.cert, r.certMod, r.keyMod = &cert, certMod, keyMod
			return nil
		}
	}
	return fmt.Errorf("cti: TLS certificate %s, key %s: %w", r.certFile, r.keyFile, err)
}

func (r *certReloader) modTimes() (cert, key time.Time, err error) {
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return cert, key, err
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return cert, key, err
	}
	return ci.ModTime(), ki.ModTime(), nil
}

// get is the GetCertificate of the listener's configuration.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < tlsReloadCheck {
		return r.cert, nil
	}
	r.checked = now
	certMod, keyMod, err := r.modTimes()
	if err == nil && certMod.Equal(r.certMod) && keyMod.Equal(r.keyMod) {
		return r.cert, nil
	}
	if err == nil {
		// Remember the failed times too: a half-written pair is tried again
		// once it changes again, not at every handshake.
		r.certMod, r.keyMod = certMod, keyMod
		if err = r.load(); err == nil {
			r.lastError = ""
			r.log.Info("seat TLS certificate loaded again", "cert", r.certFile, "key", r.keyFile)
			return r.cert, nil
		}
	}
	if err.Error() != r.lastError {
		r.lastError = err.Error()
		r.log.Warn("seat TLS certificate not reloaded; the previous one stays in use", "err", err)
	}
	return r.cert, nil
}

// listenSeats opens the seat listeners: plain TCP on Listen and TLS on
// TLSListen, either of which may be off (""), not both. Both feed the same
// accept loop, so their seats share the limits and the sessions. It calls
// the TLSReady hook, then Ready.
func (s *Server) listenSeats() ([]net.Listener, error) {
	if s.cfg.Listener == nil && s.cfg.Listen == "" && s.cfg.TLSListen == "" {
		return nil, errors.New("no seat listener: the plain and the TLS address are both empty")
	}
	if s.cfg.TLSListen != "" && s.cfg.TLS == nil {
		return nil, errors.New("a TLS listener needs a certificate (LoadTLS)")
	}
	var lns []net.Listener
	if ln := s.cfg.Listener; ln != nil {
		s.log.Info("accepting seats", "addr", ln.Addr().String())
		lns = append(lns, ln)
	} else if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return nil, err
		}
		s.log.Info("accepting seats", "addr", ln.Addr().String())
		lns = append(lns, ln)
	}
	if s.cfg.TLSListen != "" {
		ln, err := net.Listen("tcp", s.cfg.TLSListen)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("TLS: %w", err)
		}
		tc := s.cfg.TLS.Clone()
		tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
		s.log.Info("accepting seats over TLS", "addr", ln.Addr().String())
		// The handshake happens on the seat's own goroutines, at its first
		// read or write, bounded by their deadlines: never in Accept.
		lns = append(lns, &tlsListener{Listener: ln, config: tc, log: s.log})
		if s.cfg.TLSReady != nil {
			s.cfg.TLSReady(ln.Addr())
		}
	}
	if s.cfg.Ready != nil {
		s.cfg.Ready(lns[0].Addr())
	}
	return lns, nil
}

// tlsListener is tls.NewListener's listener, with conns that log a failed
// handshake: a client that refuses the certificate, or speaks plain TCP to
// the TLS port, is what an administrator looks for.
type tlsListener struct {
	net.Listener
	config *tls.Config
	log    *slog.Logger
}

// Accept returns the next connection; its handshake is not done yet.
func (l *tlsListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{Conn: tls.Server(nc, l.config), log: l.log}, nil
}

// tlsConn is a server-side *tls.Conn whose first Read or Write does the
// handshake and logs its failure, once. Read and Write are safe to call
// at the same time, as a seat's reader and writer do: the second waits for
// the handshake the first started.
type tlsConn struct {
	*tls.Conn
	log  *slog.Logger
	once sync.Once
	err  error
}

func (c *tlsConn) handshake() error {
	c.once.Do(func() {
		if c.err = c.Conn.Handshake(); c.err != nil {
			c.log.Info("seat TLS handshake failed", "remote", c.RemoteAddr().String(), "err", c.err)
		}
	})
	return c.err
}

func (c *tlsConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *tlsConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
