// Package configurator is astcti's web configurator: the administrators'
// web application that edits the working configuration database
// (config.Store) and applies it to the server. It is served by
// `astcti configurator` with net/http and html/template; its templates and
// assets are embedded, so the binary is the whole application.
//
// # Authentication model
//
// Manager users (config.Users, a separate SQLite file) log in with a user
// id and a password checked by Users.Check (bcrypt; an unknown or disabled
// user costs the same bcrypt comparison and gets the same answer as a
// wrong password). A good login creates a new server-side session with a
// fresh random id (256 bits from crypto/rand), whatever session cookie the
// browser sent: a session id planted before the login is never promoted.
// The cookie holds only that id; it is HttpOnly, SameSite=Strict, Path=/,
// and Secure (named with the __Host- prefix) when the configurator serves
// TLS. The session store keeps the SHA-256 of each id, never the id, is
// bounded in count (MaxSessions; the least recently used session goes
// first) and ends a session after IdleTimeout without a request or
// AbsoluteTimeout after its login, whichever comes first. Logout ends it at
// once; a password reset, a new password set in the Manager users module
// and disabling the user end every session of that user; a password or a
// disable set by `astcti user` in another process ends them at their next
// request.
//
// Every request needs a session but the login page, the password-lost and
// password-reset pages and the static assets: a page request without one is
// redirected to the login page, a JSON or XHR request gets 401.
//
// # Forms and CSRF
//
// Every request that is not GET or HEAD must carry a CSRF token in the
// csrf form field or the X-CSRF-Token header, compared in constant time:
// the session's own token once logged in, a double-submit cookie token on
// the login and password forms (there is no session yet). A missing or
// wrong token is refused with 403 and a page that says so. The whole
// handler is also wrapped in http.CrossOriginProtection, which refuses
// cross-origin non-GET requests by their Sec-Fetch-Site and Origin headers.
// Form bodies are bounded (MaxBodyBytes).
//
// # Failed logins
//
// Failed logins are throttled as the seat server throttles seat logins
// (cti/throttle, shared with it): per user id and address pair, and per address
// whatever the user ids, each after a few free failures, then with a delay
// since the last failure that doubles at every further failure up to a
// maximum. A throttled attempt is refused unchecked, with 429 and the time
// to wait, the same answer for a user id that exists and one that does
// not. There is no lock per user id alone: whoever guesses from one
// address never locks the real user out from another. The tables are
// bounded. Unknown user ids are logged as a short hash, never verbatim: a
// password typed into the user id field must not reach the log.
//
// # Password lost
//
// The login page's "password lost" link explains the recovery: on the
// server, `astcti user passwd --data DIR USERID`; or, without a shell on
// the configurator's host, ask here for a one-time reset token. The
// configurator then writes the token to its own log (read by whoever runs
// it: journalctl -u astcti-configurator), never to the browser. The token is
// valid once, for ResetTokenTTL, for that user only; the answer on the page
// is the same whether the user id exists or not.
//
// # Pages
//
// Every answer carries a Content-Security-Policy without inline script or
// inline style (default-src 'none'; script-src 'self'; style-src 'self';
// frame-ancestors 'none'; form-action 'self'), X-Frame-Options: DENY,
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// Cache-Control: no-store for pages. html/template escapes every value.
// The store binds every value as an SQL parameter.
//
// # Seams
//
// Users is what the configurator needs of config.Users. The working
// database is a *config.Store, changed only through Store.As(the session's
// user), so that its audit log says who made every change; the store
// validates every save (its problems name their field: Problem.Field) and
// refuses one made over a newer version of the row (config.StaleError
// says who changed it and when). rows.go (rowModule) is the list, dialogs and
// handlers every module editing one kind of row shares, and edit.go their
// helpers; seats.go and operators.go fill it in, and managers.go over the
// manager users' database (rowModule.load), whose users are disabled or
// enabled instead of removed (rowModule.removal) and whose changes it
// writes to the store's audit log (Store.RecordManager).
package configurator
