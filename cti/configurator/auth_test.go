package configurator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// TestAuthRequired: every page but the login page, the password-lost
// flow and the assets redirects to the login page without a session, and
// a script's request gets 401 JSON.
func TestAuthRequired(t *testing.T) {
	e := newEnv(t)
	s := e.addSeat(seatA)
	id := itoa(s.ID)
	c := e.client()
	private := []string{"/", "/seats", "/seats?q=x", "/seats/new", "/seats/" + id + "/edit", "/seats/" + id + "/remove",
		"/users", "/operators", "/services", "/audit", "/apply", "/no-such-page", "/api/status"}
	for _, p := range private {
		t.Run("GET "+p, func(t *testing.T) {
			r := c.get(p)
			if strings.HasPrefix(p, "/api/") {
				assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
				return
			}
			assert.Equal(t, http.StatusSeeOther, r.StatusCode)
			assert.Equal(t, "/login", r.Header.Get("Location"))
			r = c.get(p, "Accept", "application/json")
			assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
			assert.JSONEq(t, `{"error":"login required"}`, r.body)
		})
	}
	for _, p := range []string{"/seats", "/seats/" + id, "/seats/" + id + "/remove", "/logout"} {
		t.Run("POST "+p, func(t *testing.T) {
			r := c.post(p, "mac", "00:11:22:33:44:99", "interface", "SIP/299")
			assert.Equal(t, http.StatusSeeOther, r.StatusCode)
			assert.Equal(t, "/login", r.Header.Get("Location"))
		})
	}
	assert.Len(t, e.model().Seats, 1, "nothing was changed without a session")
	for _, p := range []string{"/login", "/password-lost", "/password-reset", "/assets/app.css", "/assets/app.js"} {
		t.Run("public "+p, func(t *testing.T) {
			assert.Equal(t, http.StatusOK, c.get(p).StatusCode)
		})
	}
	assert.Equal(t, http.StatusNotFound, c.get("/assets/").StatusCode, "no directory listing")
}

