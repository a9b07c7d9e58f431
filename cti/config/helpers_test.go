package config

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Keep password hashing cheap in tests; the benchmark measures the
	// real cost.
	PasswordIterations = minIterations
	// Every goroutine (the watcher's, fsnotify's) is stopped by its owner.
	goleak.VerifyTestMain(m)
}

// content returns a normalized copy of m without IDs, for comparing the
// content of two configurations.
func content(m *Model) *Model {
	c := m.Clone()
	c.ClearIDs()
	c.Normalize()
	for i := range c.Services {
		if len(c.Services[i].Variables) == 0 {
			c.Services[i].Variables = nil
		}
		if len(c.Services[i].Members) == 0 {
			c.Services[i].Members = nil
		}
	}
	return c
}

// problems returns the problems of a *ValidationError, failing otherwise.
func problems(t testing.TB, err error) []string {
	t.Helper()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "want a *ValidationError, got %v", err)
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.String())
	}
	return out
}

// missing returns the wanted substrings that no problem of got contains.
func missing(got []string, want []string) []string {
	all := strings.Join(got, "\n")
	var miss []string
	for _, w := range want {
		if !strings.Contains(all, w) {
			miss = append(miss, w)
		}
	}
	return miss
}

// checkFor polls cond until it holds or the deadline passes (nats checkFor).
func checkFor(t testing.TB, total time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeDemo(t testing.TB, dir string) string {
	t.Helper()
	path, err := WriteSnapshot(context.Background(), dir, Demo())
	require.NoError(t, err)
	return path
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
