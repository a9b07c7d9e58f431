package configurator

import (
	"context"
	"html"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

func (e *env) addOperator(o config.Operator, password string) config.Operator {
	e.t.Helper()
	require.NoError(e.t, o.SetPassword(password))
	require.NoError(e.t, e.store.SaveOperator(context.Background(), &o))
	return o
}

func operatorByName(e *env, name string) *config.Operator {
	e.t.Helper()
	for _, o := range e.model().Operators {
		if o.Username == name {
			return &o
		}
	}
	e.t.Fatalf("no operator %s", name)
	return nil
}

// TestOperatorAdd: the add dialog has a label for every field, a seat to
// choose and "enabled" checked; a good operator is stored with the hash
// of its password, never the password, and audited as the session's user.
func TestOperatorAdd(t *testing.T) {
	e := newEnv(t)
	a := e.addSeat(seatA)
	c := e.loggedIn()
	r := c.get("/operators/new")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<dialog class="modal" open data-modal`)
	for _, f := range []string{"username", "fullname", "password", "seat", "enabled", "begin-paused"} {
		assert.Contains(t, r.body, `<label for="f-`+f+`">`, "a label for %s", f)
	}
	assert.Contains(t, r.body, `<option value="`+a.MAC+`">`, "the seats to choose from")
	assert.Contains(t, r.body, `id="f-enabled" name="enabled" type="checkbox" checked`)
	r = c.post("/operators", "username", "alice", "fullname", "Alice Liddell", "password", "alice secret", "seat", "00-11-22-33-44-01", "enabled", "on", "sort", "fullname")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/operators?sort=fullname", r.Header.Get("Location"))
	o := operatorByName(e, "alice")
	assert.Equal(t, "Alice Liddell", o.FullName)
	assert.Equal(t, a.MAC, o.Seat)
	assert.True(t, o.Enabled)
	assert.False(t, o.BeginPaused)
	assert.True(t, o.CheckPassword(config.MD5Hex("alice secret")))
	r = c.get("/operators")
	assert.Contains(t, r.body, `<p class="flash" role="status">Operator alice added.</p>`)
	assert.Contains(t, r.body, `<td class="mono">alice</td><td>Alice Liddell</td><td class="mono">00:11:22:33:44:01</td>`)
	assert.NotContains(t, r.body, "alice secret")
	log, err := e.store.Audit(context.Background(), config.AuditFilter{Entity: config.KindOperator})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, testUser, log[0].User)
	assert.NotContains(t, string(log[0].After), o.PasswordHash)
}

// TestOperatorValidationErrors: what the store's validation refuses comes
// back next to its field (422), the typed values kept but the password
// never sent back, nothing stored.
func TestOperatorValidationErrors(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	c := e.loggedIn()
	tests := []struct {
		name       string
		kv         []string
		field, msg string
	}{
		{"missing username", []string{"username", "", "password", "x"}, "username", "missing username"},
		{"bad username", []string{"username", "bob smith", "password", "x"}, "username", "username"},
		{"duplicate username", []string{"username", "alice", "password", "x"}, "username", "an operator with this username already exists"},
		{"missing password", []string{"username", "bob", "password", ""}, "password", "missing password"},
		{"no such seat", []string{"username", "bob", "password", "x", "seat", "00:11:22:33:44:99"}, "seat", "no such seat"},
		{"bad seat", []string{"username", "bob", "password", "x", "seat", "desk 4"}, "seat", "seat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/operators", append(tc.kv, "fullname", "Bob")...)
			require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
			assert.Contains(t, html.UnescapeString(fieldErrors(r.body, tc.field)), tc.msg, "next to %s", tc.field)
			assert.Contains(t, r.body, `aria-describedby="`+tc.field+`-help `+tc.field+`-error" aria-invalid="true"`)
			for _, other := range []string{"username", "fullname", "password", "seat"} {
				if other != tc.field {
					assert.Empty(t, fieldErrors(r.body, other), "no problem next to %s", other)
				}
			}
			assert.Contains(t, r.body, `value="Bob"`, "the typed full name is kept")
			assert.NotContains(t, r.body, `value="x"`, "the password is never sent back")
		})
	}
	assert.Len(t, e.model().Operators, 1)
}

// TestOperatorEdit: the edit dialog shows the operator (no password); an
// empty password keeps it, a new one replaces it; a rename keeps the
// memberships; a stale save is refused with who changed it.
func TestOperatorEdit(t *testing.T) {
	e := newEnv(t)
	a := e.addSeat(seatA)
	o := e.addOperator(config.Operator{Username: "alice", FullName: "Alice", Enabled: true}, "old pw")
	svc := config.Service{Name: "sales", Type: config.Inbound, Context: "sales", IsQueue: true, Queue: "sales-q",
		Trigger: config.TriggerNone, Members: []config.Member{{Operator: "alice", Penalty: 2}}}
	require.NoError(t, e.store.SaveService(context.Background(), &svc))
	o = *operatorByName(e, "alice")
	c := e.loggedIn()
	edit := "/operators/" + itoa(o.ID) + "/edit?sort=username"
	assert.Contains(t, c.get("/operators").body, `<tr tabindex="0" data-edit="`+edit+`"`)
	r := c.get(edit)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Edit operator alice")
	assert.Contains(t, r.body, `name="version" value="`+itoa(o.Version)+`"`)
	assert.Contains(t, r.body, "Leave it empty to keep the current password.")

	r = c.post("/operators/"+itoa(o.ID), "version", itoa(o.Version), "username", "alice2", "fullname", "Alice L", "password", "", "seat", a.MAC, "begin-paused", "on")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	got := operatorByName(e, "alice2")
	assert.True(t, got.CheckPassword(config.MD5Hex("old pw")), "an empty password keeps it")
	assert.Equal(t, a.MAC, got.Seat)
	assert.False(t, got.Enabled, "unchecked")
	assert.True(t, got.BeginPaused)
	assert.Equal(t, "alice2", e.model().Services[0].Members[0].Operator, "the membership follows the rename")

	r = c.post("/operators/"+itoa(o.ID), "version", itoa(got.Version), "username", "alice2", "password", "new pw", "enabled", "on")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.True(t, operatorByName(e, "alice2").CheckPassword(config.MD5Hex("new pw")))

	now := operatorByName(e, "alice2")
	other := *now
	other.FullName = "changed by bob"
	require.NoError(t, e.store.As("bob").SaveOperator(context.Background(), &other))
	r = c.post("/operators/"+itoa(o.ID), "version", itoa(now.Version), "username", "alice2", "fullname", "mine", "enabled", "on")
	require.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Regexp(t, `bob changed this operator at [^<]+ since you opened it; it is now: username alice2, full name "changed by bob", no fixed seat, enabled`, html.UnescapeString(r.body))
	assert.Contains(t, r.body, `value="mine"`)
	assert.Equal(t, "changed by bob", operatorByName(e, "alice2").FullName, "no silent overwrite")

	assert.Equal(t, http.StatusNotFound, c.get("/operators/999/edit").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.post("/operators/999", "username", "zed", "password", "x").StatusCode)
}

// TestOperatorRemove: remove says on how many services the operator is
// and what happens to each membership; a stale remove is refused;
// confirming removes the operator and its memberships.
func TestOperatorRemove(t *testing.T) {
	e := newEnv(t)
	o := e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	e.addOperator(config.Operator{Username: "bob", Enabled: true}, "pw")
	for i, name := range []string{"sales", "support", "billing"} {
		svc := config.Service{Name: name, Type: config.Inbound, Context: name, IsQueue: true, Queue: name + "-q",
			Trigger: config.TriggerNone, Members: []config.Member{{Operator: "alice", Penalty: i}}}
		require.NoError(t, e.store.SaveService(context.Background(), &svc))
	}
	o = *operatorByName(e, "alice")
	c := e.loggedIn()
	r := c.get("/operators/" + itoa(o.ID) + "/remove")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Remove operator alice?")
	assert.Contains(t, r.body, "alice is on 3 services:")
	assert.Contains(t, r.body, "<li>member of service billing (penalty 2): the membership is removed</li>")
	assert.Contains(t, c.get("/operators/"+itoa(operatorByName(e, "bob").ID)+"/remove").body, "It is on no service.")

	r = c.post("/operators/"+itoa(o.ID)+"/remove", "version", itoa(o.Version-1))
	assert.Equal(t, http.StatusConflict, r.StatusCode, "a stale remove")
	assert.Len(t, e.model().Operators, 2)

	r = c.post("/operators/"+itoa(o.ID)+"/remove", "version", itoa(o.Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	m := e.model()
	require.Len(t, m.Operators, 1)
	for _, svc := range m.Services {
		assert.Empty(t, svc.Members, "alice left %s", svc.Name)
	}
	assert.Contains(t, c.get("/operators").body, "Operator alice removed.")
	r = c.post("/operators/"+itoa(o.ID)+"/remove", "version", itoa(o.Version))
	assert.Equal(t, http.StatusNotFound, r.StatusCode)
	assert.Regexp(t, `That operator \(alice\) no longer exists: admin removed it at`, r.body)
}

// TestOperatorSearchSort: the search filters on username, name and seat;
// the headers sort both ways.
func TestOperatorSearchSort(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	e.addOperator(config.Operator{Username: "carol", FullName: "Zoe Carol", Enabled: true}, "pw")
	e.addOperator(config.Operator{Username: "alice", FullName: "Bea Alice", Seat: seatA.MAC}, "pw")
	e.addOperator(config.Operator{Username: "bob", FullName: "Al Bob", Enabled: true}, "pw")
	c := e.loggedIn()
	assertListOrder(t, c, "/operators", []string{"alice", "bob", "carol"}, [][2]string{
		{"", "alice bob carol"},
		{"?sort=username&dir=desc", "carol bob alice"},
		{"?sort=fullname", "bob alice carol"},
		{"?sort=enabled", "bob carol alice"},
		{"?q=ZOE", "carol"},
		{"?q=44:01", "alice"},
		{"?q=nothing", ""},
	})
	assert.Contains(t, c.get("/operators?q=nothing").body, "No operator matches “nothing”.")
}

// TestOperatorInjection: SQL and script injection in every text field
// (username, full name, password, seat) is stored as it is or refused by
// validation, and always shown back literally, escaped, never as markup;
// a password is never shown at all.
func TestOperatorInjection(t *testing.T) {
	const sqlInj, xss = `'; DROP TABLE operators; --`, `<script>alert(1)</script>`
	e := newEnv(t)
	c := e.loggedIn()
	for i, evil := range []string{sqlInj, xss} {
		name := "op" + itoa(int64(i))
		r := c.post("/operators", "username", name, "fullname", evil, "password", evil, "enabled", "on")
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
		assert.True(t, operatorByName(e, name).CheckPassword(config.MD5Hex(evil)), "the password is stored as typed")
		for _, field := range []string{"username", "seat"} {
			kv := map[string]string{"username": "zed", "seat": ""}
			kv[field] = evil
			r = c.post("/operators", "username", kv["username"], "seat", kv["seat"], "fullname", evil, "password", evil)
			assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "%s in %s", evil, field)
			assert.NotContains(t, r.body, evil, "never raw")
			assert.Contains(t, r.body, `value="`+html.EscapeString(evil)+`"`, "the full name shown back literally")
			assert.NotContains(t, r.body, `type="password" value=`, "the password never")
		}
		r = c.get("/operators?q=" + urlQuery(evil))
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Contains(t, r.body, "<td>"+html.EscapeString(evil)+"</td>", "found by the search and shown literally")
		assert.NotContains(t, r.body, evil)
	}
	m := e.model() // the operators table is still there
	require.Len(t, m.Operators, 2)
	assert.Equal(t, sqlInj, m.Operators[0].FullName)
	assert.Equal(t, xss, m.Operators[1].FullName)
	for _, path := range []string{"/operators/" + itoa(m.Operators[1].ID) + "/edit", "/operators/" + itoa(m.Operators[1].ID) + "/remove", "/audit"} {
		r := c.get(path)
		require.Equal(t, http.StatusOK, r.StatusCode, path)
		assert.NotContains(t, r.body, xss, path)
	}
}
