// Package throttle slows down password guessing: a Limiter counts failed
// logins per key (a name tried from an address, an address) and makes the
// next attempt of a key that failed too often wait, so that whoever
// guesses slows himself down, not the call centre. The seat server and the
// web configurator use it alike.
package throttle

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Limiter throttles failed logins per key: after free failures,
// the next attempt for that key is refused unchecked until a delay has
// passed since the last failure; the delay starts at base and doubles with
// every further failure, up to max. So whoever guesses passwords slows
// down himself (his key), not everybody else. A key whose last failure is
// older than expiry is forgotten, and a good login forgets it at once.
// Keys are bounded in number (maxKeys): when the table is full, expired
// keys go first, then those whose last failure is the oldest.
//
// It is safe for concurrent use: the seat readers and the configurator's
// handlers check it before they spend CPU on a password hash.
type Limiter struct {
	mu      sync.Mutex
	keys    map[string]*failures
	free    int
	base    time.Duration
	max     time.Duration // the longest delay
	expiry  time.Duration
	maxKeys int
	now     func() time.Time
}

type failures struct {
	n    int
	last time.Time
}

// New returns a Limiter: free failures per key, then a delay of base
// doubling up to maxDelay, keys forgotten expiry after their last failure,
// at most maxKeys of them.
func New(free int, base, maxDelay, expiry time.Duration, maxKeys int) *Limiter {
	return &Limiter{
		keys: make(map[string]*failures),
		free: free, base: base, max: maxDelay, expiry: max(expiry, maxDelay), maxKeys: maxKeys,
		now: time.Now,
	}
}

// SetClock makes l read the time from now (tests).
func (l *Limiter) SetClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// delay returns the pause imposed after n failures.
func (l *Limiter) delay(n int) time.Duration {
	if n < l.free {
		return 0
	}
	d := l.base
	for i := l.free; i < n && d < l.max; i++ {
		d *= 2
	}
	return min(d, l.max)
}

// Wait returns how long key must still wait before its next attempt is
// checked; 0 means at once.
func (l *Limiter) Wait(key string) time.Duration {
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

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
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

// Succeed forgets the failures of key after a good login.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// Len returns the number of keys kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// evictLocked makes room for new keys: it drops every expired key or, when
// none is, the oldest sixty-fourth of the table (by last failure), so that
// the scan, linear in the table, runs once per many new keys and not at
// every one, even under a flood of distinct failing keys. l.mu must be
// held.
func (l *Limiter) evictLocked(now time.Time) {
	batch := max(1, l.maxKeys/64)
	oldest := make(agedKeys, 0, batch) // a max-heap: the newest of them on top
	expired := false
	for k, f := range l.keys {
		switch {
		case now.Sub(f.last) >= l.expiry:
			delete(l.keys, k)
			expired = true
		case expired:
			// Room is made already; no need to rank the others.
		case len(oldest) < batch:
			heap.Push(&oldest, agedKey{k, f.last})
		case f.last.Before(oldest[0].last):
			oldest[0] = agedKey{k, f.last}
			heap.Fix(&oldest, 0)
		}
	}
	if expired {
		return
	}
	for _, a := range oldest {
		delete(l.keys, a.key)
	}
}

// agedKey is a key and the time of its last failure.
type agedKey struct {
	key  string
	last time.Time
}

// agedKeys is a heap of keys, the most recent failure first.
type agedKeys []agedKey

func (h agedKeys) Len() int           { return len(h) }
func (h agedKeys) Less(i, j int) bool { return h[i].last.After(h[j].last) }
func (h agedKeys) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *agedKeys) Push(x any)        { *h = append(*h, x.(agedKey)) }
func (h *agedKeys) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// PairKey is the limiter key of one user name tried from one address.
// The name is hashed: it may be anything a client typed (a password given
// as the name, too), and a hash keeps every key the same small size.
func PairKey(user, addr string) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(user)) + ":" + user + addr))
	return string(sum[:16])
}

// NameHash names an unknown user name in the logs without writing it:
// what was typed as a name may be a password.
func NameHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:4])
}
