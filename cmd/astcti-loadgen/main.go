// Command astcti-loadgen is astcti's load generator: it starts a fake PBX
// and the CTI server, logs thousands of simulated seats in at once, places
// calls at a rate, checks that every answered call pops exactly once at
// the right seat, and reports the latency, the login storms and what the
// parts cost.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/stopsignal"
	"github.com/astcti/astcti/loadgen"
	"github.com/astcti/astcti/loadgen/report"
)

func main() {
	// The load generator starts its parts by running itself again.
	if child, err := loadgen.RunChildIfAsked(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, "astcti-loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "astcti-loadgen:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	d := loadgen.DefaultOptions()
	return &cli.App{
		Name:            "astcti-loadgen",
		Usage:           "load the CTI server with simulated seats and calls, and report what it measured",
		UsageText:       "astcti-loadgen [options]",
		HideHelpCommand: true,
		Description: `astcti-loadgen starts a fake PBX (fakeami) and the CTI server (astcti
server) as processes of their own, on loopback ports, with a configuration
of --seats operators, each at a seat with a phone (SIP/10000, SIP/10001, …),
all members of --queues queues. Nothing else needs to run.

1. Login storm: every seat connects and logs in at once (USER, PASS, MAC);
   the storm ends when every seat has its "200 <queue>" for every queue.
2. Traffic: --rate calls a second for --duration, into the queues and, for
   --direct percent of them, straight to a phone; phones answer after
   --answer-after and hang up after --talk; seats pause and unpause at
   --pause-rate. The calls then end and the last notifications are read.
3. Restart storm (unless --restart=false): the server is stopped and
   started again; every seat reconnects and logs in again.
4. With --compare-direct, the same traffic again the way the AsteriskCTI
   design argues against: no server, a new fake PBX whose queues have
   every phone as a member, and one AMI session per seat, each reading
   every event for its own phone's links. The report sets the two side by
   side: the fake PBX's CPU, bytes and events written and memory, and the
   notification latency of each, with their ratio.

Every call the fake PBX connects to a phone must give exactly one Link
line, at that phone's seat, with the call's data: the report counts the
lost, duplicated, misdelivered and wrong ones (all must be 0), and the
notification latency from the fake PBX's event to the seat's read (p50,
p90, p99, p99.9, max). It also reports the storms' times, the server's and
the fake PBX's CPU seconds and memory, as a table on the terminal, JSON
(--json) and a self-contained HTML page with charts (--report).

Faults (--faults all, or a list): during the traffic, one every
--fault-every, in turn: ami-drop (the server's AMI link cut), churn
(--churn percent of the seats log out and in again), bad-snapshot (an
invalid configuration snapshot, newest of all, which the server must
refuse), burst (--burst connections that never log in, held, then
closed), ami-stall (the AMI link stalled without closing: the server must
notice by its Ping, --ami-ping), pbx-restart (the fake PBX restarted).
Each is followed until the server has recovered, and the server's RSS and
goroutines are reported after each. A call linked during an outage need
not pop, but must never pop twice; every other call must pop.

The exit status is 1 when the run could not be made or a notification was
lost, duplicated, misdelivered or wrong, a storm did not complete, or a
fault was not recovered from, ended a seat's session or left a call
behind.

Each seat is two open files (its socket here and in the server): the
load generator raises its limit of open files, which needs root beyond
the hard limit (ulimit -Hn).

External mode: --server and --pbx-control run the load against a server
and a fake PBX that run already (on this or another machine), and start
nothing. --write-config DIR writes their configuration and scenario for
--seats, --queues, --refused, … and prints the commands that start them
and the one that runs the load (docs/loadgen.md). The cold storm is timed
from the first seat's dial; there is no restart storm (--restart and
--compare-direct are refused); the server's CPU, memory and goroutines
come from its /metrics with --server-admin, and are unknown ("-")
without.

Examples:
  astcti-loadgen --seats 1000 --rate 50 --duration 30s --report run.html
  astcti-loadgen --seats 10000 --rate 0 --json storm.json
  astcti-loadgen --seats 500 --rate 20 --duration 5s --dialect 1.4
  astcti-loadgen --seats 1000 --rate 20 --duration 10s --compare-direct
  astcti-loadgen --seats 1000 --write-config /tmp/world   # then run what it prints
  astcti-loadgen --seats 9000 --rate 100 --duration 10m --faults all --fault-every 30s   # make soak`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "seats", Value: d.Seats, Usage: fmt.Sprintf("simulated seats (1-%d)", loadgen.MaxSeats)},
			&cli.IntFlag{Name: "queues", Value: d.Queues, Usage: "queues every operator is a member of (1-20)"},
			&cli.Float64Flag{Name: "rate", Value: d.Rate, Usage: "calls offered a second (0: no traffic, the storms only)"},
			&cli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "how long the traffic lasts"},
			&cli.IntFlag{Name: "direct", Value: d.DirectPercent, Usage: "percent of the calls dialled straight to a phone, not queued"},
			&cli.DurationFlag{Name: "answer-after", Value: d.AnswerAfter, Usage: "how long a phone rings before it answers"},
			&cli.DurationFlag{Name: "talk", Value: d.Talk, Usage: "how long a call lasts once answered"},
			&cli.StringFlag{Name: "strategy", Value: d.Strategy, Usage: "the queues' strategy: rrmemory, ringall, leastrecent, fewestcalls, random, linear, wrandom"},
			&cli.StringFlag{Name: "dialect", Value: d.Dialect, Usage: "the fake PBX's manager dialect: modern or 1.4"},
			&cli.Float64Flag{Name: "pause-rate", Value: d.PauseRate, Usage: "PAUSE IN a second, each to a random seat"},
			&cli.DurationFlag{Name: "pause-hold", Value: d.PauseHold, Usage: "how long a pause lasts before PAUSE OUT"},
			&cli.DurationFlag{Name: "keepalive", Value: d.Keepalive, Usage: "how often every seat sends NOOP"},
			&cli.BoolFlag{Name: "restart", Value: d.Restart, Usage: "restart the server after the traffic and measure the seats' second storm"},
			&cli.BoolFlag{Name: "resume", Value: d.Resume, Usage: "seats ask for a resume token and log in again with it, not the password (--resume=false: passwords only)"},
			&cli.DurationFlag{Name: "storm-timeout", Value: d.StormTimeout, Usage: "give up a login storm after this long"},
			&cli.IntFlag{Name: "refused", Usage: "make this many seats also members of a queue the PBX does not have: each must be told (202)"},
			&cli.BoolFlag{Name: "compare-direct", Usage: "after astcti's phases, run the same traffic with one AMI connection per seat and compare"},
			&cli.Int64Flag{Name: "seed", Usage: "random seed of the traffic and the pauses (0: pick one, shown in the report)"},
			&cli.StringFlag{Name: "json", Usage: "write the report as JSON to `FILE`"},
			&cli.StringFlag{Name: "report", Usage: "write the report as a self-contained HTML page to `FILE`"},
			&cli.StringFlag{Name: "log", Usage: "append the fake PBX's and the server's logs to `FILE` (default: discarded)"},
			&cli.StringFlag{Name: "log-level", Value: d.LogLevel, Usage: "the parts' log level: debug, info, warn or error"},
			&cli.StringFlag{Name: "keep", Usage: "keep the parts' configuration and specs in `DIR` (default: a temporary directory, removed)"},
			&cli.BoolFlag{Name: "quiet", Usage: "no progress line on the terminal"},
			&cli.StringFlag{Name: "server", Usage: "run against the running astcti server whose seat listener is `ADDR` (host:port), with --pbx-control; no part is started"},
			&cli.StringFlag{Name: "server-admin", Usage: "with --server, the server's admin endpoints at `URL` (its --admin-listen, e.g. http://127.0.0.1:9090), to read its CPU, memory and goroutines (without: unknown)"},
			&cli.StringFlag{Name: "pbx-control", Usage: "with --server, the control API of the running fake PBX at `URL` (fakeami --control, e.g. http://127.0.0.1:5080)"},
			&cli.StringFlag{Name: "write-config", Usage: "write the server's configuration and the fake PBX's scenario for the other options into `DIR`, print the commands that start them and run the load against them, and exit"},
			&cli.StringFlag{Name: "faults", Usage: "inject these faults during the traffic, one every --fault-every, in turn: `LIST` of " + strings.Join(loadgen.Faults, ", ") + ", or all (docs/loadgen.md, Faults)"},
			&cli.DurationFlag{Name: "fault-every", Value: d.FaultEvery, Usage: "the time between two faults' starts"},
			&cli.IntFlag{Name: "churn", Value: d.ChurnPercent, Usage: "percent of the seats that log out and in again at a churn fault"},
			&cli.IntFlag{Name: "burst", Value: d.BurstConns, Usage: "connections that never log in, opened at a burst fault"},
			&cli.DurationFlag{Name: "ami-ping", Usage: "the server's AMI keepalive Ping interval (its timeout is half): the bound within which it notices a stalled link (default: the server's, 20s)"},
			&cli.StringFlag{Name: "pbx-ami", Usage: "with --write-config, the fake PBX's manager `ADDR`ess in the commands (default 127.0.0.1:5038)"},
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", c.Args().First())
	}
	opts := options(c)
	faults, err := loadgen.ParseFaults(c.String("faults"))
	if err != nil {
		return err
	}
	opts.Faults = faults
	if len(faults) > 0 && !c.IsSet("restart") {
		opts.Restart = false // a soak is the traffic and its faults
	}
	if dir := c.String("write-config"); dir != "" {
		return writeSetup(c, dir, opts)
	}
	if c.IsSet("pbx-ami") {
		return fmt.Errorf("--pbx-ami only names the fake PBX's address in the commands of --write-config")
	}
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Log = f
	}
	bar := newProgressBar(c.App.ErrWriter, !c.Bool("quiet") && isTerminal(c.App.ErrWriter))
	opts.Progress = bar.show
	// SIGINT, SIGTERM and SIGHUP (the terminal of a foreground run went
	// away) stop the run's parts as at its end, never killed with the load
	// generator.
	ctx, stop := stopsignal.NotifyContext(c.Context)
	defer stop()
	res, err := loadgen.Run(ctx, opts)
	bar.done()
	if e, ok := stopsignal.Cause(ctx); ok {
		return fmt.Errorf("%w: the run was cut short, no report", e)
	}
	if err != nil {
		return err
	}
	data := res.Report()
	if err := report.WriteText(c.App.Writer, data); err != nil {
		return err
	}
	if err := writeFile(c.String("json"), data, report.WriteJSON); err != nil {
		return err
	}
	if err := writeFile(c.String("report"), data, report.WriteHTML); err != nil {
		return err
	}
	return verdict(res)
}

