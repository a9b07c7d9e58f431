package configurator

import (
	"context"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

var (
	seatA = config.Seat{MAC: "00:11:22:33:44:01", Interface: "SIP/201", Description: "desk one"}
	seatB = config.Seat{MAC: "00:11:22:33:44:02", Interface: "PJSIP/202", Description: "window"}
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func macs(m *config.Model) []string {
	var out []string
	for _, s := range m.Seats {
		out = append(out, s.MAC)
	}
	return out
}

// TestSeatAdd: the add dialog, then a good seat is stored (its MAC made
// canonical), audited, and the list shows it with a message.
func TestSeatAdd(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	r := c.get("/seats/new")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<dialog class="modal" open data-modal`)
	for _, f := range []string{"mac", "interface", "description"} {
		assert.Contains(t, r.body, `<label for="f-`+f+`">`, "a label for %s", f)
	}
	r = c.post("/seats", "mac", "00-11-22-33-44-AA", "interface", "PJSIP/210", "description", "front desk", "q", "", "sort", "interface")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "/seats?sort=interface", r.Header.Get("Location"), "the list's sort is kept")
	m := e.model()
	require.Len(t, m.Seats, 1)
	assert.Equal(t, "00:11:22:33:44:aa", m.Seats[0].MAC)
	assert.Equal(t, "PJSIP/210", m.Seats[0].Interface)
	assert.Equal(t, "front desk", m.Seats[0].Description)
	r = c.get("/seats?sort=interface")
	assert.Contains(t, r.body, `<p class="flash" role="status">Seat 00:11:22:33:44:aa added.</p>`)
	assert.Contains(t, r.body, `<td class="mono">00:11:22:33:44:aa</td>`)
	assert.NotContains(t, c.get("/seats").body, "added.", "the message is shown once")
	assert.Contains(t, e.log.String(), `msg="configuration changed" user=admin kind=seat action=add key=00:11:22:33:44:aa`)
}

// TestSeatValidationErrors: what Model.Validate refuses comes back in the
// dialog, 422, each problem next to its field, the typed values kept, and
// nothing stored.
func TestSeatValidationErrors(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	c := e.loggedIn()
	tests := []struct {
		name       string
		kv         []string
		field, msg string
	}{
		{"missing MAC", []string{"mac", "", "interface", "SIP/299"}, "mac", "missing MAC"},
		{"bad MAC", []string{"mac", "00:11:22:33:44", "interface", "SIP/299"}, "mac", "MAC"},
		{"duplicate MAC", []string{"mac", "00-11-22-33-44-01", "interface", "SIP/299"}, "mac", "a seat with this MAC address already exists"},
		{"missing interface", []string{"mac", "00:11:22:33:44:99", "interface", ""}, "interface", "missing interface"},
		{"bad interface", []string{"mac", "00:11:22:33:44:99", "interface", "201"}, "interface", "interface"},
		{"duplicate interface", []string{"mac", "00:11:22:33:44:99", "interface", "SIP/201"}, "interface", "another seat already has this interface (seat 00:11:22:33:44:01 has SIP/201)"},
		{"long description", []string{"mac", "00:11:22:33:44:99", "interface", "SIP/299", "description", strings.Repeat("x", 300)}, "description", "longer than 256 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/seats", tc.kv...)
			require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
			got := html.UnescapeString(fieldErrors(r.body, tc.field))
			assert.Contains(t, got, tc.msg, "next to %s", tc.field)
			assert.Contains(t, r.body, `id="f-`+tc.field+`"`)
			assert.Contains(t, r.body, `aria-describedby="`+tc.field+`-help `+tc.field+`-error" aria-invalid="true"`)
			for _, other := range []string{"mac", "interface", "description"} {
				if other != tc.field {
					assert.Empty(t, fieldErrors(r.body, other), "no problem next to %s", other)
				}
			}
			assert.Contains(t, r.body, `value="`+html.EscapeString(tc.kv[3])+`"`, "the typed interface is kept")
		})
	}
	assert.Equal(t, []string{seatA.MAC}, macs(e.model()))
}

// TestSeatEdit: Enter or a double click opens the row's edit URL; the
// dialog shows the seat; a good save stores it and moves the operators
// whose fixed seat it is with it; a bad one is refused per field.
func TestSeatEdit(t *testing.T) {
	e := newEnv(t)
	a := e.addSeat(seatA)
	e.addSeat(seatB)
	op := config.Operator{Username: "alice", FullName: "Alice", Seat: a.MAC, Enabled: true}
	require.NoError(t, op.SetPassword("alice pw"))
	require.NoError(t, e.store.SaveOperator(context.Background(), &op))
	c := e.loggedIn()
	list := c.get("/seats")
	edit := "/seats/" + itoa(a.ID) + "/edit?sort=mac"
	assert.Contains(t, list.body, `<tr tabindex="0" data-edit="`+edit+`"`)
	r := c.get(edit)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Edit seat 00:11:22:33:44:01")
	assert.Contains(t, r.body, `value="desk one"`)

	assert.Contains(t, r.body, `name="version" value="`+itoa(a.Version)+`"`, "the form carries the row's version")
	r = c.post("/seats/"+itoa(a.ID), "version", itoa(a.Version), "mac", "00:11:22:33:44:03", "interface", "SIP/203", "description", "moved")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	m := e.model()
	assert.Equal(t, []string{"00:11:22:33:44:02", "00:11:22:33:44:03"}, macs(m))
	assert.Equal(t, "00:11:22:33:44:03", m.Operators[0].Seat, "alice's fixed seat followed")
	assert.Contains(t, c.get("/seats").body, "Seat 00:11:22:33:44:03 saved.")

	r = c.post("/seats/"+itoa(a.ID), "version", itoa(seatByMAC(e, "00:11:22:33:44:03").Version), "mac", seatB.MAC, "interface", "SIP/203")
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Contains(t, fieldErrors(r.body, "mac"), "a seat with this MAC address already exists")

	assert.Equal(t, http.StatusNotFound, c.get("/seats/999/edit").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.get("/seats/abc/edit").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.post("/seats/999", "mac", "00:11:22:33:44:09", "interface", "SIP/209").StatusCode)
}

// TestSeatStaleEdit: a save over a change made since the dialog opened
// is refused (409) with what the seat is now and who changed it; saving
// again replaces it. A stale remove is refused too, and a form without a
// version never overwrites.
func TestSeatStaleEdit(t *testing.T) {
	e := newEnv(t)
	a := e.addSeat(seatA)
	c := e.loggedIn()
	opened := itoa(a.Version)
	other := a
	other.Description = "changed by bob"
	require.NoError(t, e.store.As("bob").SaveSeat(context.Background(), &other))

	r := c.post("/seats/"+itoa(a.ID), "version", opened, "mac", a.MAC, "interface", "SIP/250", "description", "mine")
	require.Equal(t, http.StatusConflict, r.StatusCode)
	body := html.UnescapeString(r.body)
	assert.Regexp(t, `bob changed this seat at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ since you opened it; it is now: MAC 00:11:22:33:44:01, interface SIP/201, description "changed by bob"`, body)
	assert.Contains(t, r.body, `value="mine"`, "what the user typed is kept")
	assert.Contains(t, r.body, `name="version" value="`+itoa(other.Version)+`"`, "with the version now stored")
	assert.Equal(t, "changed by bob", e.model().Seats[0].Description, "no silent overwrite")

	r = c.post("/seats/"+itoa(a.ID), "mac", a.MAC, "interface", "SIP/250", "description", "no version")
	assert.Equal(t, http.StatusConflict, r.StatusCode, "a form without a version")
	assert.Equal(t, "changed by bob", e.model().Seats[0].Description)

	r = c.post("/seats/"+itoa(a.ID), "version", itoa(other.Version), "mac", a.MAC, "interface", "SIP/250", "description", "mine")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, "mine", e.model().Seats[0].Description, "a deliberate second save")

	r = c.post("/seats/"+itoa(a.ID)+"/remove", "version", opened)
	assert.Equal(t, http.StatusConflict, r.StatusCode, "a stale remove too")
	assert.Regexp(t, `admin changed this seat at [^<]+ since you asked to remove it: check it and confirm again.`, r.body)
	assert.Len(t, e.model().Seats, 1)

	now := e.model().Seats[0]
	require.NoError(t, e.store.As("carol").DeleteSeat(context.Background(), now.ID, now.Version))
	r = c.post("/seats/"+itoa(a.ID), "version", itoa(now.Version), "mac", a.MAC, "interface", "SIP/250", "description", "mine")
	assert.Equal(t, http.StatusNotFound, r.StatusCode, "a save of a removed seat")
	assert.Regexp(t, `That seat \(00:11:22:33:44:01\) no longer exists: carol removed it at [^<]+\.`, r.body)
	assert.Empty(t, e.model().Seats, "not brought back")
}

// TestSeatChangesAudited: every change made through the configurator is
// in the store's audit log as made by the session's manager user, with the
// row before and after.
func TestSeatChangesAudited(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	r := c.post("/seats", "mac", seatA.MAC, "interface", seatA.Interface)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	a := seatByMAC(e, seatA.MAC)
	r = c.post("/seats/"+itoa(a.ID), "version", itoa(a.Version), "mac", a.MAC, "interface", "SIP/209", "description", "desk")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	r = c.post("/seats/"+itoa(a.ID)+"/remove", "version", itoa(seatByMAC(e, seatA.MAC).Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	log, err := e.store.Audit(context.Background(), config.AuditFilter{Entity: config.KindSeat})
	require.NoError(t, err)
	require.Len(t, log, 3)
	for i, want := range []config.Action{config.ActionRemove, config.ActionEdit, config.ActionAdd} {
		assert.Equal(t, want, log[i].Action)
		assert.Equal(t, testUser, log[i].User, "%s by the session's user", want)
		assert.Equal(t, seatA.MAC, log[i].Key)
	}
	assert.Contains(t, string(log[1].Before), "SIP/201")
	assert.Contains(t, string(log[1].After), "SIP/209")
}

// TestSeatRemove: remove asks for confirmation and says what depends on
// the seat; confirming removes it; the operator keeps no fixed seat.
func TestSeatRemove(t *testing.T) {
	e := newEnv(t)
	a := e.addSeat(seatA)
	e.addSeat(seatB)
	op := config.Operator{Username: "alice", Seat: a.MAC, Enabled: true}
	require.NoError(t, op.SetPassword("alice pw"))
	require.NoError(t, e.store.SaveOperator(context.Background(), &op))
	c := e.loggedIn()
	r := c.get("/seats/" + itoa(a.ID) + "/remove")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Remove seat 00:11:22:33:44:01?")
	assert.Contains(t, r.body, "<li>operator alice has it as fixed seat and will have none</li>")
	assert.Len(t, e.model().Seats, 2, "asking removes nothing")
	assert.Contains(t, c.get("/seats/"+itoa(seatIDByMAC(e, seatB.MAC))+"/remove").body, "Nothing depends on it.")

	r = c.post("/seats/"+itoa(a.ID)+"/remove", "version", itoa(seatByMAC(e, a.MAC).Version))
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	m := e.model()
	assert.Equal(t, []string{seatB.MAC}, macs(m))
	assert.Empty(t, m.Operators[0].Seat)
	assert.Contains(t, c.get("/seats").body, "Seat 00:11:22:33:44:01 removed.")
	assert.Equal(t, http.StatusNotFound, c.post("/seats/"+itoa(a.ID)+"/remove", "version", itoa(a.Version)).StatusCode)
	assert.Contains(t, e.log.String(), "action=remove key=00:11:22:33:44:01")
}

func seatIDByMAC(e *env, mac string) int64 { return seatByMAC(e, mac).ID }

func seatByMAC(e *env, mac string) config.Seat {
	e.t.Helper()
	for _, s := range e.model().Seats {
		if s.MAC == mac {
			return s
		}
	}
	e.t.Fatalf("no seat %s", mac)
	return config.Seat{}
}

// TestSeatSearchSort: the search filters on every column, the column
// headers sort both ways.
func TestSeatSearchSort(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	e.addSeat(seatB)
	e.addSeat(config.Seat{MAC: "00:11:22:33:44:03", Interface: "SIP/150", Description: "Annex"})
	c := e.loggedIn()
	order := func(body string) []string {
		var out []string
		for _, mac := range []string{"00:11:22:33:44:01", "00:11:22:33:44:02", "00:11:22:33:44:03"} {
			if i := strings.Index(body, `<td class="mono">`+mac); i >= 0 {
				out = append(out, mac)
			}
		}
		slicesSortByIndex(out, body)
		return out
	}
	tests := []struct{ query, want string }{
		{"", "01 02 03"},
		{"?sort=mac&dir=desc", "03 02 01"},
		{"?sort=interface", "02 03 01"},
		{"?sort=description", "03 01 02"},
		{"?q=WINDOW", "02"},
		{"?q=sip/2", "01 02"},
		{"?q=44:0&sort=interface&dir=desc", "01 03 02"},
		{"?q=nothing", ""},
		{"?sort=nosuch", "01 02 03"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := c.get("/seats" + tc.query)
			require.Equal(t, http.StatusOK, r.StatusCode)
			var got []string
			for _, m := range order(r.body) {
				got = append(got, m[len(m)-2:])
			}
			assert.Equal(t, tc.want, strings.Join(got, " "))
		})
	}
	r := c.get("/seats?sort=interface")
	assert.Contains(t, r.body, `aria-sort="ascending"><a href="/seats?dir=desc&amp;sort=interface">Interface</a>`)
	assert.Contains(t, c.get("/seats?q=nothing").body, "No seat matches “nothing”.")
}

func slicesSortByIndex(macs []string, body string) {
	for i := 1; i < len(macs); i++ {
		for j := i; j > 0 && strings.Index(body, `<td class="mono">`+macs[j]) < strings.Index(body, `<td class="mono">`+macs[j-1]); j-- {
			macs[j], macs[j-1] = macs[j-1], macs[j]
		}
	}
}

// TestSeatInjection: SQL and script injection strings in every text field
// are stored as they are (the store binds parameters: the seats table
// survives) or refused by validation, and always shown back literally,
// escaped, never as markup.
func TestSeatInjection(t *testing.T) {
	const sqlInj, xss = `'; DROP TABLE seats; --`, `<script>alert(1)</script>`
	e := newEnv(t)
	c := e.loggedIn()
	for i, evil := range []string{sqlInj, xss} {
		mac := "00:11:22:33:44:0" + itoa(int64(i+1))
		r := c.post("/seats", "mac", mac, "interface", "SIP/20"+itoa(int64(i+1)), "description", evil)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
		for _, field := range []string{"mac", "interface"} {
			kv := map[string]string{"mac": "00:11:22:33:44:09", "interface": "SIP/209"}
			kv[field] = evil
			r = c.post("/seats", "mac", kv["mac"], "interface", kv["interface"], "description", evil)
			assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "%s in %s", evil, field)
			assert.Contains(t, r.body, `value="`+html.EscapeString(evil)+`"`, "shown back literally in %s", field)
			assert.NotContains(t, r.body, evil, "never raw")
		}
		r = c.get("/seats?q=" + urlQuery(evil))
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Contains(t, r.body, "<td>"+html.EscapeString(evil)+"</td>", "found by the search and shown literally")
		assert.NotContains(t, r.body, evil)
	}
	m := e.model() // the seats table is still there
	require.Len(t, m.Seats, 2)
	assert.Equal(t, sqlInj, m.Seats[0].Description)
	assert.Equal(t, xss, m.Seats[1].Description)
	r := c.get("/seats")
	assert.Contains(t, r.body, "<td>&#39;; DROP TABLE seats; --</td>")
	assert.Contains(t, r.body, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>")
	r = c.get("/seats/" + itoa(m.Seats[1].ID) + "/edit")
	assert.Contains(t, r.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)
	r = c.get("/seats/" + itoa(m.Seats[1].ID) + "/remove")
	assert.NotContains(t, r.body, xss)
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "+", ";", "%3B", "'", "%27", "<", "%3C", ">", "%3E").Replace(s)
}
