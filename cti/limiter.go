package cti

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/metrics"
)

// loginFailure is why a password check failed, as the metrics count it
// (the seat is told the same "authentication failed" whatever the reason:
// names cannot be probed).
func loginFailure(op *config.Operator) string {
	switch {
	case op == nil:
		return metrics.LoginUnknownOperator
	case !op.Enabled:
		return metrics.LoginOperatorDisabled
	}
	return metrics.LoginBadPassword
}

// loginLimiter throttles failed seat logins per key: after free failures,
// the next attempt for that key is refused unchecked until a delay has
// passed since the last failure; the delay starts at base and doubles with
// every further failure, up to max. So whoever guesses passwords slows
// down himself (his key), not everybody else. A key whose last failure is
// older than expiry is forgotten, and a good login forgets it at once.
// Keys are bounded in number (maxKeys): when the table is full, expired
// keys go first, then the one whose last failure is the oldest.
//
// It is safe for concurrent use: seat reader goroutines check it before
// they spend CPU on a password hash.
type loginLimiter struct {
	mu      sync.Mutex
	keys    map[string]*failureCount
	free    int
	base    time.Duration
	max     time.Duration // the longest delay
	expiry  time.Duration
	maxKeys int
	now     func() time.Time
}

type failureCount struct {
	n    int
	last time.Time
}

func newLoginLimiter(free int, base, maxDelay, expiry time.Duration, maxKeys int) *loginLimiter {
	return &loginLimiter{
		keys: make(map[string]*failureCount),
		free: free, base: base, max: maxDelay, expiry: max(expiry, maxDelay), maxKeys: maxKeys,
		now: time.Now,
	}
}

// delay returns the pause imposed after n failures.
func (l *loginLimiter) delay(n int) time.Duration {
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
func (l *loginLimiter) wait(key string) time.Duration {
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
	if left := f.last.Add(l.delay(f.n)).Sub(now); left > 0 {
		return left
	}
	return 0
}

// fail records a failed attempt for key.
func (l *loginLimiter) fail(key string) {
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
		f = &failureCount{}
		l.keys[key] = f
	}
	f.n++
	f.last = now
}

// succeed forgets the failures of key after a good login.
func (l *loginLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// len returns the number of keys kept.
func (l *loginLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// evictLocked makes room for one key: it drops every expired key, or else
// the one whose last failure is the oldest. l.mu must be held. It is
// linear, but runs only when the table is full of distinct failing keys,
// each of which cost a refused login.
func (l *loginLimiter) evictLocked(now time.Time) {
	var oldest string
	var at time.Time
	expired := false
	for k, f := range l.keys {
		if now.Sub(f.last) >= l.expiry {
			delete(l.keys, k)
			expired = true
			continue
		}
		if oldest == "" || f.last.Before(at) {
			oldest, at = k, f.last
		}
	}
	if !expired {
		delete(l.keys, oldest)
	}
}

// pairKey is the limiter key of one operator name tried from one address.
// The name is hashed: it may be anything a client typed (a password given
// as the name, too), and a hash keeps every key the same small size.
func pairKey(user, addr string) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(user)) + ":" + user + addr))
	return string(sum[:16])
}

// nameHash names an unknown operator name in the logs without writing it:
// what was typed as a name may be a password.
func nameHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:4])
}
