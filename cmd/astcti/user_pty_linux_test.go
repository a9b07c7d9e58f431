package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdPtyExec runs a program on a new pseudo-terminal (its standard input,
// output and error) and types the lines of FILE, each once the program has
// turned the terminal's echo off, as a person types a password after its
// prompt: ptyexec CODE FILE PROGRAM [ARGS...]. A line ^C is Ctrl-C instead
// (the terminal sends SIGINT: the program runs in its own session, with
// the terminal as its controlling terminal). It checks the exit status (-1:
// killed by a signal) and keeps as stdout everything the terminal showed
// (prompts, and any echo), then "[echo on]" or "[echo off]": the state the
// program left the terminal in. The environment is the test's without its
// ASTCTI_ variables, plus the script's ASTCTI_CONFIGURATOR_DATA if set.
func cmdPtyExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: ptyexec CODE FILE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("ptyexec: %q is not an exit status", args[0])
	}
	lines := strings.SplitAfter(ts.ReadFile(args[1]), "\n")
	master, slave, err := openPty()
	ts.Check(err)
	defer master.Close()

	path, err := exec.LookPath(args[2])
	ts.Check(err)
	cmd := exec.Command(path, args[3:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ASTCTI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if v := ts.Getenv("ASTCTI_CONFIGURATOR_DATA"); v != "" {
		cmd.Env = append(cmd.Env, "ASTCTI_CONFIGURATOR_DATA="+v)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		ts.Fatalf("ptyexec: %v", err)
	}
	var (
		out  bytes.Buffer
		wg   sync.WaitGroup
		done = make(chan error, 1)
	)
	wg.Add(2)
	go func() { // reads until the last slave descriptor is closed (EIO)
		defer wg.Done()
		var b [4096]byte
		for {
			n, err := master.Read(b[:])
			out.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		done <- cmd.Wait()
	}()
	var waitErr error
	exited, cleaned := false, false
	cleanup := func() { // on every path, Fatalf's included
		if cleaned {
			return
		}
		cleaned = true
		if !exited {
			cmd.Process.Kill()
			waitErr = <-done
			exited = true
		}
		slave.Close()
		wg.Wait()
	}
	defer cleanup()
	// until waits until cond holds for the terminal, or the program has
	// exited.
	until := func(what string, cond func() bool) {
		deadline := time.Now().Add(waitFor)
		for !exited {
			select {
			case waitErr = <-done:
				exited = true
				return
			default:
			}
			if cond() {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("ptyexec: %s, still not after %v; the terminal showed:\n%s", what, waitFor, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, line := range lines {
		if line == "" {
			continue
		}
		// Type it once echo is off: the program reads a password.
		until("echo off", func() bool {
			var t syscall.Termios
			if err := ioctl(slave.Fd(), syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
				ts.Fatalf("ptyexec: TCGETS: %v", err)
			}
			return t.Lflag&syscall.ECHO == 0
		})
		if exited {
			break
		}
		if strings.TrimSpace(line) == "^C" {
			line = "\x03"
		}
		_, err := master.Write([]byte(line))
		ts.Check(err)
		// Then wait for it to be read, so the next line is not taken for
		// the first (echo may stay off until the next prompt).
		until("the line read", func() bool {
			var n int32
			if err := ioctl(slave.Fd(), syscall.TIOCINQ, unsafe.Pointer(&n)); err != nil {
				ts.Fatalf("ptyexec: TIOCINQ: %v", err)
			}
			return n == 0
		})
	}
	if !exited {
		select {
		case waitErr = <-done:
			exited = true
		case <-time.After(waitFor):
			cleanup()
			ts.Fatalf("ptyexec: %s did not exit within %v; the terminal showed:\n%s", args[2], waitFor, out.String())
		}
	}
	var t syscall.Termios
	if err := ioctl(slave.Fd(), syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		ts.Fatalf("ptyexec: TCGETS: %v", err)
	}
	cleanup()
	echo := "[echo on]"
	if t.Lflag&syscall.ECHO == 0 {
		echo = "[echo off]"
	}
	fmt.Fprint(ts.Stdout(), strings.ReplaceAll(out.String(), "\r\n", "\n"), "\n", echo, "\n")
	got := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		got = ee.ExitCode()
	} else if waitErr != nil {
		ts.Fatalf("ptyexec: %v", waitErr)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d; the terminal showed:\n%s", args[2], got, want, out.String())
	}
}

// openPty opens a new pseudo-terminal pair (Linux's /dev/ptmx).
func openPty() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var n uint32
	var unlock int32
	if err := ioctl(master.Fd(), syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("TIOCGPTN: %w", err)
	}
	if err := ioctl(master.Fd(), syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("TIOCSPTLCK: %w", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

func ioctl(fd uintptr, req uint, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg)); e != 0 {
		return e
	}
	return nil
}
