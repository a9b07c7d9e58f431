// Command astcti-sim is the demo with no PBX: in one process, the fake PBX
// with the demo dialplan, the CTI server with the demo configuration,
// simulated seats that answer calls, and steady random traffic. A user's
// own seat client connects as carol and gets calls too.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cmd/astcti-sim/sim"
	"github.com/astcti/astcti/cti/buildinfo"
	"github.com/astcti/astcti/cti/seatclient"
	"github.com/astcti/astcti/cti/stopsignal"
	"github.com/astcti/astcti/fakeami"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "astcti-sim:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:            "astcti-sim",
		Version:         buildinfo.Get().String(),
		Usage:           "the astcti demo with no PBX: fake PBX, CTI server, simulated seats and traffic in one process",
		UsageText:       "astcti-sim [options]",
		HideHelpCommand: true,
		Description: `astcti-sim starts, in one process, the fake PBX (fakeami) with the demo
dialplan, the CTI server with the demo configuration, and simulated seats
(alice and bob, then more with --seats) whose phones answer after 1-3 s and
talk a few seconds. Calls arrive at once, then at --rate into sales (101, no
queue) and support (102, queue astcti-queue); callers hang up after 10-60 s,
and the simulated operators pause now and then.

The operator carol (password carol, seat 00:11:22:33:44:03, phone SIP/203)
is kept for you: connect your own seat client and it gets calls like any
other seat. The command to run is printed at the start: the astcti beside
astcti-sim (bin/astcti after make demo), or how to build it. Each answered
call pops a page of the demo CRM, served on a free port of 127.0.0.1 with
the call's data; without a browser opener on this machine the command has
--no-open, and the client prints the page's URL.

The default addresses (5038, 5039, 5080, 8080 of 127.0.0.1) are often
taken on a PBX's own host: a taken one is said, with what has it if a
short probe can tell (an Asterisk manager interface, an astcti server, a
web server), and a free port is taken instead; every address printed is
the one really used. An address given with a flag is never replaced: a
taken one is an error.

The web configurator serves on --configurator-listen (http://127.0.0.1:8080/
by default): log in as admin with the password printed at the start (a new
one at each start). Its working configuration starts as the demo's, at
every start; applying a configuration there puts it in force in the
simulated server within a second. Its databases are in the configurator
folder of --data. With it, the server's admin endpoints (/healthz, /status,
/metrics), which it reads, listen on a free port of 127.0.0.1, printed too.

On a terminal a live view shows the seats, the queue and the calls in
progress, redrawn in place; --plain (the default when the output is not a
terminal) prints a line per event instead. Ctrl-C stops everything, as
does the output closing (astcti-sim --plain | head); the temporary --data
directory is removed either way.

Examples:
  astcti-sim
  astcti-sim --seats 5 --rate 30/min --seed 7
  astcti-sim --plain --duration 1m --dialect 1.4`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dialect", Value: "modern", Usage: "manager dialect of the fake PBX: 1.4 or modern"},
			&cli.StringFlag{Name: "rate", Value: "12/min", Usage: "random calls per time (12/min, 0.5/s, 300/h; 0 for none after the first calls)"},
			&cli.IntFlag{Name: "seats", Value: 2, Usage: fmt.Sprintf("simulated seats: alice and bob, then more (0-%d)", sim.MaxSeats)},
			&cli.Int64Flag{Name: "seed", Usage: "random seed for the traffic, the phones and the pauses (0: pick one and print it)"},
			&cli.StringFlag{Name: "ami-listen", Value: "127.0.0.1:5038", Usage: "`ADDR`ess of the fake PBX's manager interface"},
			&cli.StringFlag{Name: "seat-listen", Value: "127.0.0.1:5039", Usage: "`ADDR`ess of the CTI server's seat listener"},
			&cli.StringFlag{Name: "control-listen", Value: "127.0.0.1:5080", Usage: "`ADDR`ess of the fake PBX's HTTP control API (empty: none)"},
			&cli.StringFlag{Name: "configurator-listen", Value: "127.0.0.1:8080", Usage: "`ADDR`ess of the web configurator (empty: none)"},
			&cli.StringFlag{Name: "data", Usage: "`DIR`ectory for the configuration and the log (default: a temporary directory, removed at the end)"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after this long (0: at Ctrl-C)"},
			&cli.BoolFlag{Name: "plain", Usage: "print a line per event instead of the live view (the default when the output is not a terminal)"},
			&cli.StringFlag{Name: "ready-file", Usage: "write the addresses (and the configurator's login) as JSON to `FILE` once every part listens (for scripts)"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error"},
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", c.Args().First())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(c.String("log-level")))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	dialect, err := fakeami.ParseDialect(c.String("dialect"))
	if err != nil {
		return fmt.Errorf("--dialect: %w", err)
	}
	if c.Duration("duration") < 0 {
		return fmt.Errorf("--duration cannot be negative")
	}
	// SIGHUP stops it too, as a terminal closing would stop any demo run
	// in it; never silently (status 129).
	ctx, stop := stopsignal.NotifyContext(c.Context)
	// A write to a closed standard output (astcti-sim | head, a tee
	// stopped by Ctrl-C) would kill the program with SIGPIPE before its
	// deferred cleanup, leaving the temporary --data directory behind
	// (os/signal: "If the program is not calling signal.Notify for
	// SIGPIPE..."): ignored, the write returns EPIPE and the simulation
	// stops (sim.ErrOutputClosed).
	signal.Ignore(syscall.SIGPIPE)
	defer stop()
	err = sim.Run(ctx, sim.Config{
		Dialect:            dialect,
		Rate:               c.String("rate"),
		Seats:              c.Int("seats"),
		Seed:               c.Int64("seed"),
		AMIListen:          c.String("ami-listen"),
		SeatListen:         c.String("seat-listen"),
		ControlListen:      c.String("control-listen"),
		ConfiguratorListen: c.String("configurator-listen"),
		// A default address taken (a real Asterisk on 5038, a real astcti
		// on 5039) is replaced by a free port; one given is kept.
		Defaults: sim.Defaults{
			AMI: !c.IsSet("ami-listen"), Seat: !c.IsSet("seat-listen"),
			Control: !c.IsSet("control-listen"), Configurator: !c.IsSet("configurator-listen"),
		},
		DataDir:  c.String("data"),
		Duration: c.Duration("duration"),
		Out:      c.App.Writer,
		Live:     !c.Bool("plain") && c.App.Writer == os.Stdout && sim.IsTerminal(os.Stdout),
		Log:      c.App.ErrWriter,
		LogLevel: level,
		Ready:    readyFile(c.String("ready-file")),
		Client:   clientProgram(),
		NoOpen:   !haveOpener(),
	})
	if e, ok := stopsignal.Cause(ctx); err == nil && ok {
		fmt.Fprintf(c.App.ErrWriter, "astcti-sim: %v\n", e)
	}
	if errors.Is(err, sim.ErrOutputClosed) {
		// The reader had what it wanted: a stop, not a failure.
		fmt.Fprintf(c.App.ErrWriter, "astcti-sim: stopped: %v\n", err)
		return nil
	}
	return err
}

// clientProgram returns the astcti program beside this one, as the user
// types it from the working directory (sim.ClientProgram).
func clientProgram() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	wd, _ := os.Getwd()
	return sim.ClientProgram(exe, wd)
}