// TestEveryRouteNeedsLogin: every route the configurator registers, but
// the login, password-lost and reset pages and the assets, sends a request
// without a session to the login page, whatever its method, and changes
// nothing. The routes are those of the handler itself, so a route added
// later is checked too.
func TestEveryRouteNeedsLogin(t *testing.T) {
	e := newEnv(t)
	s := e.addSeat(seatA)
	id := itoa(s.ID)
	public := map[string]bool{"GET /login": true, "POST /login": true, "GET /password-lost": true, "POST /password-lost": true,
		"GET /password-reset": true, "POST /password-reset": true, "GET /assets/": true}
	c := e.client()
	checked := 0
	for _, pattern := range e.h.mux.patterns {
		if public[pattern] {
			continue
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok { // the catch-all "/"
			method, path = http.MethodGet, "/no-such-page"
		}
		path = strings.NewReplacer("{id}", id, "{$}", "").Replace(path)
		t.Run(pattern, func(t *testing.T) {
			var r resp
			if method == http.MethodPost {
				r = c.post(path, "mac", "00:11:22:33:44:99", "interface", "SIP/299", "userid", "mallory", "fullname", "M",
					"password", "long enough password", "password2", "long enough password")
			} else {
				r = c.get(path)
			}
			assert.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
			assert.Equal(t, "/login", r.Header.Get("Location"))
		})
		checked++
	}
	assert.Greater(t, checked, 25, "the routes are read from the handler")
	assert.Len(t, e.model().Seats, 1, "nothing was changed without a session")
	assert.Empty(t, e.snapshots(), "nothing applied")
	users, err := e.users.List(t.Context())
	require.NoError(t, err)
	assert.Len(t, users, 1, "no manager user added")
}

// TestEveryFormNeedsCSRF: every POST route the configurator registers
// refuses a logged-in request without the session's CSRF token, and
// changes nothing; the login, password-lost and reset forms refuse one
// without the double-submit token.
func TestEveryFormNeedsCSRF(t *testing.T) {
	e := newEnv(t)
	s := e.addSeat(seatA)
	id := itoa(s.ID)
	c := e.loggedIn()
	anon := e.client()
	anon.get("/login") // the double-submit cookie, but no token in the form
	checked := 0
	for _, pattern := range e.h.mux.patterns {
		path, ok := strings.CutPrefix(pattern, http.MethodPost+" ")
		if !ok {
			continue
		}
		path = strings.ReplaceAll(path, "{id}", id)
		who := c
		if path == "/login" || path == "/password-lost" || path == "/password-reset" {
			who = anon
		}
		t.Run(pattern, func(t *testing.T) {
			r := who.post(path, "csrf", "-", "mac", "00:11:22:33:44:99", "interface", "SIP/299", "version", itoa(s.Version),
				"userid", testUser, "password", testPassword)
			assert.Equal(t, http.StatusForbidden, r.StatusCode, r.body)
			assert.Contains(t, r.body, "security token (CSRF) is missing, wrong or expired")
		})
		checked++
	}
	assert.Greater(t, checked, 15, "the routes are read from the handler")
	assert.Equal(t, []string{seatA.MAC}, macs(e.model()), "nothing changed")
	assert.Empty(t, e.snapshots(), "nothing applied")
	assert.Equal(t, http.StatusOK, c.get("/seats").StatusCode, "still logged in")
}

// TestLoginLogout: a wrong password shows the error on the login page; a
// good one opens a session in an HttpOnly, SameSite=Strict cookie and the
// pages; logout ends it.
func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.login(testUser, "wrong password")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
	assert.Contains(t, r.body, `role="alert" id="login-error">Wrong user id or password.</p>`)
	assert.Contains(t, r.body, `value="admin"`, "the user id is kept in the form")

	r = c.login(testUser, testPassword)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/seats", r.Header.Get("Location"))
	var sc *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "astcti_session" {
			sc = ck
		}
	}
	require.NotNil(t, sc, "session cookie set")
	assert.True(t, sc.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, sc.SameSite)
	assert.False(t, sc.Secure, "no TLS here")
	assert.Equal(t, "/", sc.Path)
	assert.GreaterOrEqual(t, len(sc.Value), 43, "256 bits")

	r = c.get("/seats")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<span class="who" title="Logged in as">admin</span>`)
	assert.Contains(t, e.log.String(), "manager logged in")

	r = c.post("/logout")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/login?m=out", r.Header.Get("Location"))
	assert.Contains(t, c.get("/login?m=out").body, "You are logged out.")
	assert.Equal(t, http.StatusSeeOther, c.get("/seats").StatusCode, "the session is gone")
	assert.Zero(t, e.h.sessions.len())
}

// TestSessionRotatedAtLogin: the login gives a new session id, whatever
// id the browser had (a planted one is never promoted), and a second
// login ends the first session.
func TestSessionRotatedAtLogin(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	u, _ := url.Parse(e.srv.URL)
	planted := &http.Cookie{Name: "astcti_session", Value: "planted-by-an-attacker-0123456789012345678901"}
	c.c.Jar.SetCookies(u, []*http.Cookie{planted})
	c.login(testUser, testPassword)
	first := sessionCookieOf(t, c, u)
	assert.NotEqual(t, planted.Value, first)
	assert.Nil(t, e.h.sessions.get(planted.Value))

	c.login(testUser, testPassword)
	second := sessionCookieOf(t, c, u)
	assert.NotEqual(t, first, second)
	assert.Nil(t, e.h.sessions.get(first), "the session of the first login is ended")
	assert.NotNil(t, e.h.sessions.get(second))
	assert.Equal(t, 1, e.h.sessions.len())

	// A session that ended says so on the way to the login page.
	e.h.sessions.end(second)
	r := c.get("/seats")
	assert.Equal(t, "/login?m=expired", r.Header.Get("Location"))
	assert.Contains(t, c.get("/login?m=expired").body, "Your session has ended: log in again.")
}

func sessionCookieOf(t *testing.T, c *client, u *url.URL) string {
	t.Helper()
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "astcti_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestCookieSecureUnderTLS: under TLS the cookies are Secure and
// __Host- prefixed.
func TestCookieSecureUnderTLS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Secure = true })
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	form := rec.Result().Cookies()
	require.Len(t, form, 1)
	assert.Equal(t, "__Host-astcti_form", form[0].Name)
	assert.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"))
	assert.True(t, form[0].Secure)
	body := url.Values{"userid": {testUser}, "password": {testPassword}, "csrf": {form[0].Value}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(form[0])
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	cks := rec.Result().Cookies()
	require.Len(t, cks, 1)
	assert.Equal(t, "__Host-astcti_session", cks[0].Name)
	assert.True(t, cks[0].Secure)
	assert.True(t, cks[0].HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, cks[0].SameSite)
}

// TestCSRFRefused: a form without its token, or with another, is refused
// with 403 and a clear message, logged in or not, and changes nothing.
func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	s := e.addSeat(seatA)
	c := e.loggedIn()
	good := c.csrf
	other := e.loggedIn().csrf
	require.NotEqual(t, good, other, "a token per session")
	tests := []struct {
		name, path string
		kv         []string
	}{
		{"add without token", "/seats", []string{"csrf", "-", "mac", "00:11:22:33:44:99", "interface", "SIP/299"}},
		{"add with another session's token", "/seats", []string{"csrf", other, "mac", "00:11:22:33:44:99", "interface", "SIP/299"}},
		{"edit with a wrong token", "/seats/" + itoa(s.ID), []string{"csrf", "x" + good, "mac", s.MAC, "interface", "SIP/298"}},
		{"remove without token", "/seats/" + itoa(s.ID) + "/remove", []string{"csrf", "-", "version", itoa(s.Version)}},
		{"logout without token", "/logout", []string{"csrf", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post(tc.path, tc.kv...)
			assert.Equal(t, http.StatusForbidden, r.StatusCode)
			assert.Contains(t, r.body, "security token (CSRF) is missing, wrong or expired")
		})
	}
	assert.Equal(t, []string{seatA.MAC}, macs(e.model()), "nothing changed")
	assert.Equal(t, http.StatusOK, c.get("/seats").StatusCode, "still logged in")

	// The header works too, for scripts.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/seats/"+itoa(s.ID)+"/remove", strings.NewReader("version="+itoa(s.Version)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(csrfHeader, good)
	assert.Equal(t, http.StatusSeeOther, c.do(req).StatusCode)
	assert.Empty(t, e.model().Seats)

	// The login form: its double-submit token is required.
	anon := e.client()
	anon.get("/login")
	r := anon.post("/login", "csrf", "-", "userid", testUser, "password", testPassword)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	r = anon.post("/login", "csrf", "wrong-wrong-wrong-wrong-wrong-wrong-wrong", "userid", testUser, "password", testPassword)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	fresh := e.client() // never saw the login page: no cookie
	r = fresh.post("/login", "csrf", good, "userid", testUser, "password", testPassword)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	for _, p := range []string{"/password-lost", "/password-reset"} {
		assert.Equal(t, http.StatusForbidden, anon.post(p, "csrf", "-", "userid", testUser).StatusCode, p)
	}
}

// TestCrossOriginRefused: a cross-site form post is refused by its
// browser headers even before its token is looked at.
func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/seats", strings.NewReader("csrf="+url.QueryEscape(c.csrf)+"&mac=00:11:22:33:44:99&interface=SIP/299"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, c.do(req).StatusCode)
	assert.Empty(t, e.model().Seats)
}

// TestLoginThrottled: after a few failures for a user id from an address,
// even the right password is refused unchecked (429, the time to wait),
// with the same answer for an unknown user id; from another address the
// real user still logs in; the address's own budget throttles it whatever
// the user ids; and the delay grows.
func TestLoginThrottled(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e.h.pairs.SetClock(clock)
	e.h.addrs.SetClock(clock)

	login := func(addr, user, password string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		req.RemoteAddr = addr + ":1234"
		e.h.ServeHTTP(rec, req)
		tok := rec.Result().Cookies()[0]
		body := url.Values{"userid": {user}, "password": {password}, "csrf": {tok.Value}}
		req = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":1234"
		req.AddCookie(tok)
		rec = httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}
	policy := throttle.LoginPolicy()
	for i := range policy.PairFree {
		assert.Equal(t, http.StatusUnauthorized, login("192.0.2.1", testUser, "guess").Code, "failure %d", i+1)
	}
	r := login("192.0.2.1", testUser, testPassword)
	assert.Equal(t, http.StatusTooManyRequests, r.Code, "the right password, throttled")
	assert.Equal(t, "1", r.Header().Get("Retry-After"))
	assert.Contains(t, r.Body.String(), "Too many failed attempts from your address: wait 1 s")
	assert.Equal(t, http.StatusSeeOther, login("198.51.100.7", testUser, testPassword).Code, "the real user, from elsewhere")

	// An unknown user id gets the same answers.
	for range policy.PairFree {
		assert.Equal(t, http.StatusUnauthorized, login("192.0.2.2", "nosuchuser", "guess").Code)
	}
	u := login("192.0.2.2", "nosuchuser", "guess")
	assert.Equal(t, http.StatusTooManyRequests, u.Code)
	norm := func(s string) string { return regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(s, "") }
	assert.Equal(t, norm(r.Body.String()), norm(u.Body.String()))

	// The delay doubles at every further failure.
	now = now.Add(time.Second)
	assert.Equal(t, http.StatusUnauthorized, login("192.0.2.1", testUser, "guess").Code, "allowed again after 1 s")
	assert.Equal(t, "2", login("192.0.2.1", testUser, testPassword).Header().Get("Retry-After"))

	// The address's budget, whatever the user ids.
	for i := range policy.AddrFree {
		login("203.0.113.9", "user"+itoa(int64(i)), "guess")
	}
	assert.Equal(t, http.StatusTooManyRequests, login("203.0.113.9", testUser, testPassword).Code)
	assert.Equal(t, http.StatusSeeOther, login("203.0.113.10", testUser, testPassword).Code)

	// After the delay, the right password works and forgets the failures.
	now = now.Add(policy.Max)
	assert.Equal(t, http.StatusSeeOther, login("192.0.2.1", testUser, testPassword).Code)
}

// TestUnknownUserNotLogged: an unknown user id (maybe a password typed in
// the wrong field) reaches the log only as a hash; a real one by name.
func TestUnknownUserNotLogged(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.login("MySecretPassw0rd", "x")
	c.login(testUser, "Guess123!")
	logs := e.log.String()
	assert.NotContains(t, logs, "MySecretPassw0rd")
	assert.Contains(t, logs, "user_hash="+throttle.NameHash("MySecretPassw0rd"))
	assert.Contains(t, logs, "user=admin")
	assert.NotContains(t, logs, "Guess123!", "no password in the log")
}

// TestSecurityHeaders: every answer, pages, redirects, errors and assets,
// has the CSP without inline script or style, and the other headers.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	anon := e.client()
	for _, r := range []resp{anon.get("/login"), anon.get("/seats"), anon.get("/assets/app.css"), c.get("/seats"),
		c.get("/nope"), c.post("/seats", "csrf", "-")} {
		csp := r.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "script-src 'self'")
		assert.Contains(t, csp, "style-src 'self'")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "no-referrer", r.Header.Get("Referrer-Policy"))
	}
	assert.Equal(t, "no-store", c.get("/seats").Header.Get("Cache-Control"))
	assert.Empty(t, c.get("/seats").Header.Get("Strict-Transport-Security"), "not without TLS")

	// A refused form of a logged-in user keeps the menubar.
	r := c.post("/seats", "csrf", "-")
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Contains(t, r.body, `aria-label="Modules"`)
}

// TestNoInlineScriptOrStyle: the pages have no inline script, event
// handler attribute or style, which the CSP would block.
func TestNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t)
	s := e.addSeat(seatA)
	c := e.loggedIn()
	anon := e.client()
	pages := []resp{anon.get("/login"), anon.get("/password-lost"), anon.get("/password-reset"),
		c.get("/seats"), c.get("/seats/new"), c.get("/seats/" + itoa(s.ID) + "/edit"), c.get("/seats/" + itoa(s.ID) + "/remove"),
		c.get("/operators"), c.get("/operators/new"), c.post("/operators", "username", "bad name"),
		c.get("/audit"), c.get("/audit?since=bad"), c.post("/seats", "mac", "bad"),
		c.get("/services"), c.get("/services/new"), c.post("/services", "name", "bad", "member.0.operator", "x", "member.0.penalty", "5a"),
		c.get("/apply"), c.get("/apply/rollback")}
	svc := config.Service{Name: "sales", Type: config.Inbound, Context: "sales", Trigger: config.TriggerNone}
	require.NoError(t, e.store.SaveService(context.Background(), &svc))
	pages = append(pages, c.get("/services/"+itoa(svc.ID)+"/edit"), c.get("/services/"+itoa(svc.ID)+"/remove"))
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=|<style|javascript:`)
	for _, p := range pages {
		for _, m := range scripts.FindAllStringSubmatch(p.body, -1) {
			assert.Contains(t, m[1], "src=", "a script without src in %s", p.Request.URL)
			assert.Empty(t, strings.TrimSpace(m[2]), "an inline script in %s", p.Request.URL)
		}
		assert.False(t, inline.MatchString(p.body), "inline script or style in %s: %q", p.Request.URL, inline.FindString(p.body))
		assert.Contains(t, p.body, `<script src="/assets/app.js?v=`)
	}
}

