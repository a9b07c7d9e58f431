package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runningSim is the astcti-sim binary started by startSim.
type runningSim struct {
	cmd    *exec.Cmd
	ready  string           // the --ready-file, there once every part listens
	stderr *strings.Builder // read once exited has answered
	exited chan error       // Wait's result
}

// startSim starts the test binary (as testscript.Main installs it) with
// the demo on free ports and no configurator, plus extra arguments;
// setup, when set, prepares the command (environment, output) first. It
// returns once the ready file is written, failing the test after
// waitFor.
func startSim(t *testing.T, setup func(*exec.Cmd), extra ...string) *runningSim {
	t.Helper()
	bin, err := exec.LookPath("astcti-sim")
	require.NoError(t, err)
	s := &runningSim{ready: filepath.Join(t.TempDir(), "ready.json"), stderr: &strings.Builder{}, exited: make(chan error, 1)}
	args := append([]string{"--plain", "--duration", "60s", "--rate", "60/min", "--seed", "1",
		"--ami-listen", "127.0.0.1:0", "--seat-listen", "127.0.0.1:0", "--control-listen", "",
		"--configurator-listen", "", "--ready-file", s.ready}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = s.stderr
	if setup != nil {
		setup(s.cmd)
	}
	require.NoError(t, s.cmd.Start())
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(waitFor)
	for {
		if _, err := os.Stat(s.ready); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("no %s after %v; stderr:\n%s", s.ready, waitFor, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill kills the process and waits for it.
func (s *runningSim) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}
