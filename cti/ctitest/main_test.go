package ctitest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/astcti/astcti/cti/config"
)

func TestMain(m *testing.M) {
	config.PasswordIterations = 1000 // the cheapest the hash format allows
	goleak.VerifyTestMain(m)
}
