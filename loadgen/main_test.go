package loadgen

import (
	"fmt"
	"os"
	"testing"
)

// TestMain lets the test binary play the parts a run starts: Run starts
// its own executable again as the fake PBX and the server.
func TestMain(m *testing.M) {
	if child, err := RunChildIfAsked(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