// haveOpener reports whether this machine can open URLs in a browser, as
// the user's own seat client would for its screen pops
// (seatclient.OpenerCommand).
func haveOpener() bool { return canOpen(runtime.GOOS, exec.LookPath, os.Getenv) }

// canOpen reports whether the opener of goos is installed and, where it
// is xdg-open, has a desktop to open a browser on: without DISPLAY or
// WAYLAND_DISPLAY (a PBX's host reached by ssh) it fails (exit status 3)
// unless BROWSER names a program, such as a text browser.
func canOpen(goos string, lookPath func(string) (string, error), getenv func(string) string) bool {
	name, _, err := seatclient.OpenerCommand(goos, "")
	if err != nil {
		return false
	}
	if _, err := lookPath(name); err != nil {
		return false
	}
	if name != "xdg-open" {
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" || getenv("BROWSER") != ""
}

// readyFile returns a Ready hook that writes the simulation's addresses
// to path as JSON, whole or not at all (a script polls for it). It is
// readable by its owner only: it holds the configurator's password.
func readyFile(path string) func(sim.Info) {
	if path == "" {
		return nil
	}
	return func(in sim.Info) {
		b, _ := json.MarshalIndent(in, "", "  ")
		err := os.WriteFile(path+".tmp", append(b, '\n'), 0o600)
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "astcti-sim: cannot write the ready file:", err)
		}
	}
}
