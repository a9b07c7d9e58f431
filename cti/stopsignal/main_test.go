package stopsignal

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails if a test leaves the goroutine that watches the signals
// running once stop has returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
