package throttle

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLimiter replays failures, good logins and the passing of time
// against one limiter (3 free failures, delays 1 s doubling to 8 s, keys
// forgotten 1 min after their last failure) and checks the wait each key
// gets.
func TestLimiter(t *testing.T) {
	type step struct {
		at   time.Duration // since the start
		do   string        // "fail", "ok" or "wait"
		key  string
		want time.Duration // for "wait"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"three failures are free", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0},
			{0, "wait", "a", 0},
			{0, "fail", "a", 0},
			{0, "wait", "a", time.Second},
			{500 * time.Millisecond, "wait", "a", 500 * time.Millisecond},
			{time.Second, "wait", "a", 0},
		}},
		{"the delay doubles up to the cap", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{0, "fail", "a", 0},
			{0, "wait", "a", 2 * time.Second},
			{0, "fail", "a", 0},
			{0, "wait", "a", 4 * time.Second},
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{0, "wait", "a", 8 * time.Second},
		}},
		{"the delay runs from the last failure", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0},
			{10 * time.Second, "fail", "a", 0},
			{10 * time.Second, "wait", "a", time.Second},
		}},
		{"other keys are not touched", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{0, "wait", "a", time.Second},
			{0, "wait", "b", 0},
		}},
		{"a good login forgets", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{2 * time.Second, "ok", "a", 0},
			{2 * time.Second, "fail", "a", 0},
			{2 * time.Second, "wait", "a", 0},
		}},
		{"a key expires", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{time.Minute, "wait", "a", 0},
			{time.Minute, "fail", "a", 0},
			{time.Minute, "wait", "a", 0},
		}},
		{"expiry restarts the count of a key failing again", []step{
			{0, "fail", "a", 0}, {0, "fail", "a", 0}, {0, "fail", "a", 0},
			{time.Minute, "fail", "a", 0},
			{time.Minute, "wait", "a", 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			now := start
			l := New(3, time.Second, 8*time.Second, time.Minute, 100)
			l.SetClock(func() time.Time { return now })
			for i, s := range tc.steps {
				now = start.Add(s.at)
				switch s.do {
				case "fail":
					l.Fail(s.key)
				case "ok":
					l.Succeed(s.key)
				case "wait":
					assert.Equal(t, s.want, l.Wait(s.key), "step %d: wait(%q) at %v", i, s.key, s.at)
				}
			}
		})
	}
}

// TestLimiterBounded: the table never holds more than its keys; when
// full, expired keys go first, then the one that failed longest ago, and a
// throttled key that keeps failing stays.
func TestLimiterBounded(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	now := start
	l := New(3, time.Second, 8*time.Second, time.Minute, 4)
	l.SetClock(func() time.Time { return now })
	for range 3 {
		l.Fail("guesser")
	}
	for i := range 10 {
		now = now.Add(time.Second)
		l.Fail(fmt.Sprint("k", i))
		l.Fail("guesser")
		assert.LessOrEqual(t, l.Len(), 4, "after key %d", i)
	}
	assert.Positive(t, l.Wait("guesser"), "the key failing all along is kept")
	_, first := l.keys["k0"]
	assert.False(t, first, "the oldest key went first")

	now = now.Add(2 * time.Minute)
	l.Fail("new")
	assert.Equal(t, 1, l.Len(), "every expired key was dropped at once")
	for i := range 3 {
		l.Fail(fmt.Sprint("later", i))
	}
	assert.Equal(t, 4, l.Len(), "no eviction while there is room")
}

// TestLimiterEvictsInBatches: a full table of live keys drops its
// oldest sixty-fourth at once, so the next new keys find room without
// another scan.
func TestLimiterEvictsInBatches(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := New(3, time.Second, 8*time.Second, time.Hour, 128)
	l.SetClock(func() time.Time { return now })
	for i := range 128 {
		now = now.Add(time.Second)
		l.Fail(fmt.Sprint("k", i))
	}
	l.Fail("new")
	assert.Equal(t, 127, l.Len(), "two went, one came")
	for _, k := range []string{"k0", "k1"} {
		_, kept := l.keys[k]
		assert.False(t, kept, "%s, among the oldest, went", k)
	}
	_, kept := l.keys["k2"]
	assert.True(t, kept, "k2 stays")
	l.Fail("newer")
	assert.Equal(t, 128, l.Len(), "room was left for it")
}

func TestNameHash(t *testing.T) {
	assert.Equal(t, "2bb80d53", NameHash("secret"))
	assert.Len(t, PairKey("alice", "127.0.0.1"), 16)
	assert.NotEqual(t, PairKey("alice", "127.0.0.1"), PairKey("alice", "127.0.0.2"))
	assert.NotEqual(t, PairKey("a\x00b", "c"), PairKey("a", "b\x00c"), "a name cannot forge the address part")
}

// TestPolicyLimiters: the limiters of a policy throttle a pair after
// PairFree failures and an address after AddrFree, with the policy's
// first delay.
func TestPolicyLimiters(t *testing.T) {
	p := Policy{PairFree: 2, AddrFree: 5, Base: time.Minute, Max: time.Hour, Expiry: time.Hour, MaxKeys: 10}
	pairs, addrs := p.Limiters()
	now := time.Unix(1e9, 0)
	pairs.SetClock(func() time.Time { return now })
	addrs.SetClock(func() time.Time { return now })
	for i := range 5 {
		assert.Equal(t, i >= 2, pairs.Wait("k") > 0, "pair after %d failures", i)
		assert.Zero(t, addrs.Wait("a"), "address after %d failures", i)
		pairs.Fail("k")
		addrs.Fail("a")
	}
	assert.Equal(t, time.Minute, addrs.Wait("a"), "the address waits after 5, the policy's first delay")

	def := LoginPolicy()
	assert.Less(t, def.PairFree, def.AddrFree, "an address may fail more often than one name from it")
	assert.LessOrEqual(t, def.Max, def.Expiry, "a key is kept as long as it may wait")
}
