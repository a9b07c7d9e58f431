package cti

import (
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

// loginLimiter counts failed seat logins per remote address and per
// operator, so that guessing passwords costs time: after maxFailures
// failures within failureWindow, further attempts for that key are refused
// until the window has passed. Keys are bounded in number; the oldest are
// forgotten first. It is safe for concurrent use: seat reader goroutines
// check it before they spend CPU on a password hash.
type loginLimiter struct {
	mu       sync.Mutex
	failures map[string]*failureCount
	max      int
	window   time.Duration
	maxKeys  int
	now      func() time.Time
}

type failureCount struct {
	n     int
	first time.Time
}

func newLoginLimiter(max int, window time.Duration, maxKeys int) *loginLimiter {
	return &loginLimiter{
		failures: make(map[string]*failureCount),
		max:      max, window: window, maxKeys: maxKeys,
		now: time.Now,
	}
}

// blocked reports whether any of keys has too many recent failures.
func (l *loginLimiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if f, ok := l.failures[k]; ok {
			if now.Sub(f.first) > l.window {
				delete(l.failures, k)
				continue
			}
			if f.n >= l.max {
				return true
			}
		}
	}
	return false
}

// fail records a failed attempt for each of keys.
func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		f, ok := l.failures[k]
		if !ok || now.Sub(f.first) > l.window {
			if !ok && len(l.failures) >= l.maxKeys {
				l.evictOldest()
			}
			f = &failureCount{first: now}
			l.failures[k] = f
		}
		f.n++
	}
}

// succeed forgets the failures of keys after a good login.
func (l *loginLimiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// evictOldest drops the key whose window started first. l.mu must be held.
// It is linear, but runs only when the table is full of distinct failing
// keys, which is itself bounded.
func (l *loginLimiter) evictOldest() {
	var oldest string
	var at time.Time
	for k, f := range l.failures {
		if oldest == "" || f.first.Before(at) {
			oldest, at = k, f.first
		}
	}
	delete(l.failures, oldest)
}
