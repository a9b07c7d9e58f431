package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// A load run measures the server and the fake PBX as an operator would: as
// processes of their own, with their own CPU seconds and memory. The load
// generator starts them by running its own executable again with
// childEnv set to the part to play and specEnv to the path of its spec
// (JSON, in a file: a scenario for 50,000 phones is larger than an
// environment variable may be). The
// child writes one JSON line to stdout once it listens, and stops when its
// stdin closes (so that it never outlives the load generator) or on
// SIGTERM.
const (
	childEnv = "ASTCTI_LOADGEN_CHILD"
	specEnv  = "ASTCTI_LOADGEN_SPEC"
)

// The parts a child plays.
const (
	partPBX    = "pbx"
	partServer = "server"
)

// readyWait bounds the wait for a child's ready line.
const readyWait = 30 * time.Second

// RunChildIfAsked runs the part this process was started to play, if it
// was started as a child of a load run, and reports whether it was; then
// the caller exits with the error's status. A main function and a test
// binary's TestMain call it first.
func RunChildIfAsked() (bool, error) {
	part := os.Getenv(childEnv)
	if part == "" {
		return false, nil
	}
	ctx, stop := signalContext()
	defer stop()
	spec, err := os.ReadFile(os.Getenv(specEnv))
	if err != nil {
		return true, fmt.Errorf("loadgen: the %s's spec: %w", part, err)
	}
	switch part {
	case partPBX:
		err = runPBXChild(ctx, spec, os.Stdout)
	case partServer:
		err = runServerChild(ctx, spec, os.Stdout)
	default:
		err = fmt.Errorf("loadgen: unknown child part %q", part)
	}
	return true, err
}

// signalContext is done on SIGTERM, SIGINT, SIGHUP, or once stdin is closed: the
// parent closes it to stop the child, and the kernel closes it when the
// parent dies.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signalNotify()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx, func() { cancel(); stop() }
}

// writeReady writes the child's ready line.
func writeReady(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// child is a running child process.
type child struct {
	part  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error // the Wait result, once
}

// startChild starts a child playing part with spec, written into dir, and
// decodes its ready line into ready. The child's stderr (its log) goes to
// logw.
func startChild(ctx context.Context, dir, part string, spec, ready any, logw io.Writer) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadgen: find own executable to start the %s: %w", part, err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, part+".json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("loadgen: write the %s's spec: %w", part, err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+part, specEnv+"="+path)
	cmd.Stderr = logw
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start the %s: %w", part, err)
	}
	c := &child{part: part, cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	line := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Bytes()
		}
		close(line)
		io.Copy(io.Discard, stdout) // a child that writes more must not block
	}()
	go func() { c.done <- cmd.Wait() }()
	if err := c.waitReady(ctx, line, ready); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

func (c *child) waitReady(ctx context.Context, line <-chan []byte, ready any) error {
	t := time.NewTimer(readyWait)
	defer t.Stop()
	select {
	case b, ok := <-line:
		if !ok {
			return fmt.Errorf("loadgen: the %s ended before it was ready: %w", c.part, <-c.done)
		}
		if err := json.Unmarshal(b, ready); err != nil {
			return fmt.Errorf("loadgen: the %s's ready line %q: %w", c.part, b, err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("loadgen: the %s was not ready within %v", c.part, readyWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the child to stop (SIGTERM, stdin closed) and waits up to
// grace for it, then kills it. It returns the child's exit error, nil for
// a clean stop.
func (c *child) stop(grace time.Duration) error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.stdin.Close()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-t.C:
		c.kill()
		return fmt.Errorf("loadgen: the %s did not stop within %v and was killed", c.part, grace)
	}
}

func (c *child) kill() {
	c.cmd.Process.Kill()
	c.stdin.Close()
	err := <-c.done
	c.done <- err
}
