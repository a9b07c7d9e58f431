package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

func serverCommand() *cli.Command {
	return &cli.Command{
		Name:  "server",
		Usage: "run the CTI server: one AMI connection, the seats of the operators",
		Description: `The server keeps ONE connection to Asterisk's manager interface (AMI),
follows every call of the configured services, and tells the seat whose
phone rings (CallerId), answers (Link, the screen pop) and hangs up. When an
operator logs in at a seat, the seat's phone joins the queues of the
operator's services (QueueAdd, with the operator's penalty); it leaves them
when the session ends.

Start-up is in this order: the configuration is checked (the newest valid
snapshot in --config-dir), then the server connects to Asterisk, and only
then accepts seats on --listen. It makes --ami-retries connection attempts
in all before it gives up and exits 1 (0: for ever); the first pause
between two attempts is --ami-retry-pause, doubled after each failed
attempt up to --ami-retry-max-pause, each pause less up to a quarter at
random. A link that was up and drops starts the count again. A refused
login is an attempt like any other: the error says where the secret came
from (--ami-secret, ASTCTI_AMI_SECRET), never the secret. New snapshots written
into --config-dir are put in force within a second. SIGINT or SIGTERM
removes every queue membership, tells every seat and exits 0.

Every flag can also be set in the environment: ASTCTI_AMI, ASTCTI_AMI_USER,
ASTCTI_AMI_SECRET, … (the flag's name in capitals, "-" as "_").

--tls-listen adds a seat listener that speaks TLS (1.2 at least), with the
certificate chain --tls-cert and its key --tls-key (PEM files; a renewed
pair is picked up within seconds, without a restart). Its seats are the
same as the plain ones: same protocol, limits and sessions. --listen ""
turns the plain listener off. Plain TCP shows every password's MD5, a
password equivalent, to whoever can watch the network: docs/security.md.

--admin-listen serves /healthz (200 when the AMI link is up and a
configuration is in force, else 503), /status (the seats logged in, the
calls in progress, the last seats closed) and /metrics (Prometheus). It is
off unless set, and unauthenticated: bind it to 127.0.0.1 or a management
network, never to a public one (docs/operations.md).
docs/asterisk.md walks through running it against a real Asterisk, from
the manager user to the systemd unit (docs/astcti.service).

Example:
  astcti config init --demo /var/lib/astcti/config
  ASTCTI_AMI_SECRET=s3cret astcti server --ami 127.0.0.1:5038 --ami-user astcti \
      --config-dir /var/lib/astcti/config --listen 0.0.0.0:5039`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ami", Value: "127.0.0.1:5038", Usage: "Asterisk manager `ADDR`ess (host:port)", EnvVars: []string{"ASTCTI_AMI"}},
			&cli.StringFlag{Name: "ami-user", Value: "astcti", Usage: "manager user (manager.conf)", EnvVars: []string{"ASTCTI_AMI_USER"}},
			&cli.StringFlag{Name: "ami-secret", Usage: "manager secret (prefer the environment variable)", EnvVars: []string{"ASTCTI_AMI_SECRET"}},
			&cli.BoolFlag{Name: "ami-md5", Usage: "log in with the MD5 challenge instead of the plain secret", EnvVars: []string{"ASTCTI_AMI_MD5"}},
			&cli.IntFlag{Name: "ami-retries", Value: 0, Usage: "connection attempts in all before giving up, the first one included (0: for ever)", EnvVars: []string{"ASTCTI_AMI_RETRIES"}},
			&cli.DurationFlag{Name: "ami-retry-pause", Value: ami.DefaultRetryPause, Usage: "first pause between connection attempts, doubled after each failure up to --ami-retry-max-pause, less up to a quarter at random", EnvVars: []string{"ASTCTI_AMI_RETRY_PAUSE"}},
			&cli.DurationFlag{Name: "ami-retry-max-pause", Value: ami.DefaultRetryMaxPause, Usage: "longest pause between connection attempts", EnvVars: []string{"ASTCTI_AMI_RETRY_MAX_PAUSE"}},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:5039", Usage: "seat listener `ADDR`ess (plain TCP; off when empty)", EnvVars: []string{"ASTCTI_LISTEN"}},
			&cli.StringFlag{Name: "tls-listen", Usage: "TLS seat listener `ADDR`ess (off when empty; needs --tls-cert and --tls-key)", EnvVars: []string{"ASTCTI_TLS_LISTEN"}},
			&cli.StringFlag{Name: "tls-cert", Usage: "PEM `FILE` of the TLS listener's certificate chain", EnvVars: []string{"ASTCTI_TLS_CERT"}},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM `FILE` of the TLS listener's private key", EnvVars: []string{"ASTCTI_TLS_KEY"}},
			&cli.StringFlag{Name: "config-dir", Value: "/var/lib/astcti/config", Usage: "`DIR`ectory of configuration snapshots", EnvVars: []string{"ASTCTI_CONFIG_DIR"}},
			&cli.DurationFlag{Name: "keepalive", Value: 60 * time.Second, Usage: "close a seat that sends nothing for this long", EnvVars: []string{"ASTCTI_KEEPALIVE"}},
			&cli.DurationFlag{Name: "login-timeout", Value: cti.DefaultLoginTimeout, Usage: "close a connection that has not logged in within this time, whatever it sends (902)", EnvVars: []string{"ASTCTI_LOGIN_TIMEOUT"}},
			&cli.IntFlag{Name: "max-seats", Value: cti.DefaultMaxSeats, Usage: "refuse seat connections over this many at once, logged in or not (906; 0: no cap; lowered to fit the open-file limit)", EnvVars: []string{"ASTCTI_MAX_SEATS"}},
			&cli.IntFlag{Name: "max-seats-per-address", Value: cti.DefaultMaxConnsPerAddr, Usage: "refuse seat connections over this many from one IP address (906; 0: no cap; raise it for many seats behind one NAT or proxy)", EnvVars: []string{"ASTCTI_MAX_SEATS_PER_ADDRESS"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"ASTCTI_LOG_LEVEL"}},
			&cli.StringFlag{Name: "admin-listen", Usage: "serve /healthz, /status and /metrics on `ADDR`ess (e.g. 127.0.0.1:9090; off when empty; never on a public network)", EnvVars: []string{"ASTCTI_ADMIN_LISTEN"}},
			&cli.DurationFlag{Name: "stale-member-grace", Value: cti.DefaultStaleMemberGrace, Usage: "after the start, remove the queue members of configured seats that no session holds (left by a run that was killed) once seats have had this long to log in again (negative: never; 0: the default)", EnvVars: []string{"ASTCTI_STALE_MEMBER_GRACE"}},
			&cli.StringFlag{Name: "ready-file", Usage: "write {\"seats\": ADDR, \"tls\": ADDR, \"admin\": ADDR} to `FILE` once seats are accepted (for scripts; seats is the TLS address when there is no plain listener)", EnvVars: []string{"ASTCTI_READY_FILE"}},
		},
		Action: runServer,
	}
}

