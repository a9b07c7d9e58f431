package scenariotest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/astcti/astcti/cti/config"
)

// TestMain fails the package's tests if a goroutine outlives them: every
// fake PBX, server and seat a run starts is stopped by its end.
func TestMain(m *testing.M) {
	// Every run hashes the passwords of its configuration: the cheapest
	// cost the hash format allows is plenty for tests.
	config.PasswordIterations = 1000
	goleak.VerifyTestMain(m)
}
