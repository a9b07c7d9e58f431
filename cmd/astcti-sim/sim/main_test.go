package sim

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/astcti/astcti/cti/config"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// simulation must stop every part it started.
func TestMain(m *testing.M) {
	config.PasswordIterations = 1000
	goleak.VerifyTestMain(m)
}