func runServer(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("server: unexpected argument %q (see --help)", c.Args().First())
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return err
	}
	if c.Int("ami-retries") < 0 || c.Duration("ami-retry-pause") <= 0 || c.Duration("ami-retry-max-pause") <= 0 {
		return fmt.Errorf("server: --ami-retries cannot be negative, --ami-retry-pause and --ami-retry-max-pause must be positive")
	}
	if c.Duration("login-timeout") <= 0 || c.Int("max-seats") < 0 || c.Int("max-seats-per-address") < 0 {
		return fmt.Errorf("server: --login-timeout must be positive, --max-seats and --max-seats-per-address cannot be negative")
	}
	tc, err := serverTLS(c, logger)
	if err != nil {
		return err
	}
	seatsReady, adminReady, tlsReady := readyFile(c.String("ready-file"), logger)
	srv := cti.New(cti.Config{
		AMI: ami.Config{
			Addr: c.String("ami"), Username: c.String("ami-user"), Secret: c.String("ami-secret"),
			SecretFrom:      valueSource(c, "ami-secret"),
			UseMD5Challenge: c.Bool("ami-md5"),
			Retries:         c.Int("ami-retries"), RetryPause: c.Duration("ami-retry-pause"),
			RetryMaxPause: c.Duration("ami-retry-max-pause"),
		},
		Listen:    c.String("listen"),
		ConfigDir: c.String("config-dir"),
		Keepalive: c.Duration("keepalive"),
		// 0 on the command line is no cap; in cti.Config, a negative value.
		LoginTimeout:    c.Duration("login-timeout"),
		MaxSeats:        noCapIfZero(c.Int("max-seats")),
		MaxConnsPerAddr: noCapIfZero(c.Int("max-seats-per-address")),
		Logger:          logger,
		Ready:           seatsReady,
		AdminListen:     c.String("admin-listen"),
		AdminReady:      adminReady,

		StaleMemberGrace: c.Duration("stale-member-grace"),
		TLSListen:        c.String("tls-listen"),
		TLS:              tc,
		TLSReady:         tlsReady,
	})
	return configHint(serveSignals(c.Context, logger, srv), c.String("config-dir"))
}

