package cti

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/astcti/astcti/cti/config"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// server, fake Asterisk and seat a test starts must be stopped by its end.
// Started as BenchmarkIdleSeats's child, the binary runs that instead.
func TestMain(m *testing.M) {
	// Operators are hashed and checked at every login of every test: the
	// cheapest cost the hash format allows is plenty for tests.
	config.PasswordIterations = 1000
	if ran, code := runIdleSeatsChild(); ran {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}
