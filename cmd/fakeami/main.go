// Command fakeami is a fake Asterisk PBX for tests, demos and load runs: a
// manager interface (AMI) in the 1.4 or modern dialect over a model of
// channels, queues and members that reacts to the actions it receives.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/buildinfo"
	"github.com/astcti/astcti/cti/stopsignal"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "fakeami:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:            "fakeami",
		Version:         buildinfo.Get().String(),
		Usage:           "a fake Asterisk PBX with a manager interface (AMI), for tests, demos and load runs",
		UsageText:       "fakeami [--listen ADDR] [--dialect 1.4|modern] [--scenario FILE]... [--control ADDR] [options]\n   fakeami --replay TRACE [--replay-speed N] [--replay-wait] [options]",
		HideHelpCommand: true,
		Description:     description(scenarios.Demo()),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:5038", Usage: "manager interface: `ADDR`ess to listen on", EnvVars: []string{"FAKEAMI_LISTEN"}},
			&cli.StringFlag{Name: "user", Value: "astcti", Usage: "manager user `NAME` (every read and write class)", EnvVars: []string{"FAKEAMI_USER"}},
			&cli.StringFlag{Name: "secret", Value: "astcti", Usage: "manager `SECRET` of --user (plain or MD5 challenge login)", EnvVars: []string{"FAKEAMI_SECRET"}},
			&cli.StringFlag{Name: "dialect", Value: "modern", Usage: "manager `DIALECT`: 1.4 (the events of Asterisk 1.4) or modern (Asterisk 12-22)", EnvVars: []string{"FAKEAMI_DIALECT"}},
			&cli.StringSliceFlag{Name: "scenario", Usage: "scenario `FILE` (path, or a name of the library: queue_answered, traffic, …) merged over the demo PBX; repeatable, merged in order"},
			&cli.StringFlag{Name: "replay", Usage: "play the recorded `TRACE` (.ami) to every client that logs in, instead of the model"},
			&cli.Float64Flag{Name: "replay-speed", Value: 1, Usage: "replay pacing: 1 as recorded, 2 twice as fast, 0 as fast as possible"},
			&cli.BoolFlag{Name: "replay-wait", Usage: "start a replay only on POST /replay to the control API"},
			&cli.StringFlag{Name: "control", Usage: "serve the HTTP control API on `ADDR` (e.g. 127.0.0.1:5080; GET / lists its endpoints)", EnvVars: []string{"FAKEAMI_CONTROL"}},
			&cli.Int64Flag{Name: "seed", Usage: "random seed for traffic and ids (0: from the clock)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"FAKEAMI_LOG_LEVEL"}},
		},
		Action: run,
	}
}

// description is the help's text about what fakeami runs. Its account of
// the demo PBX is made from the demo scenario itself, so that it stays true.
func description(demo *scenarios.Scenario) string {
	var b strings.Builder
	b.WriteString(`fakeami keeps a model of channels, bridges, queues and queue members, runs a
small dialplan, rings phones as a scenario says they behave, reacts to the
manager actions it receives (QueueAdd, QueuePause, Originate, Hangup, …) and
speaks the manager events of Asterisk 1.4 (--dialect 1.4) or 12-22 (modern).

With no --scenario it runs the demo PBX (scenarios/demo.txtar), which waits
for calls: customers call in on SIP/trunk into [from-trunk]:
`)
	if ctx := demo.Contexts["from-trunk"]; ctx != nil {
		for _, exten := range ctx.Order {
			steps := ctx.Extens[exten]
			if len(steps) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  %-5s %s(%s)\n", exten, steps[0].App, strings.Join(steps[0].Args, ","))
		}
	}
	b.WriteString(wrap("Contexts: "+strings.Join(slices.Sorted(maps.Keys(demo.Contexts)), ", ")+".", 76))
	b.WriteString("Queues (no static members: a CTI server adds operators with QueueAdd):\n")
	for _, name := range slices.Sorted(maps.Keys(demo.Queues)) {
		q := demo.Queues[name]
		fmt.Fprintf(&b, "  %s: %s, timeout %s, ringinuse %s\n", name, q.Strategy, q.Timeout, yesNo(q.RingInUse))
	}
	fmt.Fprintf(&b, "Phones (any other interface answers after %s):\n", scenarios.DefaultAnswerAfter)
	for _, iface := range slices.Sorted(maps.Keys(demo.Phones)) {
		fmt.Fprintf(&b, "  %s %s\n", iface, phoneText(demo.Phones[iface]))
	}
	b.WriteString(`
Scenario files (docs/scenarios.md) add phones, queues, dialplan, calls and
steady traffic; several are merged in order over the demo. With --control,
the HTTP control API (docs/fakeami.md) posts scenarios and traffic, and
reads the model, the links of answered calls and the process's figures.
With --replay it plays a recorded .ami trace to every client that logs in.
SIGINT, SIGTERM or SIGHUP stops it within a second; a second signal kills
it.

Examples:
  fakeami --listen 127.0.0.1:5038 --user astcti --secret s3cret --dialect modern
  fakeami --scenario queue_answered --control 127.0.0.1:5080
  fakeami --scenario load.txtar --control 127.0.0.1:5080   # then POST /traffic
  fakeami --replay testdata/ami-traces/asterisk-22.10.1/c_queue_answered.ami --replay-speed 0`)
	return b.String()
}

