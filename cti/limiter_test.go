package cti

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := newLoginLimiter(3, time.Minute, 4)
	l.now = func() time.Time { return now }

	for range 2 {
		l.fail("addr:1.2.3.4", "user:alice")
	}
	assert.False(t, l.blocked("addr:1.2.3.4", "user:alice"), "two failures are allowed")
	l.fail("addr:1.2.3.4", "user:alice")
	assert.True(t, l.blocked("addr:1.2.3.4"), "the third failure blocks the address")
	assert.True(t, l.blocked("addr:9.9.9.9", "user:alice"), "and the user from another address")
	assert.False(t, l.blocked("addr:9.9.9.9", "user:bob"))

	now = now.Add(61 * time.Second)
	assert.False(t, l.blocked("addr:1.2.3.4", "user:alice"), "the window passed")

	l.fail("user:bob")
	l.succeed("user:bob")
	l.fail("user:bob")
	l.fail("user:bob")
	assert.False(t, l.blocked("user:bob"), "a good login forgets the failures")

	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		l.fail(k)
		now = now.Add(time.Second)
	}
	assert.LessOrEqual(t, len(l.failures), 4, "keys are bounded")
	_, oldest := l.failures["a"]
	assert.False(t, oldest, "the oldest key went first")
}