func options(c *cli.Context) loadgen.Options {
	o := loadgen.DefaultOptions()
	o.Seats, o.Queues, o.Rate, o.Duration = c.Int("seats"), c.Int("queues"), c.Float64("rate"), c.Duration("duration")
	o.DirectPercent, o.AnswerAfter, o.Talk = c.Int("direct"), c.Duration("answer-after"), c.Duration("talk")
	o.Strategy, o.Dialect = c.String("strategy"), c.String("dialect")
	o.PauseRate, o.PauseHold, o.Keepalive = c.Float64("pause-rate"), c.Duration("pause-hold"), c.Duration("keepalive")
	o.Restart, o.Resume, o.StormTimeout, o.RefusedSeats = c.Bool("restart"), c.Bool("resume"), c.Duration("storm-timeout"), c.Int("refused")
	o.Seed, o.LogLevel, o.Dir = c.Int64("seed"), c.String("log-level"), c.String("keep")
	o.CompareDirect = c.Bool("compare-direct")
	o.FaultEvery, o.ChurnPercent, o.BurstConns, o.AMIPing = c.Duration("fault-every"), c.Int("churn"), c.Int("burst"), c.Duration("ami-ping")
	o.Server, o.ServerAdmin, o.PBXControl = c.String("server"), c.String("server-admin"), c.String("pbx-control")
	if (o.Server != "" || o.PBXControl != "") && !c.IsSet("restart") {
		o.Restart = false // a server it did not start, the load generator cannot restart
	}
	return o
}

