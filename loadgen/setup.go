package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// SetupAddrs are where the parts of an external run listen: the addresses
// in the commands of WriteSetup.
type SetupAddrs struct {
	PBXAMI      string // the fake PBX's manager interface, host:port
	PBXControl  string // its control API's base URL
	Server      string // the server's seat listener, host:port
	ServerAdmin string // its admin endpoints' base URL
}

// DefaultSetupAddrs are the parts' usual ports on loopback.
func DefaultSetupAddrs() SetupAddrs {
	return SetupAddrs{
		PBXAMI: "127.0.0.1:5038", PBXControl: "http://127.0.0.1:5080",
		Server: "127.0.0.1:5039", ServerAdmin: "http://127.0.0.1:9090",
	}
}

// Setup is what WriteSetup wrote and the commands that use it, each as
// its arguments.
type Setup struct {
	ConfigDir string   // the server's configuration snapshots
	Scenario  string   // the fake PBX's scenario file
	PBX       []string // starts the fake PBX (fakeami)
	Server    []string // starts the server (astcti server)
	Loadgen   []string // runs the load against them
}

// The file and directory WriteSetup writes into its directory.
const (
	setupConfigDir = "config"
	setupScenario  = "loadgen.scenario"
)

// WriteSetup writes into dir the world of a run with o — the server's
// configuration snapshot (what `astcti server --config-dir` reads) and the
// fake PBX's scenario (for `fakeami --scenario`) — and returns the
// commands that start the two on a, and the load generator's against
// them. Of o it uses what shapes the world: the seats, queues, refused
// seats, strategy, dialect, answer and talk times and keepalive.
func WriteSetup(ctx context.Context, dir string, o Options, a SetupAddrs) (*Setup, error) {
	wo := o
	wo.Server, wo.PBXControl, wo.ServerAdmin, wo.Restart, wo.CompareDirect = "", "", "", false, false
	err := wo.validate()
	if _, _, aerr := net.SplitHostPort(a.PBXAMI); aerr != nil {
		err = errors.Join(err, fmt.Errorf("pbx-ami: %q is not host:port", a.PBXAMI))
	}
	if _, _, aerr := net.SplitHostPort(a.Server); aerr != nil {
		err = errors.Join(err, fmt.Errorf("server: %q is not host:port", a.Server))
	}
	control, cerr := urlHost("pbx-control", a.PBXControl)
	admin, aerr := urlHost("server-admin", a.ServerAdmin)
	if err := errors.Join(err, cerr, aerr); err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("loadgen: write the setup: %w", err)
	}
	r := &runner{opts: o, dir: dir, w: world{seats: o.Seats, queues: o.Queues, refused: o.RefusedSeats}}
	if err := r.writeConfig(ctx); err != nil {
		return nil, err
	}
	s := &Setup{ConfigDir: filepath.Join(dir, setupConfigDir), Scenario: filepath.Join(dir, setupScenario)}
	sc := r.w.scenario(o.Strategy, o.AnswerAfter, o.Talk, false)
	if err := os.WriteFile(s.Scenario, []byte(sc), 0o644); err != nil {
		return nil, fmt.Errorf("loadgen: write the fake PBX's scenario: %w", err)
	}
	s.PBX = []string{"fakeami", "--listen", a.PBXAMI, "--control", control,
		"--user", amiUser, "--secret", amiSecret, "--dialect", o.Dialect,
		"--scenario", s.Scenario, "--log-level", "warn"}
	s.Server = []string{"astcti", "server", "--ami", a.PBXAMI, "--ami-user", amiUser, "--ami-secret", amiSecret,
		"--ami-retry-pause", "1s", "--config-dir", s.ConfigDir, "--listen", a.Server,
		"--max-seats", "0", "--max-seats-per-address", "0",
		"--admin-listen", admin, "--keepalive", (3 * o.Keepalive).String(), "--log-level", "warn"}
	s.Loadgen = append([]string{"astcti-loadgen", "--server", a.Server, "--server-admin", a.ServerAdmin,
		"--pbx-control", a.PBXControl}, worldFlags(o)...)
	return s, nil
}

// worldFlags are the load generator's flags that shape the world, those
// that must be the same as WriteSetup's when the run uses its setup.
func worldFlags(o Options) []string {
	d := DefaultOptions()
	f := []string{"--seats", strconv.Itoa(o.Seats)}
	add := func(differ bool, name, value string) {
		if differ {
			f = append(f, name, value)
		}
	}
	add(o.Queues != d.Queues, "--queues", strconv.Itoa(o.Queues))
	add(o.RefusedSeats != d.RefusedSeats, "--refused", strconv.Itoa(o.RefusedSeats))
	add(o.Strategy != d.Strategy, "--strategy", o.Strategy)
	add(o.Dialect != d.Dialect, "--dialect", o.Dialect)
	add(o.AnswerAfter != d.AnswerAfter, "--answer-after", o.AnswerAfter.String())
	add(o.Talk != d.Talk, "--talk", o.Talk.String())
	add(o.Keepalive != d.Keepalive, "--keepalive", o.Keepalive.String())
	return f
}

// urlHost returns the host:port of an http URL, the listen address of
// the part it names.
func urlHost(flag, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%s: %q is not a URL such as http://127.0.0.1:9090", flag, s)
	}
	return u.Host, nil
}

// safeArg matches the arguments a shell takes unquoted.
var safeArg = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// CommandLine is args as a line for a POSIX shell, quoted where needed.
func CommandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if safeArg.MatchString(a) {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
