package configurator

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

// auditKeys returns the keys of the entries the audit page lists, in its
// order.
func auditKeys(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td>(?:seat|operator|service|config) <span class="mono">([^<]*)</span></td>`).FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestAuditList: the changes made in the configurator (as its session's
// user) and elsewhere (as another, or a program) are listed newest first,
// with who, what and the fields changed, and the filters by user, kind and
// text select them.
func TestAuditList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.loggedIn()
	require.Equal(t, http.StatusSeeOther, c.post("/seats", "mac", seatA.MAC, "interface", seatA.Interface, "description", "desk one").StatusCode)
	b := seatB
	require.NoError(t, e.store.As("bob").SaveSeat(ctx, &b))
	a := seatByMAC(e, seatA.MAC)
	require.Equal(t, http.StatusSeeOther, c.post("/seats/"+itoa(a.ID), "version", itoa(a.Version), "mac", a.MAC, "interface", "SIP/209", "description", "desk one").StatusCode)
	op := config.Operator{Username: "alice", Enabled: true}
	require.NoError(t, op.SetPassword("alice pw"))
	require.NoError(t, e.store.SaveOperator(ctx, &op))

	r := c.get("/audit")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `aria-current="page">Audit</a>`)
	assert.Equal(t, []string{"alice", seatA.MAC, seatB.MAC, seatA.MAC}, auditKeys(r.body), "newest first")
	assert.Contains(t, r.body, "<td><em>a program</em></td>")
	assert.Contains(t, r.body, "<td>bob</td>")
	assert.Contains(t, r.body, `<dt>interface</dt><dd><span class="mono before">&#34;SIP/201&#34;</span> → <span class="mono after">&#34;SIP/209&#34;</span></dd>`,
		"an edit shows the field it changed, before and after")
	assert.NotContains(t, r.body, "<dt>version</dt>", "every change bumps it: noise")
	assert.NotContains(t, r.body, "<dt>fullname</dt>", "an added row's empty fields")
	assert.NotContains(t, r.body, op.PasswordHash, "never an operator's password hash")

	tests := []struct {
		query string
		want  []string
	}{
		{"user=bob", []string{seatB.MAC}},
		{"user=admin", []string{seatA.MAC, seatA.MAC}},
		{"user=" + url.QueryEscape("admin' OR '1'='1"), nil},
		{"entity=operator", []string{"alice"}},
		{"entity=seat&user=admin", []string{seatA.MAC, seatA.MAC}},
		{"entity=nosuch", []string{"alice", seatA.MAC, seatB.MAC, seatA.MAC}},
		{"q=sip%2F209", []string{seatA.MAC}},
		{"q=WINDOW", []string{seatB.MAC}},
		{"q=%25", nil},
		{"since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(dateTimeLocal)), nil},
		{"until=" + url.QueryEscape(time.Now().Add(time.Hour).Format(dateTimeLocal)), []string{"alice", seatA.MAC, seatB.MAC, seatA.MAC}},
		{"since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(dateTimeLocal)) + "&user=bob", []string{seatB.MAC}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := c.get("/audit?" + tc.query)
			require.Equal(t, http.StatusOK, r.StatusCode)
			assert.Equal(t, tc.want, auditKeys(r.body))
			if tc.want == nil {
				assert.Contains(t, r.body, "No change matches these filters.")
			}
		})
	}
	r = c.get("/audit?entity=operator")
	assert.Contains(t, r.body, `<option value="operator" selected>operator</option>`, "the filter is shown as chosen")
}

// TestAuditBadTime: a time that is not one shows its problem next to its
// field (400), and the list is shown without that filter.
func TestAuditBadTime(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	c := e.loggedIn()
	r := c.get("/audit?since=yesterday")
	require.Equal(t, http.StatusBadRequest, r.StatusCode)
	assert.Contains(t, fieldErrors(r.body, "since"), "Choose a date and a time")
	assert.Contains(t, r.body, `id="f-since" name="since" type="datetime-local" value="yesterday"`)
	assert.Equal(t, []string{seatA.MAC}, auditKeys(r.body))
	r = c.get("/audit?since=2026-01-02T10:00&until=2026-01-01T10:00")
	require.Equal(t, http.StatusBadRequest, r.StatusCode)
	assert.Contains(t, html.UnescapeString(fieldErrors(r.body, "until")), "“Until” must be after “since”.")
}

// TestAuditPaged: the log comes in pages of Config.AuditPage, the next
// page starting after the last entry shown, with the filters kept.
func TestAuditPaged(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuditPage = 2 })
	var all []string
	for i := range 5 {
		s := config.Seat{MAC: "00:11:22:33:44:1" + itoa(int64(i)), Interface: "SIP/30" + itoa(int64(i))}
		e.addSeat(s)
		all = append([]string{s.MAC}, all...)
	}
	c := e.loggedIn()
	var got []string
	next := "/audit?entity=seat"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5, "the pages end")
		r := c.get(next)
		require.Equal(t, http.StatusOK, r.StatusCode)
		keys := auditKeys(r.body)
		assert.LessOrEqual(t, len(keys), 2)
		got = append(got, keys...)
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older entries</a>`).FindStringSubmatch(r.body); m != nil {
			next = html.UnescapeString(m[1])
			assert.Contains(t, next, "entity=seat", "the filters are kept")
		}
	}
	assert.Equal(t, all, got, "every entry once, newest first")
}

// TestAuditEscaped: script and SQL injection stored in a row, a key or a
// user id are shown literally in the audit log, never as markup.
func TestAuditEscaped(t *testing.T) {
	const xss, sqlInj = `<script>alert(1)</script>`, `'; DROP TABLE audit; --`
	e := newEnv(t)
	c := e.loggedIn()
	require.Equal(t, http.StatusSeeOther, c.post("/seats", "mac", seatA.MAC, "interface", seatA.Interface, "description", xss).StatusCode)
	s := seatB
	s.Description = sqlInj
	require.NoError(t, e.store.As(xss).SaveSeat(context.Background(), &s))
	for _, path := range []string{"/audit", "/audit?q=" + url.QueryEscape(xss), "/audit?user=" + url.QueryEscape(xss), "/audit?q=" + url.QueryEscape(sqlInj)} {
		r := c.get(path)
		require.Equal(t, http.StatusOK, r.StatusCode, path)
		assert.NotContains(t, r.body, xss, path)
		assert.NotRegexp(t, `<script>`, strings.ReplaceAll(r.body, `<script src=`, ""), path)
	}
	r := c.get("/audit?user=" + url.QueryEscape(xss))
	assert.Equal(t, []string{seatB.MAC}, auditKeys(r.body))
	assert.Contains(t, r.body, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>", "the user id, escaped")
	assert.Contains(t, r.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`, "the filter, escaped")
	r = c.get("/audit?q=" + url.QueryEscape(sqlInj))
	assert.Equal(t, []string{seatB.MAC}, auditKeys(r.body), "found literally; the audit table survives")
}
