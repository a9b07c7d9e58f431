package cti

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTokenBucket(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var b tokenBucket
	for i := range seatActionBurst {
		assert.True(t, b.allow(now), "action %d of the burst", i+1)
	}
	assert.False(t, b.allow(now), "the burst is spent")
	now = now.Add(seatActionEvery)
	assert.True(t, b.allow(now), "one more after an interval")
	assert.False(t, b.allow(now))
	now = now.Add(time.Hour)
	for range seatActionBurst {
		assert.True(t, b.allow(now))
	}
	assert.False(t, b.allow(now), "a long pause refills only the burst")
}
