package configurator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// session is one manager user's login. Its fields but flash are set once.
type session struct {
	user    string
	csrf    string
	created time.Time
	// password is when the user's password was set at the login
	// (config.User.PasswordChanged): a new one since ends the session.
	password time.Time

	// lastSeen and flash are guarded by sessions.mu.
	lastSeen time.Time
	flash    string // a message for the next page, shown once
}

// sessions is the server-side session store: at most max sessions, each
// ended after idle without a request or absolute after its creation. It
// keys sessions by the SHA-256 of their id, so the id itself is never kept
// and a map lookup does not depend on the id's bytes. It is safe for
// concurrent use.
type sessions struct {
	mu       sync.Mutex
	byHash   map[[32]byte]*session
	max      int
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

func newSessions(max int, idle, absolute time.Duration) *sessions {
	return &sessions{byHash: make(map[[32]byte]*session), max: max, idle: idle, absolute: absolute, now: time.Now}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand's doc)
	return base64.RawURLEncoding.EncodeToString(b)
}

func idHash(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// create starts a session for user and returns its id.
func (s *sessions) create(user string) (string, *session) { return s.createFor(user, time.Time{}) }

// createFor starts a session for user, whose password was set at
// password, and returns its id.
func (s *sessions) createFor(user string, password time.Time) (string, *session) {
	id := randomToken()
	now := s.now()
	ss := &session{user: user, csrf: randomToken(), created: now, lastSeen: now, password: password}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byHash) >= s.max {
		s.evictLocked(now)
	}
	s.byHash[idHash(id)] = ss
	return id, ss
}

func (s *sessions) expiredLocked(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= s.idle || now.Sub(ss.created) >= s.absolute
}

// evictLocked drops the expired sessions or, when none is, the least
// recently used one. s.mu must be held.
func (s *sessions) evictLocked(now time.Time) {
	var oldest [32]byte
	var oldestSeen time.Time
	found, expired := false, false
	for k, ss := range s.byHash {
		if s.expiredLocked(ss, now) {
			delete(s.byHash, k)
			expired = true
		} else if !found || ss.lastSeen.Before(oldestSeen) {
			oldest, oldestSeen, found = k, ss.lastSeen, true
		}
	}
	if !expired && found {
		delete(s.byHash, oldest)
	}
}

// get returns the live session of id and marks it used, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	k := idHash(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byHash[k]
	if ss == nil {
		return nil
	}
	if s.expiredLocked(ss, now) {
		delete(s.byHash, k)
		return nil
	}
	ss.lastSeen = now
	return ss
}

// end ends the session of id, if any.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byHash, idHash(id))
}

// endUser ends every session of user (after a password reset or change,
// or once the user is disabled).
func (s *sessions) endUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.byHash {
		if ss.user == user {
			delete(s.byHash, k)
		}
	}
}

// setFlash keeps msg for the next page of ss.
func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.flash = msg
}

// takeFlash returns the message kept for ss and forgets it.
func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := ss.flash
	ss.flash = ""
	return msg
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}
