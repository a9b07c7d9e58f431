package cti

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBackoff: the pause before a membership action is sent again doubles
// from memberRetryMin up to memberRetryMax, and the wait is drawn between
// half the pause and the pause, so that retries of many seats spread out.
func TestBackoff(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var b backoff
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		b.next(now)
		assert.Equal(t, w, b.pause, "pause %d", i+1)
		wait := b.at.Sub(now)
		assert.True(t, wait >= w/2 && wait <= w, "wait %d = %v, want in [%v, %v]", i+1, wait, w/2, w)
	}
	waits := make(map[time.Duration]bool)
	for range 50 {
		b.next(now)
		waits[b.at.Sub(now)] = true
	}
	assert.Greater(t, len(waits), 1, "the waits are jittered")
}
