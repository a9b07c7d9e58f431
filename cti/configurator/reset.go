package configurator

import (
	"crypto/sha256"
	"crypto/subtle"
	"sync"
	"time"
)

// resets holds the outstanding password reset tokens: at most one per user
// (a new one replaces it), at most max in all (the oldest goes first), each
// valid for ttl and once. Only the SHA-256 of a token is kept. It is safe
// for concurrent use.
type resets struct {
	mu     sync.Mutex
	byUser map[string]resetToken
	max    int
	ttl    time.Duration
	now    func() time.Time
}

type resetToken struct {
	hash    [32]byte
	expires time.Time
}

func newResets(max int, ttl time.Duration) *resets {
	return &resets{byUser: make(map[string]resetToken), max: max, ttl: ttl, now: time.Now}
}

// issue returns a new token for user, replacing any earlier one.
func (rs *resets) issue(user string) string {
	tok := randomToken()
	now := rs.now()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if _, ok := rs.byUser[user]; !ok && len(rs.byUser) >= rs.max {
		oldest, first := "", true
		var oldestExp time.Time
		for u, t := range rs.byUser {
			if first || t.expires.Before(oldestExp) {
				oldest, oldestExp, first = u, t.expires, false
			}
		}
		delete(rs.byUser, oldest)
	}
	rs.byUser[user] = resetToken{hash: sha256.Sum256([]byte(tok)), expires: now.Add(rs.ttl)}
	return tok
}

// valid reports whether tok is user's live token, without using it.
func (rs *resets) valid(user, tok string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.matchLocked(user, tok)
}

func (rs *resets) matchLocked(user, tok string) bool {
	t, ok := rs.byUser[user]
	if !ok {
		return false
	}
	if !rs.now().Before(t.expires) {
		delete(rs.byUser, user)
		return false
	}
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], t.hash[:]) == 1
}

// use reports whether tok is user's live token and, if it is, forgets it:
// a token works once.
func (rs *resets) use(user, tok string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if !rs.matchLocked(user, tok) {
		return false
	}
	delete(rs.byUser, user)
	return true
}
