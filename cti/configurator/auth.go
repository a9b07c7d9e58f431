package configurator

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// The cookies: the session's id, and the token of the forms shown before a
// login (double-submit). Under TLS they take the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain.
const (
	sessionCookie = "astcti_session"
	formCookie    = "astcti_form"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

type ctxKey struct{}

// sessionOf returns the request's session, nil on the public pages
// without one.
func sessionOf(r *http.Request) *session {
	ss, _ := r.Context().Value(ctxKey{}).(*session)
	return ss
}

func (h *Handler) cookieName(base string) string {
	if h.cfg.Secure {
		return "__Host-" + base
	}
	return base
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
}

func (h *Handler) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(h.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// isPublic reports whether path is served without a session: the login
// page, the password-lost flow and the assets.
func isPublic(path string) bool {
	switch path {
	case "/login", "/password-lost", "/password-reset":
		return true
	}
	return strings.HasPrefix(path, "/assets/")
}

// wantsJSON reports whether r is a script's request, to be answered with
// JSON (401) rather than a redirect to the login page.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		r.Header.Get("X-Requested-With") == "XMLHttpRequest" ||
		strings.HasPrefix(r.URL.Path, "/api/")
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// securityHeaders sets the headers every answer carries.
func (h *Handler) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if h.cfg.Secure {
			// Served over TLS: the browser is to come back over TLS only.
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// gate finds the request's session, refuses a request without one (but
// on the public paths) and checks the CSRF token of every request that
// is not GET or HEAD, then bounds the body.
func (h *Handler) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, h.bodyLimit(r))
		ss := h.sessions.get(h.cookie(r, sessionCookie))
		public := isPublic(r.URL.Path)
		if ss == nil && !public {
			to := "/login"
			if h.cookie(r, sessionCookie) != "" {
				to = "/login?m=expired" // say why the user must log in again
			}
			sendToLogin(w, r, to)
			return
		}
		if ss != nil && !public && !h.accountActive(w, r, ss) {
			return
		}
		if ss != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss))
		}
		if !safeMethod(r.Method) {
			want := h.cookie(r, formCookie) // before a login: the double-submit cookie
			if ss != nil && !public {
				want = ss.csrf
			}
			if err := parseForm(r, h.bodyLimit(r)); err != nil {
				h.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read: "+err.Error())
				return
			}
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostForm.Get(csrfField)
			}
			if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				h.log.Info("request refused: CSRF token missing or wrong", "method", r.Method, "path", r.URL.Path, "addr", clientAddr(r))
				h.fail(w, r, http.StatusForbidden, "This form was refused: its security token (CSRF) is missing, wrong or expired. "+
					"Reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sendToLogin answers a request that needs a login: a script gets 401
// JSON, a browser is sent to the login page at to.
func sendToLogin(w http.ResponseWriter, r *http.Request, to string) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"login required"}` + "\n"))
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// accountActive reports whether the manager user of ss may still act: a
// user disabled or removed since the login (`astcti user disable`, in
// another process) loses every session at its next request, not at its
// timeout, and a session opened before the user's password last changed
// ends too. Otherwise it answers the request itself: the session is ended
// and the browser sent to the login page; a failed users' database is a
// 503, never a pass.
func (h *Handler) accountActive(w http.ResponseWriter, r *http.Request, ss *session) bool {
	u, err := h.cfg.Users.Get(r.Context(), ss.user)
	switch {
	case err == nil && u.Enabled && u.PasswordChanged.Equal(ss.password):
		return true
	case err == nil && u.Enabled:
		// A new password since the login (by another administrator, or
		// `astcti user passwd` in another process): the sessions opened
		// with the old one end.
		h.log.Info("session ended: the manager user's password was changed", "user", ss.user)
		h.sessions.end(h.cookie(r, sessionCookie))
		sendToLogin(w, r, "/login?m=password")
	case err == nil, errors.Is(err, config.ErrNotFound):
		h.log.Info("session ended: the manager user is disabled or removed", "user", ss.user)
		h.sessions.endUser(ss.user)
		sendToLogin(w, r, "/login?m=disabled")
	default:
		h.log.Error("cannot check the manager user of a session", "user", ss.user, "err", err)
		h.fail(w, r, http.StatusServiceUnavailable, "The manager users' database failed: see the configurator's log.")
	}
	return false
}

// clientAddr is the request's IP address, the throttle's key. It is the
// connection's peer: X-Forwarded-For is not trusted.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// formToken returns the pre-login form token of r, setting a new cookie
// when it has none.
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request) string {
	if tok := h.cookie(r, formCookie); len(tok) >= 32 {
		return tok
	}
	tok := randomToken()
	h.setCookie(w, formCookie, tok, 0)
	return tok
}

type loginPage struct {
	UserID  string
	Error   string
	Notice  string
	Min     int
	Token   bool // the reset page: a token was asked for
	Problem map[string]string
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	var p loginPage
	switch r.URL.Query().Get("m") {
	case "out":
		p.Notice = "You are logged out."
	case "reset":
		p.Notice = "Your new password is set: log in with it."
	case "expired":
		p.Notice = "Your session has ended: log in again."
	case "disabled":
		p.Notice = "Your session has ended: your account was disabled."
	case "password":
		p.Notice = "Your session has ended: your password was changed. Log in with the new one."
	}
	h.renderPublic(w, r, http.StatusOK, "login", "Log in", p)
}

// throttled returns how long a login (or reset) for user from addr must
// wait, 0 for at once.
func (h *Handler) throttled(user, addr string) time.Duration {
	return max(h.pairs.Wait(throttle.PairKey(user, addr)), h.addrs.Wait(addr))
}

func (h *Handler) tooMany(w http.ResponseWriter, wait time.Duration) (status int, msg string) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return http.StatusTooManyRequests, "Too many failed attempts from your address: wait " +
		strconv.Itoa(secs) + " s before you try again."
}

// logName is the attribute that names user in the log: the user id when
// it is a manager user's, else a short hash of what was typed.
func (h *Handler) logName(ctx context.Context, user string) slog.Attr {
	if _, err := h.cfg.Users.Get(ctx, user); err == nil {
		return slog.String("user", user)
	}
	return slog.String("user_hash", throttle.NameHash(user))
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	user, password := r.PostForm.Get("userid"), r.PostForm.Get("password")
	addr := clientAddr(r)
	p := loginPage{UserID: user}
	if wait := h.throttled(user, addr); wait > 0 {
		status, msg := h.tooMany(w, wait)
		h.log.Info("manager login refused", "reason", "throttled", h.logName(r.Context(), user), "addr", addr)
		p.Error = msg
		h.renderPublic(w, r, status, "login", "Log in", p)
		return
	}
	usr, err := h.cfg.Users.Check(r.Context(), user, password)
	if err != nil {
		if !errors.Is(err, config.ErrBadLogin) {
			h.log.Error("manager login failed", "err", err)
			p.Error = "The users' database could not be read: see the configurator's log."
			h.renderPublic(w, r, http.StatusInternalServerError, "login", "Log in", p)
			return
		}
		h.pairs.Fail(throttle.PairKey(user, addr))
		h.addrs.Fail(addr)
		h.log.Info("manager login refused", "reason", "wrong userid or password", h.logName(r.Context(), user), "addr", addr)
		p.Error = "Wrong user id or password."
		h.renderPublic(w, r, http.StatusUnauthorized, "login", "Log in", p)
		return
	}
	h.pairs.Succeed(throttle.PairKey(user, addr))
	// A new id at every login: a session id the browser had before (one an
	// attacker may have planted) is ended, never promoted.
	if old := h.cookie(r, sessionCookie); old != "" {
		h.sessions.end(old)
	}
	id, _ := h.sessions.createFor(usr.UserID, usr.PasswordChanged)
	h.setCookie(w, sessionCookie, id, 0)
	h.log.Info("manager logged in", "user", usr.UserID, "addr", addr)
	http.Redirect(w, r, "/seats", http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if ss := sessionOf(r); ss != nil {
		h.log.Info("manager logged out", "user", ss.user)
	}
	h.sessions.end(h.cookie(r, sessionCookie))
	h.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login?m=out", http.StatusSeeOther)
}

func (h *Handler) showLost(w http.ResponseWriter, r *http.Request) {
	h.renderPublic(w, r, http.StatusOK, "lost", "Password lost", loginPage{})
}

// lost issues a reset token for an enabled manager user and writes it to
// the log. The page says the same whatever the user id.
func (h *Handler) lost(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostForm.Get("userid"))
	addr := clientAddr(r)
	// Asking counts against the address like a failed login: a flood of
	// requests fills the log and replaces users' tokens.
	if wait := h.addrs.Wait(addr); wait > 0 {
		status, msg := h.tooMany(w, wait)
		h.renderPublic(w, r, status, "lost", "Password lost", loginPage{Error: msg})
		return
	}
	h.addrs.Fail(addr)
	usr, err := h.cfg.Users.Get(r.Context(), user)
	if err == nil && usr.Enabled {
		tok := h.resets.issue(usr.UserID)
		h.log.Warn("password reset token issued: give it to the user, who enters it at /password-reset",
			"user", usr.UserID, "token", tok, "valid_for", ResetTokenTTL.String(), "addr", addr)
	} else {
		h.log.Info("password reset asked for no enabled manager user", "user_hash", throttle.NameHash(user), "addr", addr)
	}
	h.renderPublic(w, r, http.StatusOK, "lost", "Password lost", loginPage{Token: true})
}

func (h *Handler) showReset(w http.ResponseWriter, r *http.Request) {
	h.renderPublic(w, r, http.StatusOK, "reset", "Set a new password", loginPage{Min: config.MinManagerPassword})
}

// reset sets a new password with a reset token, once.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	user, tok, pw, pw2 := strings.TrimSpace(f.Get("userid")), strings.TrimSpace(f.Get("token")), f.Get("password"), f.Get("password2")
	addr := clientAddr(r)
	p := loginPage{UserID: user, Min: config.MinManagerPassword, Problem: map[string]string{}}
	if wait := h.throttled(user, addr); wait > 0 {
		status, msg := h.tooMany(w, wait)
		p.Error = msg
		h.renderPublic(w, r, status, "reset", "Set a new password", p)
		return
	}
	switch {
	case utf8.RuneCountInString(pw) < config.MinManagerPassword:
		p.Problem["password"] = "At least " + strconv.Itoa(config.MinManagerPassword) + " characters."
	case len(pw) > 72:
		p.Problem["password"] = "At most 72 bytes (bcrypt's limit)."
	case pw != pw2:
		p.Problem["password2"] = "The two passwords differ."
	}
	if len(p.Problem) > 0 {
		h.renderPublic(w, r, http.StatusUnprocessableEntity, "reset", "Set a new password", p)
		return
	}
	if !h.resets.use(user, tok) {
		h.pairs.Fail(throttle.PairKey(user, addr))
		h.addrs.Fail(addr)
		h.log.Info("password reset refused: wrong, used or expired token", h.logName(r.Context(), user), "addr", addr)
		p.Problem["token"] = "This token is wrong, used or expired for this user id: ask for a new one."
		h.renderPublic(w, r, http.StatusUnauthorized, "reset", "Set a new password", p)
		return
	}
	if err := h.cfg.Users.SetPassword(r.Context(), user, pw); err != nil {
		h.log.Error("password reset failed", "user", user, "err", err)
		p.Error = "The password could not be set (" + err.Error() + "): ask for a new token."
		h.renderPublic(w, r, http.StatusInternalServerError, "reset", "Set a new password", p)
		return
	}
	h.pairs.Succeed(throttle.PairKey(user, addr))
	h.sessions.endUser(user)
	h.log.Info("manager password reset with a token", "user", user, "addr", addr)
	http.Redirect(w, r, "/login?m=reset", http.StatusSeeOther)
}

// bodyLimit is the bound of r's body: MaxBodyBytes, but Config's
// MaxImportBytes for the XML upload, the one form that carries a file.
func (h *Handler) bodyLimit(r *http.Request) int64 {
	if r.URL.Path == importPath {
		return h.cfg.MaxImportBytes
	}
	return MaxBodyBytes
}

// parseForm reads r's form, a multipart one too (the import's upload):
// its fields, the CSRF token included, are then in r.PostForm. The body is
// bounded already (to limit, bodyLimit), so it is kept in memory.
func parseForm(r *http.Request, limit int64) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		return r.ParseMultipartForm(limit)
	}
	return r.ParseForm()
}