// TestSessionTimeouts: a session ends after IdleTimeout without a request,
// and AbsoluteTimeout after its login even when used.
func TestSessionTimeouts(t *testing.T) {
	s := newSessions(10, time.Minute, time.Hour)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	idle, _ := s.create("a")
	busy, _ := s.create("b")
	for range 61 {
		now = now.Add(59 * time.Second)
		require.NotNil(t, s.get(busy), "used every 59 s, at %v", now)
		if now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) >= time.Hour {
			break
		}
	}
	assert.Nil(t, s.get(idle), "idle for more than a minute")
	now = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	assert.Nil(t, s.get(busy), "an hour after its login")
}

// TestSessionsBounded: at most MaxSessions; the least recently used goes.
func TestSessionsBounded(t *testing.T) {
	s := newSessions(3, time.Hour, time.Hour)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { now = now.Add(time.Second); return now }
	a, _ := s.create("a")
	b, _ := s.create("b")
	c, _ := s.create("c")
	s.get(a) // b is now the least recently used
	d, _ := s.create("d")
	assert.Equal(t, 3, s.len())
	assert.Nil(t, s.get(b))
	for _, id := range []string{a, c, d} {
		assert.NotNil(t, s.get(id))
	}
}

// TestPasswordReset: "password lost" writes a one-time, short-lived token
// to the log (never to the page, which says the same for any user id);
// the token sets a new password once, ends the user's sessions, and the
// new password logs in.
func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	old := e.loggedIn()
	c := e.client()
	c.get("/password-lost")
	known := c.post("/password-lost", "userid", testUser)
	assert.Equal(t, http.StatusOK, known.StatusCode)
	tokRE := regexp.MustCompile(`token=(\S+)`)
	m := tokRE.FindStringSubmatch(e.log.String())
	require.NotNil(t, m, e.log.String())
	tok := m[1]
	assert.NotContains(t, known.body, tok, "the token is never shown in the browser")
	unknown := c.post("/password-lost", "userid", "nosuchuser")
	assert.Equal(t, known.body, unknown.body, "the same answer for an unknown user id")
	assert.Len(t, tokRE.FindAllString(e.log.String(), -1), 1, "no token for an unknown user id")
	assert.Contains(t, known.body, "astcti user passwd --data DIR USERID")

	c.get("/password-reset")
	r := c.post("/password-reset", "userid", testUser, "token", tok, "password", "short", "password2", "short")
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.True(t, e.h.resets.valid(testUser, tok), "a refused password does not spend the token")
	r = c.post("/password-reset", "userid", "other", "token", tok, "password", "new password 1", "password2", "new password 1")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "the token is the user's only")
	r = c.post("/password-reset", "userid", testUser, "token", tok, "password", "new password 1", "password2", "new password 1")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/login?m=reset", r.Header.Get("Location"))
	assert.Equal(t, http.StatusSeeOther, old.get("/seats").StatusCode, "the sessions of before are ended")

	r = c.post("/password-reset", "userid", testUser, "token", tok, "password", "new password 2", "password2", "new password 2")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "used once")
	assert.Contains(t, r.body, "This token is wrong, used or expired")
	_, err := e.users.Check(context.Background(), testUser, "new password 1")
	assert.NoError(t, err)
	assert.Equal(t, http.StatusSeeOther, e.client().login(testUser, "new password 1").StatusCode)
}

