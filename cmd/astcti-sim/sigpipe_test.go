//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	bin, err := exec.LookPath("astcti-sim") // the test binary, as testscript.Main installs it
	require.NoError(t, err)
	tmp := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(bin, "--plain", "--duration", "60s", "--rate", "60/min", "--seed", "1",
		"--ami-listen", "127.0.0.1:0", "--seat-listen", "127.0.0.1:0", "--control-listen", "",
		"--configurator-listen", "", "--ready-file", ready)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	w.Close()
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
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the temporary data directory, while it runs")
	r.Close() // head has its lines
	select {
	case err := <-exited:
		assert.NoError(t, err, "astcti-sim stops cleanly; stderr:\n%s", stderr.String())
		assert.Regexp(t, `(?m)^astcti-sim: stopped: output closed: write /dev/stdout: broken pipe$`, stderr.String())
	case <-time.After(waitFor):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("astcti-sim still runs %v after its output closed; stderr:\n%s", waitFor, stderr.String())
	}
	entries, err = os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries, "the temporary data directory is removed")
}
