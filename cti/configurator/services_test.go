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

func (e *env) addService(s config.Service) config.Service {
	e.t.Helper()
	require.NoError(e.t, e.store.SaveService(context.Background(), &s))
	return s
}

func serviceByName(e *env, name string) *config.Service {
	e.t.Helper()
	for _, s := range e.model().Services {
		if s.Name == name {
			return &s
		}
	}
	e.t.Fatalf("no service %s", name)
	return nil
}

// serviceForm is a good add form of a queue service with an application
// trigger; kv replaces or adds fields.
func serviceForm(kv ...string) []string {
	f := map[string]string{"name": "sales", "type": "inbound", "context": "from-sales", "is-queue": "on",
		"queue": "sales-q", "trigger": "application", "application": "/usr/bin/crm",
		"parameters": "--customer ${customer_id} --from ${calleridnum}", "enabled": "on",
		"variable.0.name": "customer_id", "variable.1.name": "",
		"member.0.operator": "alice", "member.0.penalty": "2", "member.1.operator": "", "member.1.penalty": ""}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	var out []string
	for k, v := range f {
		out = append(out, k, v)
	}
	return out
}

// TestServiceAdd: the add dialog has a label for every field, the trigger
// and the direction as selects, rows for variables and for operators
// chosen from a list with their penalty; a good service is stored with
// its variables and members, and audited as the session's user.
func TestServiceAdd(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", FullName: "Alice", Enabled: true}, "pw")
	c := e.loggedIn()
	r := c.get("/services/new")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<dialog class="modal service-dialog" open data-modal`)
	for _, f := range []string{"name", "type", "context", "is-queue", "queue", "trigger", "application", "parameters",
		"enabled", "variable.0.name", "variable.1.name", "member.0.operator", "member.0.penalty"} {
		assert.Contains(t, r.body, `<label for="f-`+f+`">`, "a label for %s", f)
	}
	assert.Contains(t, r.body, `<select id="f-trigger" name="trigger"`)
	assert.Contains(t, r.body, `<option value="none" selected>`, "no trigger by default")
	assert.Contains(t, r.body, `<select id="f-member.0.operator" name="member.0.operator"`)
	assert.Contains(t, r.body, `<option value="alice">alice · Alice</option>`, "the operators to choose from")
	assert.Contains(t, r.body, `id="f-enabled" name="enabled" type="checkbox" checked`)

	r = c.post("/services", append(serviceForm(), "sort", "queue")...)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/services?sort=queue", r.Header.Get("Location"))
	s := serviceByName(e, "sales")
	assert.Equal(t, config.Inbound, s.Type)
	assert.Equal(t, "from-sales", s.Context)
	assert.True(t, s.IsQueue)
	assert.Equal(t, "sales-q", s.Queue)
	assert.Equal(t, config.TriggerApplication, s.Trigger)
	assert.Equal(t, "/usr/bin/crm", s.Application)
	assert.True(t, s.Enabled)
	assert.Equal(t, []string{"customer_id"}, s.Variables, "the empty row is no variable")
	assert.Equal(t, []config.Member{{Operator: "alice", Penalty: 2}}, s.Members)
	r = c.get("/services")
	assert.Contains(t, r.body, `<p class="flash" role="status">Service sales added.</p>`)
	assert.Contains(t, r.body, `<td class="mono">sales</td><td class="mono">from-sales</td><td class="mono">sales-q</td>`)
	assert.Contains(t, r.body, `<span class="mono">alice</span> (2)`)
	log, err := e.store.Audit(context.Background(), config.AuditFilter{Entity: config.KindService})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, testUser, log[0].User)
}

// TestServiceValidationErrors: the cross-field rules of cti/config's
// validation and the penalty's parser come back next to their field
// (422), the typed values kept, nothing stored.
func TestServiceValidationErrors(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	e.addService(config.Service{Name: "support", Type: config.Inbound, Context: "support", Trigger: config.TriggerNone})
	c := e.loggedIn()
	tests := []struct {
		name       string
		kv         []string
		field, msg string
	}{
		{"missing name", []string{"name", ""}, "name", "missing name"},
		{"duplicate name", []string{"name", "support"}, "name", "a service with this name already exists"},
		{"missing context", []string{"context", ""}, "context", "missing context"},
		{"queue service without a queue", []string{"queue", ""}, "queue", "a queue service needs a queue name"},
		{"unknown trigger", []string{"trigger", "telepathy"}, "trigger", "unknown trigger"},
		{"application without a program", []string{"application", ""}, "application", "trigger application needs an application"},
		{"placeholder in the program", []string{"application", "/usr/bin/${calleridname}"}, "application", "a placeholder in the program is never expanded"},
		{"undeclared placeholder", []string{"parameters", "--id ${order_id}"}, "parameters", "placeholder ${order_id} names no variable of the service and no built-in"},
		{"browser without a URL", []string{"trigger", "browser", "application", "crm.example.com"}, "application", "needs an http:// or https:// URL"},
		{"bad variable", []string{"variable.1.name", "9lives"}, "variable.1.name", "invalid variable name"},
		{"duplicate variable", []string{"variable.1.name", "customer_id"}, "variable.1.name", "duplicate variable"},
		{"no such operator", []string{"member.1.operator", "zed"}, "member.1.operator", `member "zed": no such operator`},
		{"operator twice", []string{"member.1.operator", "alice"}, "member.1.operator", "is a member twice"},
		{"penalty with letters", []string{"member.0.penalty", "5a"}, "member.0.penalty", `penalty must be an integer >= 0, not "5a"`},
		{"negative penalty", []string{"member.0.penalty", "-1"}, "member.0.penalty", "penalty must be an integer"},
		{"penalty too big", []string{"member.0.penalty", "9999999999"}, "member.0.penalty", "out of range"},
	}
	fields := []string{"name", "context", "queue", "trigger", "application", "parameters", "variable.0.name",
		"variable.1.name", "member.0.operator", "member.0.penalty", "member.1.operator", "member.1.penalty"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/services", serviceForm(tc.kv...)...)
			require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, r.body)
			assert.Contains(t, html.UnescapeString(fieldErrors(r.body, tc.field)), tc.msg, "next to %s", tc.field)
			assert.Contains(t, r.body, `aria-invalid="true"`)
			for _, other := range fields {
				if other != tc.field {
					assert.Empty(t, fieldErrors(r.body, other), "no problem next to %s", other)
				}
			}
			assert.Empty(t, fieldErrors(r.body, ""), "none lost at the top")
			assert.NotContains(t, r.body, `<ul class="error" role="alert">`, "every problem is next to its field")
			assert.Contains(t, r.body, `value="`+html.EscapeString(serviceFormValue(tc.kv, "parameters"))+`"`, "the typed parameters are kept")
		})
	}
	r := c.post("/services", serviceForm("member.1.operator", "zed")...)
	assert.Contains(t, r.body, `<option value="zed" selected>zed (no such operator)</option>`, "the typed operator shown back")
	r = c.post("/services", serviceForm("member.0.penalty", "abc", "queue", "")...)
	assert.Contains(t, r.body, `id="f-member.0.penalty" name="member.0.penalty" value="abc"`, "the penalty shown back as typed")
	assert.Contains(t, fieldErrors(r.body, "queue"), "a queue service needs a queue name", "with the form's other problems")
	assert.NotContains(t, r.body, "penalty -1", "the problem is about what was typed")
	assert.Len(t, e.model().Services, 1)
}

func serviceFormValue(kv []string, name string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			return kv[i+1]
		}
	}
	f := serviceForm()
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] == name {
			return f[i+1]
		}
	}
	return ""
}

// TestServiceEdit: the edit dialog shows the service with its variables
// and members, each with a Remove box and empty rows to add; one save
// changes the fields, removes and adds variables and members and changes
// a penalty; a stale save, also one made stale by a member's change, is
// refused with who changed it and what the service is now.
func TestServiceEdit(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"alice", "bob", "carol"} {
		e.addOperator(config.Operator{Username: n, Enabled: true}, "pw")
	}
	s := e.addService(config.Service{Name: "sales", Type: config.Inbound, Context: "sales", IsQueue: true, Queue: "sales-q",
		Trigger: config.TriggerBrowser, Application: "https://crm.example.com/?id=${customer_id}", Enabled: true,
		Variables: []string{"customer_id", "order_id"},
		Members:   []config.Member{{Operator: "alice", Penalty: 1}, {Operator: "bob", Penalty: 3}}})
	c := e.loggedIn()
	edit := "/services/" + itoa(s.ID) + "/edit?sort=name"
	assert.Contains(t, c.get("/services").body, `<tr tabindex="0" data-edit="`+edit+`"`)
	r := c.get(edit)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Edit service sales")
	assert.Contains(t, r.body, `name="version" value="`+itoa(s.Version)+`"`)
	assert.Contains(t, r.body, `<option value="browser" selected>`)
	assert.Contains(t, r.body, `id="f-variable.1.name" name="variable.1.name" value="order_id"`)
	assert.Contains(t, r.body, `name="variable.1.remove" type="checkbox"`)
	assert.Contains(t, r.body, `id="f-variable.3.name" name="variable.3.name" value=""`, "two empty rows to add")
	assert.Contains(t, r.body, `<option value="bob" selected>bob</option>`)
	assert.Contains(t, r.body, `id="f-member.1.penalty" name="member.1.penalty" value="3"`)
	assert.Contains(t, r.body, `name="member.0.remove" type="checkbox"`)

	r = c.post("/services/"+itoa(s.ID), "version", itoa(s.Version), "name", "sales", "type", "inbound", "context", "sales2",
		"is-queue", "on", "queue", "sales-q", "trigger", "browser", "application", "https://crm.example.com/?id=${customer_id}&t=${ticket}",
		"variable.0.name", "customer_id", "variable.1.name", "order_id", "variable.1.remove", "on", "variable.2.name", "ticket", "variable.3.name", "",
		"member.0.operator", "alice", "member.0.penalty", "0", "member.1.operator", "bob", "member.1.penalty", "3", "member.1.remove", "on",
		"member.2.operator", "carol", "member.2.penalty", "7", "member.3.operator", "", "member.3.penalty", "")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	got := serviceByName(e, "sales")
	assert.Equal(t, "sales2", got.Context)
	assert.False(t, got.Enabled, "unchecked")
	assert.Equal(t, []string{"customer_id", "ticket"}, got.Variables)
	assert.Equal(t, []config.Member{{Operator: "alice", Penalty: 0}, {Operator: "carol", Penalty: 7}}, got.Members)

	// Bob's change of a member makes this dialog stale: no silent
	// overwrite of the list of members either.
	other := *got
	other.Members = append(other.Members, config.Member{Operator: "bob", Penalty: 9})
	require.NoError(t, e.store.As("bob").SaveService(context.Background(), &other))
	r = c.post("/services/"+itoa(s.ID), "version", itoa(got.Version), "name", "sales", "type", "inbound", "context", "mine",
		"is-queue", "on", "queue", "sales-q", "trigger", "none", "enabled", "on")
	require.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Regexp(t, `bob changed this service at [^<]+ since you opened it; it is now: name sales, inbound, context sales2, queue sales-q, trigger browser "https://crm.example.com/\?id=\$\{customer_id\}&t=\$\{ticket\}", disabled, variables \[customer_id ticket\], operators \[alice \(penalty 0\) bob \(penalty 9\) carol \(penalty 7\)\]`, html.UnescapeString(r.body))
	assert.Contains(t, r.body, `value="mine"`, "what this user typed is kept")
	assert.Contains(t, r.body, `name="version" value="`+itoa(other.Version)+`"`, "saving again is a deliberate overwrite")
	assert.Equal(t, "sales2", serviceByName(e, "sales").Context, "no silent overwrite")
	assert.Len(t, serviceByName(e, "sales").Members, 3)

	assert.Equal(t, http.StatusNotFound, c.get("/services/999/edit").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.post("/services/999", "name", "zed").StatusCode)
}

// TestServiceRemove: remove says which operators are on the service and
// with which penalty; a stale remove is refused; confirming removes the
// service, its variables and memberships, and not the operators.
func TestServiceRemove(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	e.addOperator(config.Operator{Username: "bob", Enabled: true}, "pw")
	s := e.addService(config.Service{Name: "sales", Type: config.Inbound, Context: "sales", IsQueue: true, Queue: "sales-q",
		Trigger: config.TriggerNone, Variables: []string{"customer_id"},
		Members: []config.Member{{Operator: "alice", Penalty: 1}, {Operator: "bob", Penalty: 4}}})
	empty := e.addService(config.Service{Name: "empty", Type: config.Outbound, Context: "out", Trigger: config.TriggerNone})
	c := e.loggedIn()
	r := c.get("/services/" + itoa(s.ID) + "/remove")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Remove service sales?")
	assert.Contains(t, r.body, "2 operators are on it:")
	assert.Contains(t, r.body, "<li>operator bob is a member (penalty 4) and leaves the service</li>")
	assert.Contains(t, c.get("/services/"+itoa(empty.ID)+"/remove").body, "No operator is on it.")

	r = c.post("/services/"+itoa(s.ID)+"/remove", "version", itoa(s.Version-1))
	assert.Equal(t, http.StatusConflict, r.StatusCode, "a stale remove")
	assert.Contains(t, r.body, "since you asked to remove it")
	assert.Len(t, e.model().Services, 2)

	r = c.post("/services/"+itoa(s.ID)+"/remove", "version", itoa(s.Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	m := e.model()
	require.Len(t, m.Services, 1)
	assert.Len(t, m.Operators, 2, "the operators stay")
	assert.Contains(t, c.get("/services").body, "Service sales removed.")
	r = c.post("/services/"+itoa(s.ID)+"/remove", "version", itoa(s.Version))
	assert.Equal(t, http.StatusNotFound, r.StatusCode)
	assert.Regexp(t, `That service \(sales\) no longer exists: admin removed it at`, r.body)
}

// TestServiceSearchSort: the search looks in name, context, queue,
// program, variables and operators; the headers sort both ways.
func TestServiceSearchSort(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	e.addService(config.Service{Name: "carol-line", Type: config.Inbound, Context: "a-ctx", Trigger: config.TriggerNone, Enabled: true,
		Variables: []string{"ticket"}})
	e.addService(config.Service{Name: "alpha", Type: config.Inbound, Context: "c-ctx", IsQueue: true, Queue: "zq",
		Trigger: config.TriggerApplication, Application: "/usr/bin/crm", Members: []config.Member{{Operator: "alice"}}})
	e.addService(config.Service{Name: "bravo", Type: config.Inbound, Context: "b-ctx", IsQueue: true, Queue: "aq",
		Trigger: config.TriggerBrowser, Application: "https://crm.example.com/", Enabled: true})
	c := e.loggedIn()
	assertListOrder(t, c, "/services", []string{"alpha", "bravo", "carol-line"}, [][2]string{
		{"", "alpha bravo carol-line"},
		{"?sort=name&dir=desc", "carol-line bravo alpha"},
		{"?sort=context", "carol-line bravo alpha"},
		{"?sort=queue", "carol-line bravo alpha"},
		{"?sort=trigger", "alpha bravo carol-line"},
		{"?sort=enabled", "bravo carol-line alpha"},
		{"?q=ALICE", "alpha"},
		{"?q=ticket", "carol-line"},
		{"?q=crm", "alpha bravo"},
		{"?q=nothing", ""},
	})
	assert.Contains(t, c.get("/services?q=nothing").body, "No service matches “nothing”.")
}

// TestServiceInjection: SQL and script injection in every text field of
// the service dialog (name, context, queue, application, parameters, a
// variable, an operator, a penalty) is stored as it is or refused by
// validation (a name, a program or parameters are any text: stored), and
// always shown back literally, escaped, never as markup.
func TestServiceInjection(t *testing.T) {
	const sqlInj, xss = `'; DROP TABLE services; --`, `<script>alert(1)</script>`
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", Enabled: true}, "pw")
	c := e.loggedIn()
	for i, evil := range []string{sqlInj, xss} {
		name := "svc" + itoa(int64(i))
		// A name, a program and the parameters take any text: stored as
		// typed.
		r := c.post("/services", serviceForm("name", name+evil, "context", name, "queue", name+"-q",
			"application", evil, "parameters", evil)...)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
		name += evil
		assert.Equal(t, evil, serviceByName(e, name).Application)
		assert.Equal(t, evil, serviceByName(e, name).Parameters)
		for _, field := range []string{"context", "queue", "variable.1.name", "member.1.operator", "member.0.penalty"} {
			r = c.post("/services", serviceForm("name", "zed", "context", "zed", "queue", "zed-q", "parameters", evil, field, evil)...)
			assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "%s in %s", evil, field)
			assert.NotContains(t, r.body, evil, "never raw (%s)", field)
			assert.Contains(t, r.body, `value="`+html.EscapeString(evil)+`"`, "shown back literally (%s)", field)
		}
		r = c.get("/services/" + itoa(serviceByName(e, name).ID) + "/edit")
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Contains(t, r.body, `id="f-parameters" name="parameters" value="`+html.EscapeString(evil)+`"`)
		assert.NotContains(t, r.body, evil)
		r = c.get("/services?q=" + urlQuery(evil))
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Contains(t, r.body, `<td class="mono">`+html.EscapeString(name)+`</td>`, "found by the search and shown literally")
		assert.NotContains(t, r.body, evil)
	}
	m := e.model() // the services table is still there
	require.Len(t, m.Services, 2)
	assert.Equal(t, "svc0"+sqlInj, m.Services[0].Name)
	assert.Equal(t, sqlInj, m.Services[0].Parameters)
	assert.Equal(t, sqlInj, m.Services[0].Application)
	assert.Equal(t, "svc1"+xss, m.Services[1].Name)
	assert.Equal(t, xss, m.Services[1].Parameters)
	for _, path := range []string{"/services/" + itoa(m.Services[1].ID) + "/remove", "/audit"} {
		r := c.get(path)
		require.Equal(t, http.StatusOK, r.StatusCode, path)
		assert.NotContains(t, r.body, xss, path)
	}
}
