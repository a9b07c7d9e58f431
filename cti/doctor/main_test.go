package doctor

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a run leaves a goroutine behind:
// the session's collector and the ami.Client's goroutines must be gone
// when Run returns.
func TestMain(m *testing.M) {
	probeWait, watchGrace = 300*time.Millisecond, 200*time.Millisecond
	goleak.VerifyTestMain(m)
}
