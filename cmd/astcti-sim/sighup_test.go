//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSIGHUPStops: SIGHUP (the terminal the demo runs in closing) stops
// astcti-sim cleanly, exit status 0, with a line naming the signal; it
// used to die of it with status 129, saying nothing.
func TestSIGHUPStops(t *testing.T) {
	bin, err := exec.LookPath("astcti-sim") // the test binary, as testscript.Main installs it
	require.NoError(t, err)
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready.json")
	cmd := exec.Command(bin, "--plain", "--duration", "60s", "--rate", "60/min", "--seed", "1",
		"--ami-listen", "127.0.0.1:0", "--seat-listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
		"--configurator-listen", "",
		"--data", filepath.Join(dir, "data"), "--ready-file", ready)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(waitFor)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("no %s after %v; stderr:\n%s", ready, waitFor, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi, err := os.Stat(ready); assert.NoError(t, err) {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the ready file can hold the configurator's password: its owner's only")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	select {
	case err := <-exited:
		assert.NoError(t, err, "astcti-sim exits 0 on SIGHUP")
		assert.Contains(t, stderr.String(), "astcti-sim: stopped on a signal (SIGHUP)\n")
	case <-time.After(waitFor):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("astcti-sim still runs %v after SIGHUP", waitFor)
	}
}
