package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// The live suite runs the scripts of testdata/live against real Asterisk:
// the real astcti binary, seats on the PBX's Local phones, and an
// independent manager connection (the observer) that places the calls and
// checks what the PBX did. It finds each PBX through the environment only
// and skips without it, so that `make test` on a fresh clone needs nothing
// but Go. testdata/realpbx/README.md says how to set up such a PBX.
//
//	ASTCTI_TEST_AMI_22=127.0.0.1:5048   an Asterisk 13 or newer (22.10.1 in CI)
//	ASTCTI_TEST_AMI_14=127.0.0.1:5040   an Asterisk 1.4 (1.4.44 in CI)
//	ASTCTI_TEST_AMI_USER, ASTCTI_TEST_AMI_SECRET   default astcti / astcti-secret
//
// Every script runs once against each PBX that is set; the two PBXes are
// tested side by side, but the scripts of one PBX one after the other,
// since they share its queues. Before each script the PBX is brought back
// to rest: every channel hung up, every dynamic queue member removed.
type livePBX struct {
	name string // "22" or "14": the $PBX of the scripts and their [pbx:…] condition
	env  string // the variable that gives its address
	what string // the version it must be, for the skip line
}

var livePBXs = []livePBX{
	{name: "22", env: "ASTCTI_TEST_AMI_22", what: "an Asterisk 13 or newer"},
	{name: "14", env: "ASTCTI_TEST_AMI_14", what: "an Asterisk 1.4"},
}

const liveHowTo = "configured as testdata/realpbx/README.md says; `make test-asterisk` runs only this suite"

func TestAsterisk(t *testing.T) {
	if os.Getenv(livePBXs[0].env) == "" && os.Getenv(livePBXs[1].env) == "" {
		t.Skipf("live suite against real Asterisk skipped: set %s=HOST:PORT (%s) and/or %s=HOST:PORT (%s), %s",
			livePBXs[0].env, livePBXs[0].what, livePBXs[1].env, livePBXs[1].what, liveHowTo)
	}
	files, err := filepath.Glob("testdata/live/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	if run := os.Getenv("ASTCTI_TEST_LIVE_RUN"); run != "" {
		files = filterScripts(files, run)
	}
	for _, p := range livePBXs {
		t.Run(p.name, func(t *testing.T) {
			addr := os.Getenv(p.env)
			if addr == "" {
				t.Skipf("Asterisk %s skipped: set %s=HOST:PORT (%s), %s", p.name, p.env, p.what, liveHowTo)
			}
			t.Parallel()
			for _, f := range files {
				// Each script in its own group, so that the next starts
				// only when it has ended: testscript runs the scripts of
				// one Run in parallel.
				t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
					testscript.Run(t, liveParams(p.name, addr, f))
				})
			}
		})
	}
}

