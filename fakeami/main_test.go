package fakeami

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any test leaves a goroutine
// running: the PBX's timer callbacks and the server's session goroutines
// must all be gone when a test ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
