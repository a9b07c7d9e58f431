package main

import (
	"os"
	"regexp"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWaitLog waits until the file FILE, the log of a program running in
// the background (sh -c 'exec astcti server ... 2>FILE'), has a line
// matching REGEXP: waitlog FILE REGEXP. A script uses it as a barrier on
// what the program did, when nothing else shows it.
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitlog FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(waitFor)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no line matching %q in %s:\n%s", args[1], args[0], b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