// phoneText says how a phone behaves, in the words of the phones file.
func phoneText(ph *scenarios.Phone) string {
	if ph.Behaviour != scenarios.Answers {
		return ph.Behaviour.String()
	}
	s := "answers at once"
	if ph.AnswerAfter > 0 {
		s = "answers after " + ph.AnswerAfter.String()
	}
	if ph.TalkFor > 0 {
		s += " talks " + ph.TalkFor.String()
	}
	if ph.NoRinging {
		s += " without ringing"
	}
	return s
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteString("\n")
			n = 0
		} else if i > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	b.WriteString("\n")
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", c.Args().First())
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return err
	}
	dialect, err := fakeami.ParseDialect(c.String("dialect"))
	if err != nil {
		return err
	}
	// SIGHUP stops it too, as a terminal closing would stop any test tool
	// run in it; never silently (status 129).
	ctx, stop := stopsignal.NotifyContext(context.Background())
	defer stop()
	// After the first signal, a second one kills the process as usual.
	context.AfterFunc(ctx, stop)

	cfg := fakeami.Config{Dialect: dialect, Username: c.String("user"), Secret: c.String("secret"), Logger: logger}
	var pbx *fakeami.PBX
	if path := c.String("replay"); path != "" {
		if len(c.StringSlice("scenario")) > 0 {
			return errors.New("--replay and --scenario cannot be used together")
		}
		rp, err := fakeami.LoadReplay(path, c.Float64("replay-speed"))
		if err != nil {
			return err
		}
		rp.WaitCall = c.Bool("replay-wait")
		cfg.Replay = rp
	} else {
		sc, err := loadScenario(c.StringSlice("scenario"))
		if err != nil {
			return err
		}
		pbx, err = fakeami.NewPBX(fakeami.Options{Dialect: dialect, Scenario: sc, Seed: c.Int64("seed"), Logger: logger})
		if err != nil {
			return err
		}
		cfg.Engine, cfg.StartTime = pbx, pbx.StartTime
	}
	srv, err := fakeami.NewServer(cfg)
	if err != nil {
		return err
	}
	err = serve(ctx, c, srv, pbx)
	if err == nil {
		stopsignal.Log(ctx, logger)
	}
	return err
}

// serve runs the manager listener, the control API and the PBX model until
// ctx is done or one of them fails.
func serve(ctx context.Context, c *cli.Context, srv *fakeami.Server, pbx *fakeami.PBX) error {
	r, err := fakeami.Listen(fakeami.ServeConfig{Server: srv, PBX: pbx, Listen: c.String("listen"), Control: c.String("control")})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "fakeami: manager interface on %s (dialect %s, user %s)\n", r.Addr, c.String("dialect"), c.String("user"))
	if r.ControlAddr != "" {
		fmt.Fprintf(c.App.Writer, "fakeami: control API on http://%s\n", r.ControlAddr)
	}
	return r.Wait(ctx)
}

// loadScenario returns the demo PBX with the given scenario files (paths or
// library names) merged over it, in order.
func loadScenario(paths []string) (*scenarios.Scenario, error) {
	return scenarios.Open(append([]string{"demo"}, paths...)...)
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