// writeSetup writes the configuration and the scenario of an external
// run into dir and prints the commands that use them.
func writeSetup(c *cli.Context, dir string, o loadgen.Options) error {
	a := loadgen.DefaultSetupAddrs()
	for _, f := range []struct {
		flag string
		addr *string
	}{{"pbx-ami", &a.PBXAMI}, {"pbx-control", &a.PBXControl}, {"server", &a.Server}, {"server-admin", &a.ServerAdmin}} {
		if c.IsSet(f.flag) {
			*f.addr = c.String(f.flag)
		}
	}
	s, err := loadgen.WriteSetup(c.Context, dir, o, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, `Wrote the server's configuration (operators lg00000…, %d of them, password "loadgen") in
  %s
and the fake PBX's scenario (phones SIP/10000…, queues: %d) in
  %s

1. Start the fake PBX:
  %s
2. Start the server:
  %s
3. Run the load against them (add --rate, --duration, …; keep the
   options that shape the world as they are here):
  %s
`, o.Seats, s.ConfigDir, o.Queues, s.Scenario,
		loadgen.CommandLine(s.PBX), loadgen.CommandLine(s.Server), loadgen.CommandLine(s.Loadgen))
	return nil
}

// verdict is the run's exit status: an error when a notification went
// wrong or a storm did not complete.
func verdict(res *loadgen.Result) error {
	if d := res.Delivery; !d.Zero() {
		return fmt.Errorf("notifications: %d lost, %d duplicated, %d misdelivered, %d with wrong data",
			d.Lost, d.Duplicated, d.Misdelivered, d.WrongData)
	}
	for _, f := range res.Faults {
		if !f.Recovered {
			return fmt.Errorf("the %s fault at %v: the server did not recover: %s", f.Kind, f.At.Round(time.Second), f.Detail)
		}
		if f.SessionsEnded > 0 || f.QueueLeft > 0 {
			return fmt.Errorf("the %s fault at %v: %d seat sessions ended and %d 201 lines, none expected", f.Kind, f.At.Round(time.Second), f.SessionsEnded, f.QueueLeft)
		}
	}
	if len(res.Faults) > 0 && res.CallsActiveAfter > 0 {
		return fmt.Errorf("%d calls left behind in the server once every call ended", res.CallsActiveAfter)
	}
	for _, s := range res.Storms {
		if !s.Complete {
			return fmt.Errorf("the %s storm confirmed %d of %d seats within %v", s.Name, s.Confirmed, s.Seats, res.Options.StormTimeout)
		}
	}
	return nil
}

func writeFile(path string, d *report.Data, write func(io.Writer, *report.Data) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, d); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// durationOr returns d, or "?" for an unknown total.
func durationOr(d time.Duration) string {
	if d <= 0 {
		return "?"
	}
	return d.Round(time.Second).String()
}
