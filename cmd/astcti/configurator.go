package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/configurator"
	"github.com/astcti/astcti/cti/stopsignal"
)

func configuratorCommand() *cli.Command {
	return &cli.Command{
		Name:  "configurator",
		Usage: "run the web configurator: manager users edit the configuration and apply it",
		Description: `The configurator is the administrators' web application. It edits the
working configuration database and writes snapshots of it into the
server's configuration directory (--apply-dir, the server's --config-dir),
which the server puts in force within a second.

--data DIR holds its two databases, created at the first start:
  DIR/` + configurator.WorkingFile + `  the working configuration (seats, operators, services)
  DIR/` + configurator.UsersFile + `    the manager users who log in to the configurator
Create the first manager user on this host before you log in:
  astcti user add --data DIR USERID

Open http://ADDR/ (the --listen address) in a browser and log in. Sessions
end after 30 minutes without a request and 12 hours after the login.
Failed logins are slowed down per user id and address and per address. A
lost password is reset with "astcti user passwd --data DIR USERID", or
from the login page's "Password lost?", which writes a one-time token to
this program's log (standard error): whoever reads the log gives it to the
user. docs/configurator.md walks through the first setup, docs/security.md
lists what protects it.

Serve it over TLS (--tls-cert and --tls-key, PEM files; a renewed pair is
picked up without a restart) whenever the browser is on another host:
passwords and session cookies cross the network. Without TLS, keep --listen
on 127.0.0.1 and reach it through an SSH tunnel
(ssh -L 8080:127.0.0.1:8080 pbx-host).

--server-admin is the URL of the server's --admin-listen endpoints
(http://127.0.0.1:9090): the Apply page reads its /healthz to show whether
the newest snapshot is in force or refused and why, and the Live page its
/healthz and /status (the AMI link, the seats logged in, their queues and
pauses, the calls in progress), at most once a second. Without it, the
server's state is shown as unknown.

SIGINT, SIGTERM or SIGHUP stops it cleanly: requests in progress end, then
it exits 0. Every flag can also be set in the environment:
ASTCTI_CONFIGURATOR_LISTEN, ASTCTI_CONFIGURATOR_DATA, … (the flag's name in
capitals, "-" as "_", after ASTCTI_CONFIGURATOR_).

Example:
  astcti user add --data /var/lib/astcti/configurator admin
  astcti configurator --listen 127.0.0.1:8080 --data /var/lib/astcti/configurator \
      --apply-dir /var/lib/astcti/config --server-admin http://127.0.0.1:9090`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "HTTP(S) `ADDR`ess to serve on (host:port)", EnvVars: []string{"ASTCTI_CONFIGURATOR_LISTEN"}},
			&cli.StringFlag{Name: "data", Usage: "`DIR`ectory of the working database and the manager users' database (created if missing)", EnvVars: []string{"ASTCTI_CONFIGURATOR_DATA"}},
			&cli.StringFlag{Name: "apply-dir", Usage: "the server's configuration `DIR`ectory (its --config-dir), where Apply writes snapshots", EnvVars: []string{"ASTCTI_CONFIGURATOR_APPLY_DIR"}},
			&cli.StringFlag{Name: "server-admin", Usage: "`URL` of the server's --admin-listen endpoints, e.g. http://127.0.0.1:9090 (optional)", EnvVars: []string{"ASTCTI_CONFIGURATOR_SERVER_ADMIN"}},
			&cli.StringFlag{Name: "tls-cert", Usage: "PEM `FILE` of the TLS certificate chain (serve HTTPS; needs --tls-key)", EnvVars: []string{"ASTCTI_CONFIGURATOR_TLS_CERT"}},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM `FILE` of the TLS private key", EnvVars: []string{"ASTCTI_CONFIGURATOR_TLS_KEY"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error (the log goes to standard error)", EnvVars: []string{"ASTCTI_CONFIGURATOR_LOG_LEVEL"}},
			&cli.StringFlag{Name: "ready-file", Usage: "write {\"url\": URL} to `FILE` once it serves (for scripts)", EnvVars: []string{"ASTCTI_CONFIGURATOR_READY_FILE"}},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return configuratorUsage("%v", err)
		},
		Action: runConfigurator,
	}
}

// configuratorUsage is a bad flag or argument: exit status 2.
func configuratorUsage(format string, args ...any) error {
	return cli.Exit("astcti configurator: "+fmt.Sprintf(format, args...)+" (see astcti configurator --help)", exitUsage)
}

func runConfigurator(c *cli.Context) error {
	if c.NArg() > 0 {
		return configuratorUsage("unexpected argument %q", c.Args().First())
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return configuratorUsage("%v", err)
	}
	data, applyDir := c.String("data"), c.String("apply-dir")
	switch {
	case data == "":
		return configuratorUsage("--data DIR is required")
	case applyDir == "":
		return configuratorUsage("--apply-dir DIR is required (the server's --config-dir)")
	}
	if err := checkApplyDir(applyDir); err != nil {
		return err
	}
	admin := c.String("server-admin")
	if admin != "" {
		if u, err := url.Parse(admin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return configuratorUsage("--server-admin %q: want an http:// or https:// URL", admin)
		}
	}
	var tc *tls.Config
	cert, key := c.String("tls-cert"), c.String("tls-key")
	switch {
	case (cert == "") != (key == ""):
		return configuratorUsage("--tls-cert and --tls-key go together")
	case cert != "":
		if tc, err = cti.LoadTLS(cert, key, logger.With("part", "tls")); err != nil {
			return fmt.Errorf("configurator: --tls-cert, --tls-key: %w", err)
		}
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("configurator: --data: %w", err)
	}
	ctx, stop := stopsignal.NotifyContext(c.Context)
	defer stop()
	store, err := config.Open(ctx, filepath.Join(data, configurator.WorkingFile))
	if err != nil {
		return err
	}
	defer store.Close()
	users, err := config.OpenUsers(ctx, filepath.Join(data, configurator.UsersFile))
	if err != nil {
		return err
	}
	defer users.Close()
	if list, err := users.List(ctx); err != nil {
		return fmt.Errorf("configurator: %w", err)
	} else if len(list) == 0 {
		logger.Warn("no manager user yet: nobody can log in; create one with: astcti user add --data " + data + " USERID")
	}
	h, err := configurator.New(configurator.Config{
		Store: store, Users: users, ApplyDir: applyDir, ServerAdmin: admin, Secure: tc != nil, Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("configurator: --listen: %w", err)
	}
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	u := scheme + "://" + ln.Addr().String() + "/"
	logger.Info("configurator serving", "url", u, "data", data, "apply_dir", applyDir)
	if path := c.String("ready-file"); path != "" {
		b, _ := json.Marshal(map[string]string{"url": u})
		// Written to a temporary name and renamed, so that a script polling
		// for the file never reads half of it.
		err := os.WriteFile(path+".tmp", b, 0o644)
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
		if err != nil {
			logger.Error("cannot write the ready file", "file", path, "err", err)
		}
	}
	err = configurator.Serve(ctx, ln, h, tc, logger)
	if stopsignal.Log(ctx, logger) && err == nil {
		logger.Info("configurator stopped")
	}
	return err
}

// checkApplyDir refuses an apply directory that is not a directory: Apply
// would fail at the first click, far from the typo.
func checkApplyDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("configurator: --apply-dir %s does not exist (the server's --config-dir; create it with: astcti config init %s)", dir, dir)
	case err != nil:
		return fmt.Errorf("configurator: --apply-dir: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("configurator: --apply-dir %s is not a directory", dir)
	}
	return nil
}
