package seatclient

import (
	"encoding/json"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// argvEnv names the file where the test binary, started as a helper
// program by a test, writes the arguments it received (as JSON) and exits.
// A test sets it and runs the test binary itself as the action's program,
// as the os/exec tests do.
const argvEnv = "SEATCLIENT_TEST_ARGV_FILE"

func TestMain(m *testing.M) {
	if path := os.Getenv(argvEnv); path != "" {
		b, err := json.Marshal(os.Args[1:])
		if err == nil {
			err = os.WriteFile(path+".tmp", b, 0o644)
		}
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
