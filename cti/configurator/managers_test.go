package configurator

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

func (e *env) addManager(userid, fullname, password string) config.User {
	e.t.Helper()
	u, err := e.users.Create(context.Background(), userid, fullname, password)
	require.NoError(e.t, err)
	return u
}

func (e *env) manager(userid string) config.User {
	e.t.Helper()
	u, err := e.users.Get(context.Background(), userid)
	require.NoError(e.t, err)
	return u
}

func (e *env) managerAudit() []config.AuditEntry {
	e.t.Helper()
	log, err := e.store.Audit(context.Background(), config.AuditFilter{Entity: config.KindManager})
	require.NoError(e.t, err)
	return log
}

// sessionsOf counts the live sessions of user.
func (e *env) sessionsOf(user string) int {
	e.h.sessions.mu.Lock()
	defer e.h.sessions.mu.Unlock()
	n := 0
	for _, ss := range e.h.sessions.byHash {
		if ss.user == user {
			n++
		}
	}
	return n
}

// TestManagersNeedLoginAndCSRF: the module's pages need a session, and a
// form without the session's CSRF token changes nothing.
func TestManagersNeedLoginAndCSRF(t *testing.T) {
	e := newEnv(t)
	bob := e.addManager("bob", "Bob", "bob's password")
	anon := e.client()
	for _, path := range []string{"/users", "/users/new", "/users/" + itoa(bob.ID) + "/edit", "/users/" + itoa(bob.ID) + "/state"} {
		r := anon.get(path)
		assert.Equal(t, http.StatusSeeOther, r.StatusCode, path)
		assert.Equal(t, "/login", r.Header.Get("Location"), path)
	}
	r := anon.post("/users", "userid", "eve", "password", "eve's password", "password2", "eve's password")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = anon.post("/users/"+itoa(bob.ID)+"/state", "version", itoa(bob.Version))
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)

	c := e.loggedIn()
	for _, csrf := range []string{"-", "wrong"} {
		r = c.post("/users", "csrf", csrf, "userid", "eve", "password", "eve's password", "password2", "eve's password")
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "csrf %q", csrf)
		r = c.post("/users/"+itoa(bob.ID)+"/state", "csrf", csrf, "version", itoa(bob.Version))
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "csrf %q", csrf)
		r = c.post("/users/"+itoa(bob.ID), "csrf", csrf, "version", itoa(bob.Version), "fullname", "Mallory",
			"password", "mallory's pw", "password2", "mallory's pw")
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "csrf %q", csrf)
	}
	_, err := e.users.Get(context.Background(), "eve")
	assert.ErrorIs(t, err, config.ErrNotFound)
	assert.Equal(t, bob, e.manager("bob"), "bob unchanged")
	assert.Empty(t, e.managerAudit())
}

