package ctitest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// Wait is how long the helpers wait for something that should happen: a
// line from the server, a condition, the end of Run. It is long because the
// tests run with -race on small, shared machines; a passing test never
// waits that long. ASTCTI_TEST_WAIT (a Go duration) overrides it.
var Wait = 20 * time.Second

// pollEvery is the interval between two checks of a condition.
const pollEvery = 5 * time.Millisecond

func init() {
	if s := os.Getenv("ASTCTI_TEST_WAIT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			Wait = d
		}
	}
}

// Poll calls check until it returns nil or d has passed, and returns the
// last error (nil once check succeeded). It never sleeps longer than
// pollEvery between two checks.
func Poll(d time.Duration, check func() error) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		<-tick.C
	}
}

// WaitFor polls check until it returns nil, and fails the test with its
// last error if that does not happen within Wait.
func WaitFor(t testing.TB, what string, check func() error) {
	t.Helper()
	if err := Poll(Wait, check); err != nil {
		t.Fatalf("waited %v for %s: %v", Wait, what, err)
	}
}

// Check turns a condition into the error WaitFor wants: nil when ok, else
// an error saying format.
func Check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}
