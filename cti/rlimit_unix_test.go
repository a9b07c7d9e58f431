//go:build unix

package cti

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeatCapFitsOpenFiles: at start the cap on seat connections is
// lowered to the open-file limit less filesReserved, so that a seat over
// it is told 906 instead of meeting a failed accept; a cap already below
// stays. (The test lowers its own process's soft limit for a moment: no
// other test runs meanwhile.)
func TestSeatCapFitsOpenFiles(t *testing.T) {
	tests := []struct {
		name     string
		maxSeats int    // Config.MaxSeats
		limit    uint64 // the soft limit of open files
		want     int
	}{
		{"the default, lowered", 0, 1000, 1000 - filesReserved},
		{"no cap, lowered", -1, 1000, 1000 - filesReserved},
		{"a cap above the room, lowered", 5000, 1000, 1000 - filesReserved},
		{"a cap below the room, kept", 100, 1000, 100},
		{"a limit below the reserve, one seat", 0, uint64(filesReserved) / 2, 1},
	}
	var orig syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig))
	if orig.Max < 1000 {
		t.Skipf("the hard limit of open files is %d, below the test's 1000", orig.Max)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{MaxSeats: tc.maxSeats})
			lowered := orig
			lowered.Cur = tc.limit
			require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered))
			s.fitSeatsToFiles()
			require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig))
			assert.Equal(t, tc.want, s.maxSeats, "the cap on seats with %d open files", tc.limit)
		})
	}
}