// configHint adds the next step to an error that says the configuration
// directory holds no valid snapshot (or does not exist): write one.
func configHint(err error, dir string) error {
	if errors.Is(err, config.ErrNoSnapshot) {
		return fmt.Errorf("%w (write one with: astcti config init %s, or init --demo)", err, dir)
	}
	return err
}

// serverTLS checks the seat listener flags and loads the TLS certificate,
// nil without --tls-listen.
func serverTLS(c *cli.Context, logger *slog.Logger) (*tls.Config, error) {
	listen, cert, key := c.String("tls-listen"), c.String("tls-cert"), c.String("tls-key")
	switch {
	case listen == "" && c.String("listen") == "":
		return nil, errors.New("server: --listen and --tls-listen are both empty: no seat could connect")
	case listen == "" && (cert != "" || key != ""):
		return nil, errors.New("server: --tls-cert and --tls-key need --tls-listen")
	case listen == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, errors.New("server: --tls-listen needs --tls-cert and --tls-key")
	}
	tc, err := cti.LoadTLS(cert, key, logger.With("part", "tls"))
	if err != nil {
		return nil, fmt.Errorf("server: --tls-cert, --tls-key: %w", err)
	}
	return tc, nil
}

// noCapIfZero maps a cap flag's 0 (no cap) to cti.Config's -1.
func noCapIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// readyFile returns the Ready, AdminReady and TLSReady hooks that write
// the seat address, and the admin and TLS addresses when there are, to
// path.
func readyFile(path string, log *slog.Logger) (seats, admin, tlsSeats func(net.Addr)) {
	if path == "" {
		return nil, nil, nil
	}
	// cti.Config: AdminReady and TLSReady are called before Ready, on the
	// same goroutine.
	adminAddr, tlsAddr := "", ""
	admin = func(addr net.Addr) { adminAddr = addr.String() }
	tlsSeats = func(addr net.Addr) { tlsAddr = addr.String() }
	seats = func(addr net.Addr) {
		ready := map[string]string{"seats": addr.String()}
		if adminAddr != "" {
			ready["admin"] = adminAddr
		}
		if tlsAddr != "" {
			ready["tls"] = tlsAddr
		}
		// Written to a temporary name and renamed, so that a script polling
		// for the file never reads half of it.
		b, _ := json.Marshal(ready)
		tmp := path + ".tmp"
		err := os.WriteFile(tmp, b, 0o644)
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			log.Error("cannot write the ready file", "file", path, "err", err)
		}
	}
	return seats, admin, tlsSeats
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// valueSource says where the value of the string flag name came from,
// without the value itself: "the --NAME flag", "the ENV environment
// variable" or "the default (empty)". urfave/cli does not tell a
// command-line value from an environment one, so a value equal to the
// environment variable's is named by the environment variable; the flag
// wins over the environment, so a different value came from the flag.
func valueSource(c *cli.Context, name string) string {
	if !c.IsSet(name) {
		return "the default (empty)"
	}
	for _, f := range c.Command.Flags {
		sf, ok := f.(*cli.StringFlag)
		if !ok || sf.Name != name {
			continue
		}
		for _, env := range sf.EnvVars {
			if v, ok := os.LookupEnv(env); ok && v == c.String(name) {
				return "the " + env + " environment variable"
			}
		}
	}
	return "the --" + name + " flag"
}
