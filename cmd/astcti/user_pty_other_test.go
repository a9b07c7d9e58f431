//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdPtyExec needs Linux's /dev/ptmx; the scripts that use it skip
// elsewhere ([!linux] skip).
func cmdPtyExec(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("ptyexec: only on Linux")
}