// TestManagerList: the list shows every manager user (full name, user
// id, creation date, state) with the toolbar's Add, Edit and Disable /
// enable (no Remove), searches and sorts.
func TestManagerList(t *testing.T) {
	e := newEnv(t)
	e.addManager("zoe", "Aaron Zoe", "zoe's password")
	bob := e.addManager("bob", "Bob", "bob's password")
	require.NoError(t, e.users.Disable(context.Background(), "bob"))
	c := e.loggedIn()
	r := c.get("/users")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<h1>Manager users</h1>`)
	assert.Contains(t, r.body, `<p class="count">3 of 3</p>`)
	assert.Contains(t, r.body, `<button type="button" data-action="remove" disabled>Disable / enable</button>`)
	assert.NotContains(t, r.body, ">Remove<")
	assert.Contains(t, r.body, `<tr tabindex="0" data-edit="/users/`+itoa(bob.ID)+`/edit?sort=userid" data-remove="/users/`+itoa(bob.ID)+`/state?sort=userid">`)
	assert.Contains(t, r.body, `<td>Bob</td><td class="mono">bob</td>`)
	assert.Contains(t, r.body, bob.Created.Local().Format("2006-01-02 15:04"))
	assert.Contains(t, r.body, `<td>disabled</td>`)
	assert.Contains(t, r.body, `aria-current="page">Manager users</a>`)

	keys := []string{"admin", "bob", "zoe"}
	assertListOrder(t, c, "/users", keys, [][2]string{
		{"", "admin bob zoe"},
		{"?sort=userid&dir=desc", "zoe bob admin"},
		{"?sort=fullname", "zoe bob admin"},
		{"?sort=enabled", "admin zoe bob"},
		{"?q=ZOE", "zoe"},
		{"?q=bob", "bob"},
	})
}

// TestManagerAdd: a manager user added with its password typed twice can
// log in; the password is never shown nor in the audit log, whose entry
// names who added it.
func TestManagerAdd(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	r := c.get("/users/new")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<dialog class="modal" open data-modal`)
	for _, f := range []string{"fullname", "userid", "password", "password2"} {
		assert.Contains(t, r.body, `<label for="f-`+f+`">`, "a label for %s", f)
	}
	r = c.post("/users", "userid", "bob", "fullname", "Bob Builder", "password", "bob's password", "password2", "bob's password", "sort", "fullname")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/users?sort=fullname", r.Header.Get("Location"))
	bob := e.manager("bob")
	assert.Equal(t, "Bob Builder", bob.FullName)
	assert.True(t, bob.Enabled)
	assert.Equal(t, testUser, bob.ChangedBy)
	r = c.get("/users")
	assert.Contains(t, r.body, `<p class="flash" role="status">Manager user bob added.</p>`)
	assert.NotContains(t, r.body, "bob&#39;s password")
	assert.Equal(t, http.StatusSeeOther, e.client().login("bob", "bob's password").StatusCode, "bob can log in")

	log := e.managerAudit()
	require.Len(t, log, 1)
	assert.Equal(t, testUser, log[0].User)
	assert.Equal(t, config.ActionAdd, log[0].Action)
	assert.Equal(t, "bob", log[0].Key)
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob Builder","enabled":true,"password":"set"}`, string(log[0].After))
	r = c.get("/audit?entity=manager")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<option value="manager" selected>manager</option>`)
	assert.Contains(t, r.body, `<span class="mono">bob</span>`)
	assert.NotContains(t, r.body, "bob&#39;s password")
}

// TestManagerValidationErrors: each refusal comes back next to its field
// (422), the typed values kept but never a password, nothing stored.
func TestManagerValidationErrors(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	good := "long enough"
	tests := []struct {
		name       string
		kv         []string
		field, msg string
	}{
		{"missing userid", []string{"userid", "", "password", good, "password2", good}, "userid", "invalid userid"},
		{"bad userid", []string{"userid", "bob smith", "password", good, "password2", good}, "userid", `invalid userid "bob smith"`},
		{"userid taken", []string{"userid", testUser, "password", good, "password2", good}, "userid", "The user id admin is taken"},
		{"no password", []string{"userid", "bob", "password", "", "password2", ""}, "password", "Type a password: at least 8 characters"},
		{"short password", []string{"userid", "bob", "password", "short", "password2", "short"}, "password", "shorter than 8 characters"},
		{"too long password", []string{"userid", "bob", "password", strings.Repeat("é", 37), "password2", strings.Repeat("é", 37)}, "password", "longer than 72 bytes"},
		{"passwords differ", []string{"userid", "bob", "password", good, "password2", good + "!"}, "password2", "The two passwords differ"},
		{"control in name", []string{"userid", "bob", "password", good, "password2", good, "fullname", "Bob\x01"}, "fullname", "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kv := tc.kv
			if tc.field != "fullname" {
				kv = append(kv, "fullname", "Bob")
			}
			r := c.post("/users", kv...)
			require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
			assert.Contains(t, html.UnescapeString(fieldErrors(r.body, tc.field)), tc.msg, "next to %s", tc.field)
			assert.Contains(t, r.body, `aria-describedby="`+tc.field+`-help `+tc.field+`-error" aria-invalid="true"`)
			for _, other := range managerFields {
				if other != tc.field {
					assert.Empty(t, fieldErrors(r.body, other), "no problem next to %s", other)
				}
			}
			if tc.field != "fullname" {
				assert.Contains(t, r.body, `value="Bob"`, "the typed full name is kept")
			}
			assert.NotContains(t, r.body, `value="`+good, "a password is never sent back")
		})
	}
	list, err := e.users.List(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 1)
	assert.Empty(t, e.managerAudit())
}

