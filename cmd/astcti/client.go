package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatclient"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/cti/stopsignal"
)

// Exit codes of `astcti client` (listed in its --help).
const (
	exitError       = 1 // anything else
	exitUsage       = 2 // bad flags or arguments
	exitLogin       = 3 // the server refused the login
	exitSeat        = 4 // the server refused this PC's MAC
	exitUnreachable = 5 // no session within --retries attempts at start
	exitReplaced    = 6 // the operator logged in elsewhere
)

func clientCommand() *cli.Command {
	return &cli.Command{
		Name:      "client",
		Usage:     "the seat client: log in for an operator, show the calls of the seat's phone, pop the screen",
		ArgsUsage: " ",
		Description: `The client runs on an operator's PC. It logs in to the astcti server as
--user, names its seat by this PC's MAC address, and keeps the session: a
NOOP every --keepalive, and when the server goes away it reconnects with a
growing pause (--retry-pause, doubled after each failure up to
--retry-max-pause, each pause less up to a quarter at random) and logs in
again, for ever. At start, --retries N makes N connection attempts in all,
the first one included, and then exits with status 5 (0: for ever), as the
server's --ami-retries does.

Every event (CallerId: the phone rings; Link: the operator answered;
Hangup; OriginateResponse) and every status line of the server is printed
as one line on standard output, or as one JSON object per line with --json.
On each Link whose service has an action, the client performs it:
  application  runs the program with the parameters split into arguments
               (quotes respected; never through a shell); the client does
               not wait for it
  browser      opens the URL with xdg-open (Linux, BSD), open (macOS) or
               rundll32 url.dll,FileProtocolHandler (Windows); only http
               and https URLs; --no-open only prints it

While it runs, it reads commands on standard input:
  pause [REASON]        pause in every queue of the operator
  unpause               unpause
  call EXTEN [CONTEXT]  call EXTEN from the seat's phone (CONTEXT: --context)
  quit                  log out and exit (as Ctrl-C does)
  help                  list the commands

--mac auto takes the MAC address of this PC's first real network interface:
in the system's order, the first interface that is up, not a loopback or
point-to-point link, has a non-zero 6-byte address, and is not virtual by its
name (Docker, bridges, veth, tun/tap, VPNs, VMware, VirtualBox, Hyper-V, WSL,
Bluetooth…); a burnt-in address wins over a locally administered one. Use
--mac to choose another, or --mac none for an operator with a fixed seat.

--tls connects with TLS (1.2 at least; astcti server --tls-listen) and
checks the server's certificate against the system's roots (or --tls-ca, a
private CA's certificate), for the host name of --server (or
--tls-server-name, when the server is reached by another name or address
than its certificate's); --tls-insecure accepts any certificate (a lab
server with a self-signed one), with a warning. Without TLS, the MD5 of the
password goes in clear: docs/security.md.

Exit status:
  0  the client was told to quit (quit, Ctrl-C, SIGTERM)
  1  another error
  2  bad flags or arguments
  3  the server refused the login: wrong user name or password, operator
     disabled, too many failed logins
  4  the server refused the seat: no seat has this PC's MAC, or another
     operator holds the seat (this PC's, or the operator's fixed seat)
  5  the server could not be reached within --retries attempts at start
  6  the operator logged in on another PC, which took over the session

Every flag can also be set in the environment: ASTCTI_SERVER, ASTCTI_USER,
ASTCTI_PASSWORD (better than --password, which other users of the PC can
see), … (the flag's name in capitals, "-" as "_").

To start it at login (systemd, XDG autostart, launchd, Task Scheduler), use
the start files of docs/client/, described in docs/asterisk.md, "Operators'
PCs": they start it again after status 1 or 5, never after 2, 3, 4 or 6.

Example:
  ASTCTI_PASSWORD=alice astcti client --server cti.example:5039 --user alice`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "server", Value: "127.0.0.1:" + seatclient.DefaultPort, Usage: "the astcti server's `ADDR`ess, host[:port] (port " + seatclient.DefaultPort + " if none)", EnvVars: []string{"ASTCTI_SERVER"}},
			&cli.StringFlag{Name: "user", Usage: "the operator's user `NAME`", EnvVars: []string{"ASTCTI_USER"}},
			&cli.StringFlag{Name: "password", Usage: "the operator's password (prefer the environment variable)", EnvVars: []string{"ASTCTI_PASSWORD"}},
			&cli.StringFlag{Name: "mac", Value: "auto", Usage: "this PC's `MAC` address, which names its seat: auto, none, or 00:11:22:33:44:55", EnvVars: []string{"ASTCTI_MAC"}},
			&cli.BoolFlag{Name: "tls", Usage: "connect with TLS", EnvVars: []string{"ASTCTI_TLS"}},
			&cli.BoolFlag{Name: "tls-insecure", Usage: "with TLS, accept any server certificate (lab servers only)", EnvVars: []string{"ASTCTI_TLS_INSECURE"}},
			&cli.StringFlag{Name: "tls-ca", Usage: "with TLS, trust the CA certificates of PEM `FILE` instead of the system's", EnvVars: []string{"ASTCTI_TLS_CA"}},
			&cli.StringFlag{Name: "tls-server-name", Usage: "with TLS, check the server's certificate for `NAME` instead of --server's host", EnvVars: []string{"ASTCTI_TLS_SERVER_NAME"}},
			&cli.DurationFlag{Name: "keepalive", Value: seatclient.DefaultKeepalive, Usage: "send a NOOP this often (a third of the server's keepalive timeout)", EnvVars: []string{"ASTCTI_KEEPALIVE"}},
			&cli.IntFlag{Name: "retries", Value: 0, Usage: "connection attempts in all at start, the first one included, before giving up with exit status 5 (0: for ever)", EnvVars: []string{"ASTCTI_RETRIES"}},
			&cli.DurationFlag{Name: "retry-pause", Value: seatclient.DefaultRetryPause, Usage: "first pause between connection attempts; it doubles after each failure up to --retry-max-pause, each pause less up to a quarter at random", EnvVars: []string{"ASTCTI_RETRY_PAUSE"}},
			&cli.DurationFlag{Name: "retry-max-pause", Value: seatclient.DefaultRetryMaxPause, Usage: "longest pause between connection attempts", EnvVars: []string{"ASTCTI_RETRY_MAX_PAUSE"}},
			&cli.StringFlag{Name: "context", Value: "from-operators", Usage: "the dialplan `CONTEXT` of call EXTEN (an outbound service's)", EnvVars: []string{"ASTCTI_CONTEXT"}},
			&cli.BoolFlag{Name: "no-open", Usage: "print the URLs of browser actions instead of opening them", EnvVars: []string{"ASTCTI_NO_OPEN"}},
			&cli.BoolFlag{Name: "json", Usage: "print JSON lines instead of text (for scripts)", EnvVars: []string{"ASTCTI_JSON"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error (logs go to standard error)", EnvVars: []string{"ASTCTI_LOG_LEVEL"}},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("%v", err)
		},
		Action: runClient,
	}
}

