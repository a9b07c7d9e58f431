package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/doctor"
	"github.com/astcti/astcti/cti/stopsignal"
)

// doctorTimeout bounds a doctor run without --watch; with --watch and no
// --timeout, the watch comes on top of it.
const doctorTimeout = 30 * time.Second

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that a PBX is ready for astcti: manager user, dialplan, queues, seats",
		Description: `The doctor connects to Asterisk's manager interface as the server would
(same flags, same ASTCTI_* environment variables), loads the configuration
the server would load from --config-dir, and prints one line per check:

  OK   name: what was found
  WARN name: what was found: what to do
  FAIL name: what was found: what to do

then a summary ("doctor: 18 OK, 2 WARN, 1 FAIL"). It exits 0 when nothing
FAILs, 1 otherwise, and 2 on a usage error.

SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal went away) stop it
cleanly: it ends the watch or the check under way, prints what it found
and the summary, says "doctor: stopped on a signal (SIGHUP): the checks
were cut short" on standard error, and exits 1, since the checks did not
all run.

It checks, in this order:
  config         the newest valid snapshot of --config-dir
  connect        the login (plain secret, or the MD5 challenge with --ami-md5)
  version        the Asterisk version and the manager dialect (1.4, 1.6-11, 12+)
  write ACTION   that the user may run QueueAdd, QueueRemove, QueuePause,
                 Originate, Getvar, CoreShowChannels (Status on 1.4) and
                 CoreStatus: each is sent in a harmless form that Asterisk
                 refuses for another reason (a queue that does not exist, an
                 Originate without a channel); "Permission denied" means the
                 write class is missing. Nothing is changed on the PBX, no call
                 is placed.
  read CLASS     that the user may read system, call, agent, dialplan and user,
                 from "manager show user" (needs write=command, which astcti
                 itself does not need) or from --manager-conf
  eventfilter    that the user's eventfilter lines let through every event
                 astcti reads (needs --manager-conf, or --watch)
  writetimeout   the user's writetimeout (needs --manager-conf)
  clock          the PBX's clock against this host's
  service ...    that each service's context exists in the dialplan, its queue
                 exists, and each of its variables is set there by Set, MSet,
                 Read or UserEvent (ShowDialPlan needs write=reporting,
                 "dialplan show" write=command)
  seats          that every seat interface is a form queues accept, and that
                 the exten@context of each Local one exists
  watch          with --watch: whether a call into a service brings the events
                 astcti needs (place one while the doctor waits)

The doctor sends one UserEvent (AstCTIDoctor) to see whether the user gets
UserEvents; other manager clients see it too. It never prints the secret.

Run it on the astcti server's host, as the server's user, with the server's
environment file, and once more on the PBX host with --manager-conf if you
can.

Examples:
  astcti doctor --ami 192.0.2.1:5038 --ami-user astcti --config-dir /var/lib/astcti/config
  set -a; . /etc/astcti/astcti.env; set +a; astcti doctor
  astcti doctor --manager-conf /etc/asterisk/manager.conf      (on the PBX host)
  astcti doctor --watch 60s      (then call one of the services within a minute)`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ami", Value: "127.0.0.1:5038", Usage: "Asterisk manager `ADDR`ess (host:port)", EnvVars: []string{"ASTCTI_AMI"}},
			&cli.StringFlag{Name: "ami-user", Value: "astcti", Usage: "manager user (manager.conf)", EnvVars: []string{"ASTCTI_AMI_USER"}},
			&cli.StringFlag{Name: "ami-secret", Usage: "manager secret (prefer the environment variable)", EnvVars: []string{"ASTCTI_AMI_SECRET"}},
			&cli.BoolFlag{Name: "ami-md5", Usage: "log in with the MD5 challenge instead of the plain secret", EnvVars: []string{"ASTCTI_AMI_MD5"}},
			&cli.StringFlag{Name: "config-dir", Value: "/var/lib/astcti/config", Usage: "`DIR`ectory of configuration snapshots, the server's", EnvVars: []string{"ASTCTI_CONFIG_DIR"}},
			&cli.DurationFlag{Name: "timeout", Value: doctorTimeout, Usage: "bound on the whole run (default 30s, or --watch plus 30s)", EnvVars: []string{"ASTCTI_TIMEOUT"}},
			&cli.DurationFlag{Name: "watch", Usage: "after the checks, wait this long for a call into a service and report which events it brought (0: no watch)", EnvVars: []string{"ASTCTI_WATCH"}},
			&cli.StringFlag{Name: "manager-conf", Usage: "manager.conf `FILE` of the PBX, to check the user's eventfilter and writetimeout (on the PBX host)", EnvVars: []string{"ASTCTI_MANAGER_CONF"}},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug (every action and answer), info, warn or error, on standard error", EnvVars: []string{"ASTCTI_LOG_LEVEL"}},
		},
		Action: runDoctor,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return cli.Exit(fmt.Sprintf("doctor: %v (see --help)", err), 2)
		},
	}
}

func runDoctor(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("doctor: unexpected argument %q (see --help)", c.Args().First()), 2)
	}
	watch, timeout := c.Duration("watch"), c.Duration("timeout")
	switch {
	case watch < 0 || timeout < 0:
		return cli.Exit("doctor: --watch and --timeout cannot be negative", 2)
	case !c.IsSet("timeout") && watch > 0:
		timeout = watch + doctorTimeout
	case watch > 0 && timeout <= watch:
		return cli.Exit(fmt.Sprintf("doctor: --timeout %v must be longer than --watch %v", timeout, watch), 2)
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return cli.Exit("doctor: "+err.Error(), 2)
	}
	ctx, stop := stopsignal.NotifyContext(c.Context)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := doctor.Options{
		AMI: ami.Config{
			Addr: c.String("ami"), Username: c.String("ami-user"), Secret: c.String("ami-secret"),
			UseMD5Challenge: c.Bool("ami-md5"), Logger: logger,
		},
		ConfigDir:   c.String("config-dir"),
		Watch:       watch,
		ManagerConf: c.String("manager-conf"),
		Logger:      logger,
	}
	if watch > 0 {
		fmt.Fprintf(c.App.ErrWriter, "doctor: after the checks, watching for %v: place a call into a service now\n", watch)
	}
	s := printDoctor(ctx, c.App.Writer, opts)
	if e, ok := stopsignal.Cause(ctx); ok {
		return cli.Exit("doctor: "+e.Error()+": the checks were cut short", 1)
	}
	if s.Fail > 0 {
		return cli.Exit("", 1)
	}
	return nil
}

// printDoctor runs the doctor, writing each result as it comes, then the
// summary.
func printDoctor(ctx context.Context, w io.Writer, opts doctor.Options) doctor.Summary {
	var results []doctor.Result
	doctor.Stream(ctx, opts, func(r doctor.Result) {
		results = append(results, r)
		fmt.Fprintln(w, r)
	})
	s := doctor.Summarize(results)
	fmt.Fprintln(w, s)
	return s
}