// TestManagerInjection: markup and SQL in a full name are stored and shown
// as typed, never run; in a user id they are refused, and shown back as
// text.
func TestManagerInjection(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	name := `<script>alert("x")</script>' OR 1=1; DROP TABLE users; --`
	r := c.post("/users", "userid", "bob", "fullname", name, "password", "long enough", "password2", "long enough")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, name, e.manager("bob").FullName)
	r = c.get("/users")
	assert.NotContains(t, r.body, `<script>alert`)
	assert.Contains(t, r.body, `<td>`+html.EscapeString(name)+`</td>`)
	r = c.get("/users/" + itoa(e.manager("bob").ID) + "/edit")
	assert.Contains(t, r.body, `value="`+html.EscapeString(name)+`"`)

	bad := `x'); DROP TABLE users; --<b>`
	r = c.post("/users", "userid", bad, "fullname", "Eve", "password", "long enough", "password2", "long enough")
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.NotContains(t, r.body, "<b>")
	assert.Contains(t, fieldErrors(r.body, "userid"), html.EscapeString(`"`+bad+`"`))
	list, err := e.users.List(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 2, "admin and bob, the table still there")
}

// TestManagerEditAndPassword: the edit dialog changes the full name; a new
// password set by the administrator ends that user's open sessions, the
// old password no longer works, and the audit log says "changed", never
// the password or a hash.
func TestManagerEditAndPassword(t *testing.T) {
	e := newEnv(t)
	bob := e.addManager("bob", "Bob", "bob's password")
	bobs := e.client()
	require.Equal(t, http.StatusSeeOther, bobs.login("bob", "bob's password").StatusCode)
	require.Equal(t, http.StatusOK, bobs.get("/seats").StatusCode)

	c := e.loggedIn()
	edit := "/users/" + itoa(bob.ID) + "/edit"
	r := c.get(edit)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<h2 id="dialog-title">Edit manager user bob</h2>`)
	assert.Contains(t, r.body, `name="version" value="`+itoa(bob.Version)+`"`)
	assert.NotContains(t, r.body, `name="userid"`, "the user id never changes")

	r = c.post("/users/"+itoa(bob.ID), "version", itoa(bob.Version), "fullname", "Robert", "password", "", "password2", "")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "Robert", e.manager("bob").FullName)
	assert.Equal(t, http.StatusOK, bobs.get("/seats").StatusCode, "a rename keeps bob's session")

	bob = e.manager("bob")
	r = c.post("/users/"+itoa(bob.ID), "version", itoa(bob.Version), "fullname", "Robert", "password", "new password", "password2", "new password")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Zero(t, e.sessionsOf("bob"), "bob's sessions are ended at once")
	r = bobs.get("/seats")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, e.client().login("bob", "bob's password").StatusCode)
	assert.Equal(t, http.StatusSeeOther, e.client().login("bob", "new password").StatusCode)
	assert.Equal(t, http.StatusOK, c.get("/users").StatusCode, "the administrator's own session goes on")

	log := e.managerAudit()
	require.Len(t, log, 2)
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob","enabled":true}`, string(log[1].Before))
	assert.JSONEq(t, `{"userid":"bob","fullname":"Robert","enabled":true}`, string(log[1].After))
	assert.JSONEq(t, `{"userid":"bob","fullname":"Robert","enabled":true,"password":"changed"}`, string(log[0].After))
	r = c.get("/audit?entity=manager")
	assert.Contains(t, r.body, "password")
	assert.Contains(t, r.body, "changed")
	for _, s := range []string{"new password", "$2a$", "$2b$"} {
		assert.NotContains(t, r.body, s)
		assert.NotContains(t, string(log[0].After), s)
	}
}