// usageError is a bad flag or argument: exit status 2.
func usageError(format string, args ...any) error {
	return cli.Exit("astcti client: "+fmt.Sprintf(format, args...)+" (see astcti client --help)", exitUsage)
}

func runClient(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("unexpected argument %q", c.Args().First())
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return usageError("%v", err)
	}
	cfg, iface, err := clientConfig(c, logger)
	if err != nil {
		return usageError("%v", err)
	}
	out := seatclient.NewOutput(os.Stdout, c.Bool("json"))
	runner := &seatclient.Runner{NoOpen: c.Bool("no-open"), Logger: logger}
	cfg.Runner = runner
	cfg.Logger = logger
	cfg.Notify = func(n seatclient.Note) {
		if err := out.Note(n); err != nil {
			logger.Error("cannot write to standard output", "err", err)
		}
	}
	client, err := seatclient.New(cfg)
	if err != nil {
		return usageError("%v", err)
	}

	// SIGHUP too: a client whose terminal is gone logs out (signals.go).
	ctx, stop := stopsignal.NotifyContext(c.Context)
	defer stop()
	// Not waited for: it may stay blocked reading standard input, which
	// cannot be interrupted; it ends with the process.
	go func() {
		if err := seatclient.ReadInput(ctx, os.Stdin, client, c.String("context"), os.Stderr, stop); err != nil {
			logger.Warn("no more commands from standard input", "err", err)
		}
	}()
	err = client.Run(ctx)
	stopsignal.Log(ctx, logger)

	// Let the programs just started say how they ended (an opener that
	// failed), without waiting for the ones the operator still uses.
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if runner.Wait(wctx) != nil {
		logger.Info("programs started for calls keep running")
	}
	return clientExit(err, cfg.User, iface)
}

