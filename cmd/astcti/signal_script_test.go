package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptSignals are the signals cmdSignal sends; testscript's own kill
// knows INT and KILL only.
var scriptSignals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM,
}

// cmdSignal sends a signal to the program whose process id is in PIDFILE:
// signal -HUP|-INT|-TERM PIDFILE. The program is started in the
// background by a shell that writes its own id and then execs it, so that
// the id is the program's: exec sh -c 'echo $$ >srv.pid; exec astcti
// server ...' &srv&. It waits for the file to be written.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || !strings.HasPrefix(args[0], "-") {
		ts.Fatalf("usage: signal -HUP|-INT|-TERM PIDFILE")
	}
	sig, ok := scriptSignals[args[0][1:]]
	if !ok {
		ts.Fatalf("unknown signal %s", args[0])
	}
	deadline := time.Now().Add(waitFor)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[1]))
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(s)
			if err != nil || pid <= 1 {
				ts.Fatalf("%s: not a process id: %q", args[1], s)
			}
			ts.Check(syscall.Kill(pid, sig))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s: no process id after %v", args[1], waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