// TestManagerStaleEdit: two administrators edit the same manager user;
// the second save is refused (409) naming who saved first, keeps what was
// typed, and writes nothing; saving again overwrites deliberately.
func TestManagerStaleEdit(t *testing.T) {
	e := newEnv(t)
	bob := e.addManager("bob", "Bob", "bob's password")
	c := e.loggedIn()
	first := bob
	first.FullName = "Carol's Bob"
	require.NoError(t, e.users.As("carol").Save(context.Background(), &first, ""))

	r := c.post("/users/"+itoa(bob.ID), "version", itoa(bob.Version), "fullname", "Admin's Bob", "password", "", "password2", "")
	require.Equal(t, http.StatusConflict, r.StatusCode, r.body)
	body := html.UnescapeString(r.body)
	assert.Contains(t, body, "carol changed this manager user at ")
	assert.Contains(t, body, `it is now: user id bob, full name "Carol's Bob", enabled`)
	assert.Contains(t, body, `value="Admin's Bob"`, "what the admin typed is kept")
	assert.Contains(t, r.body, `name="version" value="`+itoa(first.Version)+`"`)
	assert.Equal(t, "Carol's Bob", e.manager("bob").FullName)

	r = c.post("/users/"+itoa(bob.ID), "version", itoa(first.Version), "fullname", "Admin's Bob", "password", "", "password2", "")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "Admin's Bob", e.manager("bob").FullName)

	// A stale disable too.
	now := e.manager("bob")
	r = c.post("/users/"+itoa(bob.ID)+"/state", "version", itoa(first.Version))
	require.Equal(t, http.StatusConflict, r.StatusCode, r.body)
	assert.Contains(t, html.UnescapeString(r.body), "admin changed this manager user at ")
	assert.True(t, e.manager("bob").Enabled)
	r = c.post("/users/"+itoa(bob.ID)+"/state", "version", itoa(now.Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.False(t, e.manager("bob").Enabled)
}

// TestManagerDisableEnable: disabling a manager user ends their sessions
// at once and keeps the user; enabling lets them log in again; both are
// audited. Nobody can disable themselves.
func TestManagerDisableEnable(t *testing.T) {
	e := newEnv(t)
	bob := e.addManager("bob", "Bob", "bob's password")
	bobs := e.client()
	require.Equal(t, http.StatusSeeOther, bobs.login("bob", "bob's password").StatusCode)
	c := e.loggedIn()

	admin := e.manager(testUser)
	state := "/users/" + itoa(admin.ID) + "/state"
	r := c.get(state)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<h2 id="dialog-title">Disable manager user admin?</h2>`)
	r = c.post(state, "version", itoa(admin.Version))
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Contains(t, r.body, `<ul class="error" role="alert"><li>You cannot disable yourself`)
	assert.True(t, e.manager(testUser).Enabled)

	state = "/users/" + itoa(bob.ID) + "/state"
	r = c.post(state, "version", itoa(bob.Version), "q", "bo")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/users?q=bo&sort=userid", r.Header.Get("Location"))
	assert.Contains(t, c.get("/users").body, "Manager user bob disabled.")
	assert.False(t, e.manager("bob").Enabled)
	assert.Zero(t, e.sessionsOf("bob"))
	assert.Equal(t, http.StatusSeeOther, bobs.get("/seats").StatusCode)
	assert.Equal(t, http.StatusUnauthorized, e.client().login("bob", "bob's password").StatusCode)

	r = c.get(state)
	assert.Contains(t, r.body, `<h2 id="dialog-title">Enable manager user bob?</h2>`)
	r = c.post(state, "version", itoa(e.manager("bob").Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Contains(t, c.get("/users").body, "Manager user bob enabled.")
	assert.Equal(t, http.StatusSeeOther, e.client().login("bob", "bob's password").StatusCode)

	log := e.managerAudit()
	require.Len(t, log, 2)
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob","enabled":false}`, string(log[1].After))
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob","enabled":true}`, string(log[0].After))
	assert.Equal(t, testUser, log[0].User)
}

// TestPasswordChangedElsewhereEndsSession: a password set in another
// process (`astcti user passwd`, the same database) ends the sessions
// opened with the old one at their next request, and says why.
func TestPasswordChangedElsewhereEndsSession(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	require.NoError(t, e.users.SetPassword(context.Background(), testUser, "another password"))
	r := c.get("/seats")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/login?m=password", r.Header.Get("Location"))
	assert.Contains(t, c.get("/login?m=password").body, "your password was changed")
	assert.Zero(t, e.sessionsOf(testUser))
	r = c.login(testUser, "another password")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, http.StatusOK, c.get("/seats").StatusCode, "a login with the new password holds")
}
