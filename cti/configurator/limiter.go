package configurator

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// limiter throttles failed logins per key, as package cti's loginLimiter
// throttles seat logins (the same rule, written again here so that the
// configurator does not import the server's internals): after free
// failures, the next attempt for a key is refused unchecked until a delay
// has passed since its last failure; the delay starts at base and doubles
// at every further failure, up to max. A key whose last failure is older
// than expiry is forgotten, and a good login forgets its pair key at once.
// Keys are bounded in number: when the table is full, expired keys go
// first, then the one whose last failure is the oldest. It is safe for
// concurrent use.
type limiter struct {
	mu      sync.Mutex
	keys    map[string]*failures
	free    int
	base    time.Duration
	max     time.Duration
	expiry  time.Duration
	maxKeys int
	now     func() time.Time
}

type failures struct {
	n    int
	last time.Time
}

func newLimiter(free int, base, maxDelay, expiry time.Duration, maxKeys int) *limiter {
	return &limiter{keys: make(map[string]*failures), free: free, base: base, max: maxDelay,
		expiry: max(expiry, maxDelay), maxKeys: maxKeys, now: time.Now}
}

// delay returns the pause imposed after n failures.
func (l *limiter) delay(n int) time.Duration {
	if n < l.free {
		return 0
	}
	d := l.base
	for i := l.free; i < n && d < l.max; i++ {
		d *= 2
	}
	return min(d, l.max)
}

// wait returns how long key must still wait before its next attempt is
// checked; 0 means at once.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if !ok {
		return 0
	}
	now := l.now()
	if now.Sub(f.last) >= l.expiry {
		delete(l.keys, key)
		return 0
	}
	return max(0, f.last.Add(l.delay(f.n)).Sub(now))
}

// fail records a failed attempt for key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f, ok := l.keys[key]
	if ok && now.Sub(f.last) >= l.expiry {
		f.n = 0
	}
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.evictLocked(now)
		}
		f = &failures{}
		l.keys[key] = f
	}
	f.n++
	f.last = now
}

// succeed forgets the failures of key.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// evictLocked drops every expired key or, when none is, the oldest.
// l.mu must be held. The scan is linear, but runs only when the table is
// full, and the table is far larger than a login flood from one address
// can fill quickly: each address's failures are throttled too.
func (l *limiter) evictLocked(now time.Time) {
	oldest, found := "", false
	var oldestLast time.Time
	expired := false
	for k, f := range l.keys {
		if now.Sub(f.last) >= l.expiry {
			delete(l.keys, k)
			expired = true
		} else if !found || f.last.Before(oldestLast) {
			oldest, oldestLast, found = k, f.last, true
		}
	}
	if !expired && found {
		delete(l.keys, oldest)
	}
}

// pairKey is the limiter key of one user id tried from one address, hashed:
// what was typed as a user id may be anything, a password too.
func pairKey(user, addr string) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(user)) + ":" + user + addr))
	return string(sum[:16])
}

// nameHash names a user id in the log without writing it, as the seat
// server does (cti/limiter.go): what was typed may be a password.
func nameHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:4])
}