// TestResetTokenExpires: a token is refused after ResetTokenTTL; a new
// one replaces the old one; the table is bounded.
func TestResetTokenExpires(t *testing.T) {
	rs := newResets(2, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rs.now = func() time.Time { return now }
	a := rs.issue("a")
	a2 := rs.issue("a")
	assert.False(t, rs.valid("a", a), "replaced")
	assert.True(t, rs.valid("a", a2))
	now = now.Add(time.Minute)
	assert.False(t, rs.use("a", a2), "expired")
	b := rs.issue("b")
	now = now.Add(time.Second) // b is the oldest, not tied with c (the map's order would pick)
	rs.issue("c")
	rs.issue("d")
	assert.Len(t, rs.byUser, 2)
	assert.False(t, rs.valid("b", b), "the oldest went first")
}

// countingUsers counts the password checks of the Users it wraps.
type countingUsers struct {
	Users
	mu     sync.Mutex
	checks int
}

func (u *countingUsers) Check(ctx context.Context, userid, password string) (config.User, error) {
	u.mu.Lock()
	u.checks++
	u.mu.Unlock()
	return u.Users.Check(ctx, userid, password)
}

// TestLoginSameAnswer: an unknown user id, a disabled user and a wrong
// password get the same page and status, and each costs a password check
// (bcrypt, in config.Users.Check: the stand-in hash for an unknown one),
// so neither the answer nor its time tells which user ids exist.
func TestLoginSameAnswer(t *testing.T) {
	var counting *countingUsers
	e := newEnv(t, func(c *Config) {
		counting = &countingUsers{Users: c.Users}
		c.Users = counting
	})
	ctx := context.Background()
	_, err := e.users.Create(ctx, "gone", "Gone", testPassword)
	require.NoError(t, err)
	require.NoError(t, e.users.Disable(ctx, "gone"))
	norm := regexp.MustCompile(`value="[^"]*"`)
	var bodies []string
	for _, try := range [][2]string{{"nosuchuser", testPassword}, {"gone", testPassword}, {testUser, "wrong password"}} {
		r := e.client().login(try[0], try[1])
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, try[0])
		bodies = append(bodies, norm.ReplaceAllString(r.body, ""))
	}
	assert.Equal(t, bodies[0], bodies[1])
	assert.Equal(t, bodies[0], bodies[2])
	assert.Equal(t, 3, counting.checks, "one password check each")
}

// TestDisabledUserLosesSession: a manager user disabled from the shell
// (`astcti user disable`, another process, the same database) while logged
// in loses the session at the next request, whatever it is, and is told
// why on the login page; enabled again, the user must log in again.
func TestDisabledUserLosesSession(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	require.Equal(t, http.StatusSeeOther, c.login(testUser, testPassword).StatusCode)
	require.Equal(t, http.StatusOK, c.get("/seats").StatusCode)

	require.NoError(t, e.users.Disable(context.Background(), testUser))
	r := c.get("/seats")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/login?m=disabled", r.Header.Get("Location"))
	assert.Contains(t, c.get("/login?m=disabled").body, "your account was disabled")
	assert.Zero(t, e.h.sessions.len(), "the session is ended, not only refused")

	u, err := e.users.Get(context.Background(), testUser)
	require.NoError(t, err)
	u.Enabled = true
	require.NoError(t, e.users.Update(context.Background(), u))
	assert.Equal(t, http.StatusSeeOther, c.get("/seats").StatusCode, "enabled again: a new login is needed")
}
