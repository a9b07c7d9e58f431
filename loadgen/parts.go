package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// pbxSpec is what a fake PBX child is started with.
type pbxSpec struct {
	Dialect  string `json:"dialect"`
	Scenario string `json:"scenario"` // a scenario file's text
	Username string `json:"username"`
	Secret   string `json:"secret"`
	Seed     int64  `json:"seed"`
	LogLevel string `json:"log_level"`
}

// pbxReady is a fake PBX child's ready line.
type pbxReady struct {
	AMI     string `json:"ami"`     // the manager interface, host:port
	Control string `json:"control"` // the control API's base URL
}

// runPBXChild runs the fake PBX with its manager interface and its control
// API on loopback ports until ctx is done.
func runPBXChild(ctx context.Context, raw []byte, out io.Writer) error {
	var spec pbxSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("loadgen: pbx spec: %w", err)
	}
	log, err := childLogger(spec.LogLevel)
	if err != nil {
		return err
	}
	dialect, err := fakeami.ParseDialect(spec.Dialect)
	if err != nil {
		return err
	}
	sc, err := scenarios.Parse("loadgen", []byte(spec.Scenario))
	if err != nil {
		return fmt.Errorf("loadgen: the load scenario: %w", err)
	}
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: dialect, Scenario: sc, Seed: spec.Seed, Logger: log})
	if err != nil {
		return err
	}
	srv, err := fakeami.NewServer(fakeami.Config{
		Dialect: dialect, Username: spec.Username, Secret: spec.Secret,
		Engine: pbx, StartTime: pbx.StartTime, Logger: log,
	})
	if err != nil {
		return err
	}
	return servePBX(ctx, pbx, srv, out)
}

// servePBX is runPBXChild once the parts are made: it listens, says so,
// and serves until ctx is done or a part fails.
func servePBX(ctx context.Context, pbx *fakeami.PBX, srv *fakeami.Server, out io.Writer) error {
	r, err := fakeami.Listen(fakeami.ServeConfig{Server: srv, PBX: pbx, Listen: "127.0.0.1:0", Control: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	if err := writeReady(out, pbxReady{AMI: r.Addr, Control: "http://" + r.ControlAddr}); err != nil {
		r.Close()
		return fmt.Errorf("loadgen: write the ready line: %w", err)
	}
	return r.Wait(ctx)
}

// serverSpec is what a server child is started with.
type serverSpec struct {
	AMI         string        `json:"ami"`
	Username    string        `json:"username"`
	Secret      string        `json:"secret"`
	ConfigDir   string        `json:"config_dir"`
	Listen      string        `json:"listen"`
	AdminListen string        `json:"admin_listen"`
	Keepalive   time.Duration `json:"keepalive"`
	LogLevel    string        `json:"log_level"`
	// AMIPing is the server's AMI keepalive Ping interval, its timeout
	// half of it; 0 is the server's defaults.
	AMIPing time.Duration `json:"ami_ping"`
}

// serverReady is a server child's ready line.
type serverReady struct {
	Seats string `json:"seats"`
	Admin string `json:"admin,omitempty"`
}

// runServerChild runs the CTI server until ctx is done.
func runServerChild(ctx context.Context, raw []byte, out io.Writer) error {
	var spec serverSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("loadgen: server spec: %w", err)
	}
	log, err := childLogger(spec.LogLevel)
	if err != nil {
		return err
	}
	var admin string // cti.Config: AdminReady is called before Ready, on the same goroutine
	srv := cti.New(cti.Config{
		AMI: ami.Config{Addr: spec.AMI, Username: spec.Username, Secret: spec.Secret, RetryPause: 100 * time.Millisecond,
			PingInterval: spec.AMIPing, PingTimeout: spec.AMIPing / 2},
		Listen:    spec.Listen,
		ConfigDir: spec.ConfigDir,
		Keepalive: spec.Keepalive,
		// Every simulated seat comes from 127.0.0.1.
		MaxSeats: -1, MaxConnsPerAddr: -1,
		Logger:      log,
		AdminListen: spec.AdminListen,
		AdminReady:  func(a net.Addr) { admin = a.String() },
		Ready: func(a net.Addr) {
			writeReady(out, serverReady{Seats: a.String(), Admin: admin})
		},
	})
	return srv.Run(ctx)
}

// childLogger logs to stderr, which the parent keeps in the run's log.
func childLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("loadgen: log level: %w", err)
		}
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
