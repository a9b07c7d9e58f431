// Command fakeami is a fake Asterisk PBX for tests, demos and load runs: a
// manager interface (AMI) in the 1.4 or modern dialect over a model of
// channels, queues and members that reacts to the actions it receives.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

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
		Name:  "fakeami",
		Usage: "a fake Asterisk manager interface (AMI) that behaves like a PBX",
		Description: `fakeami keeps a model of channels, queues and queue members, runs a small
dialplan, rings phones as a scenario says they behave, and speaks the manager
events of Asterisk 1.4 (--dialect 1.4) or Asterisk 12-22 (--dialect modern).

With no --scenario it runs the demo PBX: contexts astcti-service (101, 103),
astcti-queue-service (102) and from-operators, queues astcti-queue and
astcti-queue-2, and phones SIP/201..SIP/206. Scenario files (see
docs/scenarios.md) add calls, phones, queues and dialplan; several are merged
in order.

With --replay it plays a recorded .ami trace to every client that logs in,
instead of running the model.

Examples:
  fakeami --listen 127.0.0.1:5038 --user astcti --secret s3cret --dialect modern
  fakeami --scenario scenarios/queue_answered.txtar --control 127.0.0.1:5080
  fakeami --replay testdata/ami-traces/asterisk-22.10.1/c_queue_answered.ami --replay-speed 0`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:5038", Usage: "manager `ADDR`ess to listen on", EnvVars: []string{"FAKEAMI_LISTEN"}},
			&cli.StringFlag{Name: "user", Value: "astcti", Usage: "manager user name", EnvVars: []string{"FAKEAMI_USER"}},
			&cli.StringFlag{Name: "secret", Value: "astcti", Usage: "manager secret", EnvVars: []string{"FAKEAMI_SECRET"}},
			&cli.StringFlag{Name: "dialect", Value: "modern", Usage: "manager dialect: 1.4 or modern", EnvVars: []string{"FAKEAMI_DIALECT"}},
			&cli.StringSliceFlag{Name: "scenario", Usage: "scenario `FILE` to play (repeatable; merged over the demo PBX)"},
			&cli.StringFlag{Name: "replay", Usage: "play the recorded `TRACE` (.ami) to every client that logs in"},
			&cli.Float64Flag{Name: "replay-speed", Value: 1, Usage: "replay pacing: 1 as recorded, 2 twice as fast, 0 as fast as possible"},
			&cli.BoolFlag{Name: "replay-wait", Usage: "start a replay only on POST /replay to the control API"},
			&cli.StringFlag{Name: "control", Usage: "serve the HTTP control API on `ADDR` (e.g. 127.0.0.1:5080)", EnvVars: []string{"FAKEAMI_CONTROL"}},
			&cli.Int64Flag{Name: "seed", Usage: "random seed for traffic and ids (0: from the clock)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"FAKEAMI_LOG_LEVEL"}},
		},
		Action: run,
	}
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := fakeami.Config{Dialect: dialect, Username: c.String("user"), Secret: c.String("secret"), Logger: logger}
	control := &fakeami.Control{}
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
		control.PBX = pbx
	}
	srv, err := fakeami.NewServer(cfg)
	if err != nil {
		return err
	}
	control.Server = srv
	return serve(ctx, c, srv, pbx, control)
}

// serve runs the manager listener, the control API and the PBX model until
// ctx is done or one of them fails.
func serve(ctx context.Context, c *cli.Context, srv *fakeami.Server, pbx *fakeami.PBX, control *fakeami.Control) error {
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	running := 1
	var hs *http.Server
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(c.App.Writer, "fakeami: manager interface on %s (dialect %s, user %s)\n", ln.Addr(), c.String("dialect"), c.String("user"))
	if pbx != nil {
		running++
		go func() { errc <- pbx.Run(ctx) }()
	}
	if addr := c.String("control"); addr != "" {
		cln, err := net.Listen("tcp", addr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("control: %w", err)
		}
		hs = &http.Server{Handler: control.Handler(), ReadHeaderTimeout: 5 * time.Second}
		running++
		go func() {
			if err := hs.Serve(cln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
		fmt.Fprintf(c.App.Writer, "fakeami: control API on http://%s\n", cln.Addr())
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		running--
	}
	cancel()
	srv.Close()
	if hs != nil {
		hs.Close()
	}
	for ; running > 0; running-- {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
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