// clientConfig makes the client's configuration from the flags. iface is
// the interface --mac auto took the MAC address from.
func clientConfig(c *cli.Context, logger *slog.Logger) (cfg seatclient.Config, iface string, err error) {
	cfg.Addr, err = serverAddr(c.String("server"))
	if err != nil {
		return cfg, "", err
	}
	cfg.User = c.String("user")
	if cfg.User == "" {
		return cfg, "", errors.New("--user is required")
	}
	if _, err := seatproto.AppendCommand(nil, seatproto.Command{Verb: seatproto.VerbUser, User: cfg.User}); err != nil {
		return cfg, "", fmt.Errorf("--user %q: not a user name (1 to %d bytes, no spaces or control characters)", cfg.User, seatproto.MaxUserLen)
	}
	if !c.IsSet("password") {
		return cfg, "", errors.New("--password (or ASTCTI_PASSWORD) is required")
	}
	cfg.PasswordMD5 = config.MD5Hex(c.String("password"))
	cfg.MAC, iface, err = macFlag(c.String("mac"), seatclient.DetectMAC)
	if err != nil {
		return cfg, "", err
	}
	switch {
	case cfg.MAC == "":
		logger.Warn("no MAC address is sent: only an operator with a fixed seat gets one")
	case iface != "":
		logger.Info("seat MAC address detected", "mac", cfg.MAC, "interface", iface)
	}
	cfg.TLS, err = tlsConfig(c.Bool("tls"), c.Bool("tls-insecure"), c.String("tls-ca"), c.String("tls-server-name"))
	if err != nil {
		return cfg, "", err
	}
	if cfg.TLS != nil && cfg.TLS.InsecureSkipVerify {
		logger.Warn("--tls-insecure: the server's certificate is not checked; whoever sits on the network path can pose as the server")
	}
	cfg.Keepalive = c.Duration("keepalive")
	cfg.Retries = c.Int("retries")
	cfg.RetryPause = c.Duration("retry-pause")
	cfg.RetryMaxPause = c.Duration("retry-max-pause")
	switch {
	case cfg.Keepalive <= 0:
		return cfg, "", errors.New("--keepalive must be positive")
	case cfg.Retries < 0:
		return cfg, "", errors.New("--retries cannot be negative")
	case cfg.RetryPause <= 0 || cfg.RetryMaxPause <= 0:
		return cfg, "", errors.New("--retry-pause and --retry-max-pause must be positive")
	}
	return cfg, iface, nil
}

// serverAddr checks --server and adds the default port when it has none.
func serverAddr(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "/ ") {
			return "", fmt.Errorf("--server %q: want host[:port]", s)
		}
		return s, nil
	}
	host := s
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if host == "" || strings.ContainsAny(host, "[]/ ") {
		return "", fmt.Errorf("--server %q: want host[:port]", s)
	}
	return net.JoinHostPort(host, seatclient.DefaultPort), nil
}

// macFlag reads --mac: auto (detect), none (send none), or an address.
// iface is the interface an auto address comes from.
func macFlag(v string, detect func() (mac, iface string, err error)) (mac, iface string, err error) {
	switch strings.ToLower(v) {
	case "auto":
		mac, iface, err := detect()
		if err != nil {
			return "", "", nil // reported by the caller: no MAC is sent
		}
		return mac, iface, nil
	case "none", "":
		return "", "", nil
	}
	cmd, err := seatproto.ParseCommand([]byte("MAC " + v))
	if err != nil || strings.ContainsAny(v, " \t") {
		return "", "", fmt.Errorf("--mac %q: not a MAC address like 00:11:22:33:44:55, auto or none", v)
	}
	return cmd.MAC, "", nil
}

// tlsConfig returns the client's TLS configuration, nil for plain TCP.
// --tls-insecure, --tls-ca and --tls-server-name imply --tls.
func tlsConfig(on, insecure bool, caFile, serverName string) (*tls.Config, error) {
	if !on && !insecure && caFile == "" && serverName == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure, ServerName: serverName}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", caFile)
		}
	}
	return tc, nil
}

// clientExit turns Run's error into the exit status and message of the
// command's --help.
func clientExit(err error, user, iface string) error {
	if err == nil {
		return nil
	}
	var (
		re *seatclient.RefusedError
		ue *seatclient.UnreachableError
	)
	switch {
	case errors.As(err, &re) && re.Verb == seatproto.VerbMAC:
		var msg string
		switch re.Reason {
		case seatproto.ReasonUnknownSeat:
			msg = fmt.Sprintf("this PC's MAC %s is not a configured seat", re.MAC)
			if iface != "" {
				msg += fmt.Sprintf(" (taken from interface %s; choose another with --mac)", iface)
			}
		case seatproto.ReasonSeatInUse:
			msg = fmt.Sprintf("the seat of this PC's MAC %s is in use by another operator", re.MAC)
		default:
			msg = fmt.Sprintf("seat refused for this PC's MAC %s: %s", re.MAC, re.Reason)
		}
		return cli.Exit("astcti: "+msg, exitSeat)
	case errors.As(err, &re) && re.Reason == seatproto.ReasonSeatInUse:
		return cli.Exit(fmt.Sprintf("astcti: %s's fixed seat is in use by another operator; log in again once it is free", user), exitSeat)
	case errors.As(err, &re):
		return cli.Exit("astcti: login refused: "+re.Reason, exitLogin)
	case errors.As(err, &ue):
		attempts := "attempts"
		if ue.Attempts == 1 {
			attempts = "attempt"
		}
		hint := ""
		var cve *tls.CertificateVerificationError
		if errors.As(ue.Err, &cve) {
			hint = " (the server's certificate is not trusted: check --tls-ca and --tls-server-name)"
		}
		return cli.Exit(fmt.Sprintf("astcti: cannot reach the server at %s after %d %s: %v%s", ue.Addr, ue.Attempts, attempts, ue.Err, hint), exitUnreachable)
	case errors.Is(err, seatclient.ErrReplaced):
		return cli.Exit(fmt.Sprintf("astcti: %s logged in on another PC, which took over the session", user), exitReplaced)
	}
	return cli.Exit("astcti: "+err.Error(), exitError)
}