// filterScripts keeps the scripts whose names contain one of the
// comma-separated words of run (ASTCTI_TEST_LIVE_RUN=burst,pause).
func filterScripts(files []string, run string) []string {
	var out []string
	for _, f := range files {
		for w := range strings.SplitSeq(run, ",") {
			if w != "" && strings.Contains(filepath.Base(f), w) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func liveAMIConfig(addr string) ami.Config {
	user, secret := os.Getenv("ASTCTI_TEST_AMI_USER"), os.Getenv("ASTCTI_TEST_AMI_SECRET")
	if user == "" {
		user = "astcti"
	}
	if secret == "" {
		secret = "astcti-secret"
	}
	return ami.Config{Addr: addr, Username: user, Secret: secret, RetryPause: 250 * time.Millisecond}
}

func liveParams(pbx, addr, file string) testscript.Params {
	cfg := liveAMIConfig(addr)
	cmds := scriptCmds()
	for name, cmd := range liveCmds {
		cmds[name] = cmd
	}
	return testscript.Params{
		Files:               []string{file},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Deadline:            time.Now().Add(5 * time.Minute),
		Setup: func(env *testscript.Env) error {
			if err := setupState(env); err != nil {
				return err
			}
			env.Setenv("PBX", pbx)
			env.Setenv("SCRIPT_WAIT", liveWait.String())
			env.Setenv("AMI", cfg.Addr)
			env.Setenv("AMI_USER", cfg.Username)
			env.Setenv("AMI_SECRET", cfg.Secret)
			xml, err := os.ReadFile("testdata/live-config.xml")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "live.xml"), xml, 0o644); err != nil {
				return err
			}
			obs, err := startObserver(cfg)
			if err != nil {
				return fmt.Errorf("the PBX %s (%s): %w", pbx, cfg.Addr, err)
			}
			env.Defer(obs.close)
			if err := obs.reset(); err != nil {
				return fmt.Errorf("the PBX %s (%s) could not be brought to rest: %w", pbx, cfg.Addr, err)
			}
			env.Values[observerKey{}] = obs
			return nil
		},
		Cmds: cmds,
		Condition: func(cond string) (bool, error) {
			name, ok := strings.CutPrefix(cond, "pbx:")
			if !ok || (name != "22" && name != "14") {
				return false, fmt.Errorf("unknown condition %q (want pbx:22 or pbx:14)", cond)
			}
			return name == pbx, nil
		},
	}
}

// observerKey is the key of a live script's *observer in its values.
type observerKey struct{}

func scriptObserver(ts *testscript.TestScript) *observer {
	return ts.Value(observerKey{}).(*observer)
}

// liveWait bounds every wait on the real PBX: its phones ring for 2 s and
// its no-answer cases last 15 s.
const liveWait = 40 * time.Second

// errPBXBusy is returned by reset when channels do not go away.
var errPBXBusy = errors.New("channels are still up")

// reset brings the PBX back to rest: every dynamic queue member removed
// (a server killed by a test leaves its members), every channel hung up.
func (o *observer) reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	qs, err := o.client.Do(ctx, ami.NewAction("QueueStatus"))
	if err != nil {
		return fmt.Errorf("QueueStatus: %w", err)
	}
	for _, f := range qs.Items {
		if f.Event() == "QueueMember" && ami.EqualFold(f.Get("Membership"), "dynamic") {
			_, err := o.client.Do(ctx, ami.NewAction("QueueRemove", "Queue", f.Get("Queue"), "Interface", f.Get("Location")))
			if err != nil && !errors.Is(err, ami.ErrActionFailed) {
				return fmt.Errorf("QueueRemove: %w", err)
			}
		}
	}
	for {
		names, err := o.channels(ctx)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return nil
		}
		for _, name := range names {
			// A channel may be gone by now (its Local partner's hangup
			// takes it along): "No such channel" is fine.
			if _, err := o.client.Do(ctx, ami.NewAction("Hangup", "Channel", name)); err != nil && !errors.Is(err, ami.ErrActionFailed) {
				return fmt.Errorf("Hangup %s: %w", name, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", errPBXBusy, names)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// channels returns the names of the PBX's channels (Status works on every
// version).
func (o *observer) channels(ctx context.Context) ([]string, error) {
	st, err := o.client.Do(ctx, ami.NewAction("Status"))
	if err != nil {
		return nil, fmt.Errorf("Status: %w", err)
	}
	var names []string
	for _, f := range st.Items {
		if f.Event() == "Status" {
			names = append(names, f.Get("Channel"))
		}
	}
	return names, nil
}

// TestLiveOnFakeAMI runs the live suite against fakeami loaded with the
// test PBXes' own dialplan and queues (testdata/realpbx), in the dialect
// of each: where the fake and real Asterisk disagree on what these flows
// show, one of the two runs fails. It needs no PBX and always runs.
func TestLiveOnFakeAMI(t *testing.T) {
	files, err := filepath.Glob("testdata/live/*.txtar")
	require.NoError(t, err)
	if run := os.Getenv("ASTCTI_TEST_LIVE_RUN"); run != "" {
		files = filterScripts(files, run)
	}
	for _, p := range []struct {
		name    string
		dialect fakeami.Dialect
	}{{"22", fakeami.DialectModern}, {"14", fakeami.Dialect14}} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			addr := startRealPBXFake(t, p.name, p.dialect)
			for _, f := range files {
				t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
					testscript.Run(t, liveParams(p.name, addr, f))
				})
			}
		})
	}
}

// startRealPBXFake starts fakeami with the dialplan, queues and manager
// users of the test PBX of that version.
func startRealPBXFake(t *testing.T, version string, d fakeami.Dialect) string {
	var archive []byte
	for _, name := range []string{"extensions.conf", "queues.conf"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "realpbx", version, name))
		require.NoError(t, err)
		archive = append(archive, "-- "+name+" --\n"...)
		archive = append(archive, b...)
	}
	sc, err := scenarios.Parse("realpbx-"+version, archive)
	require.NoError(t, err)
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: d, Scenario: sc, Seed: 1, PhoneContext: "phones"})
	require.NoError(t, err)
	// The manager users of the real PBX: astcti, and astcti-limited for the
	// doctor's scripts.
	users, err := fakeami.ReadManagerUsers(filepath.Join("..", "..", "testdata", "realpbx", version, "manager.conf"))
	require.NoError(t, err)
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: d, Users: users, Engine: pbx, StartTime: pbx.StartTime})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := fakeami.Start(pbx, srv, ln)
	t.Cleanup(r.Close)
	return r.Addr
}
