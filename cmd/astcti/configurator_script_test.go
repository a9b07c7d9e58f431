package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWaitURL waits for the ready file of `astcti configurator` and sets
// VAR to its URL (without the final slash): waiturl FILE VAR.
func cmdWaitURL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waiturl FILE VAR")
	}
	deadline := time.Now().Add(scriptWait(ts))
	for {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		var ready struct{ URL string }
		if err == nil && json.Unmarshal(b, &ready) == nil && ready.URL != "" {
			ts.Setenv(args[1], ready.URL[:len(ready.URL)-1])
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no valid ready file %s (%q): the configurator did not start", args[0], b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
