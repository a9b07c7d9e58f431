//go:build unix

package main

import (
	"os"
	"path/filepath"
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
	sim := startSim(t, nil, "--data", filepath.Join(t.TempDir(), "data"))
	if fi, err := os.Stat(sim.ready); assert.NoError(t, err) {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the ready file can hold the configurator's password: its owner's only")
	}
	require.NoError(t, sim.cmd.Process.Signal(syscall.SIGHUP))
	select {
	case err := <-sim.exited:
		assert.NoError(t, err, "astcti-sim exits 0 on SIGHUP")
		assert.Contains(t, sim.stderr.String(), "astcti-sim: stopped on a signal (SIGHUP)\n")
	case <-time.After(waitFor):
		sim.kill()
		t.Fatalf("astcti-sim still runs %v after SIGHUP", waitFor)
	}
}
