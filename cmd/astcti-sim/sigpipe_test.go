//go:build unix

package main

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputClosed: astcti-sim | head, once head has its lines, or a tee
// stopped by Ctrl-C: the writes to the closed standard output fail, and
// astcti-sim stops cleanly, saying why, and removes its temporary --data
// directory. It used to die of SIGPIPE at the first write, before its
// cleanup, and left the directory in TMPDIR.
func TestOutputClosed(t *testing.T) {
	tmp := t.TempDir()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	sim := startSim(t, func(cmd *exec.Cmd) {
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		cmd.Stdout = w
	})
	w.Close()
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the temporary data directory, while it runs")
	r.Close() // head has its lines
	select {
	case err := <-sim.exited:
		assert.NoError(t, err, "astcti-sim stops cleanly; stderr:\n%s", sim.stderr.String())
		assert.Regexp(t, `(?m)^astcti-sim: stopped: output closed: write /dev/stdout: broken pipe$`, sim.stderr.String())
	case <-time.After(waitFor):
		sim.kill()
		t.Fatalf("astcti-sim still runs %v after its output closed; stderr:\n%s", waitFor, sim.stderr.String())
	}
	entries, err = os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries, "the temporary data directory is removed")
}
