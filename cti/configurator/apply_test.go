package configurator

import (
	"bytes"
	"context"
	"database/sql"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

var (
	applyOp  = config.Operator{Username: "bob", FullName: "Bob", Enabled: true}
	applySvc = config.Service{Name: "Sales", Type: config.Inbound, Context: "from-sales", IsQueue: true, Queue: "sales",
		Trigger: config.TriggerNone, Enabled: true}
)

// snapshots returns the snapshot files of the apply directory, newest
// first.
func (e *env) snapshots() []config.SnapshotFile {
	e.t.Helper()
	files, err := e.store.Snapshots(context.Background(), e.h.cfg.ApplyDir)
	require.NoError(e.t, err)
	return files
}

// applied writes the working database as a snapshot, as a program would.
func (e *env) applied() string {
	e.t.Helper()
	path, err := e.store.Apply(context.Background(), e.h.cfg.ApplyDir)
	require.NoError(e.t, err)
	return path
}

// confirm posts the Apply page's Confirm form, as read from the page.
func (c *client) confirm() resp {
	c.e.t.Helper()
	page := c.get("/apply")
	require.Equal(c.e.t, http.StatusOK, page.StatusCode, page.body)
	m := seenRE.FindStringSubmatch(page.body)
	require.NotNil(c.e.t, m, "no Confirm form: %s", page.body)
	return c.post("/apply", "seen", m[1])
}

var seenRE = regexp.MustCompile(`name="seen" value="([0-9a-f]+)"`)

// upload posts an XML file to the import, with the page's CSRF token
// unless csrf is given.
func (c *client) upload(name string, data []byte, csrf ...string) resp {
	c.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	token := c.csrf
	if len(csrf) > 0 {
		token = csrf[0]
	}
	require.NoError(c.e.t, mw.WriteField("csrf", token))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(c.e.t, err)
	fw.Write(data)
	require.NoError(c.e.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+"/apply/import", &body)
	require.NoError(c.e.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestApplyAuth: every handler of the module needs a session, and every
// POST its CSRF token; a refused POST writes nothing.
func TestApplyAuth(t *testing.T) {
	e := newEnv(t)
	anon := e.client()
	for _, p := range []string{"/apply", "/apply/rollback", "/apply/export"} {
		r := anon.get(p)
		assert.Equal(t, http.StatusSeeOther, r.StatusCode, p)
		assert.Equal(t, "/login", r.Header.Get("Location"), p)
	}
	for _, p := range []string{"/apply", "/apply/rollback"} {
		r := anon.post(p, "csrf", "-")
		assert.Equal(t, http.StatusSeeOther, r.StatusCode, p)
	}
	c := e.loggedIn()
	for _, p := range []string{"/apply", "/apply/rollback"} {
		r := c.post(p, "csrf", "wrong")
		assert.Equal(t, http.StatusForbidden, r.StatusCode, p)
		assert.Contains(t, r.body, "CSRF")
	}
	r := c.upload("a.xml", []byte(`<astcti-config version="1"/>`), "wrong")
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Empty(t, e.snapshots())
}

// TestApplyDiffQueueAdd: an operator put on a queue service with a penalty
// is shown as a QueueAdd with that penalty; a penalty change as one; the
// operator's removal as a logout; confirming writes one snapshot, audited
// as the session's user, and the page says which.
func TestApplyDiffQueueAdd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addOperator(applyOp, "secret-1")
	svc := applySvc
	require.NoError(t, e.store.SaveService(ctx, &svc))
	e.applied()

	svc.Members = []config.Member{{Operator: "bob", Penalty: 3}}
	require.NoError(t, e.store.SaveService(ctx, &svc))
	c := e.loggedIn()
	r := c.get("/apply")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, html.EscapeString("QueueAdd: operator “bob”, if logged in, joins queue sales with penalty 3 (service “Sales”)."))
	assert.Contains(t, r.body, "Confirm: apply")

	r = c.confirm()
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	files := e.snapshots()
	require.Len(t, files, 2)
	assert.True(t, files[0].InForce)
	assert.Equal(t, testUser, files[0].By)
	assert.Equal(t, config.ActionApply, files[0].Action)
	entries, err := e.store.Audit(ctx, config.AuditFilter{Entity: config.KindConfig, Limit: 1})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, config.ActionApply, entries[0].Action)
	assert.Equal(t, testUser, entries[0].User)
	assert.Equal(t, files[0].Name, entries[0].Key)
	r = c.get("/apply")
	assert.Contains(t, r.body, "Snapshot "+files[0].Name+" written")
	assert.Contains(t, r.body, "applying writes the same configuration again")

	svc = e.model().Services[0]
	svc.Members[0].Penalty = 5
	require.NoError(t, e.store.SaveService(ctx, &svc))
	r = c.get("/apply")
	assert.Contains(t, r.body, html.EscapeString("Penalty change: operator “bob”, if logged in, in queue sales (service “Sales”): penalty 3 → 5"))

	op := operatorByName(e, "bob")
	op.Enabled = false
	require.NoError(t, e.store.SaveOperator(ctx, op))
	r = c.get("/apply")
	assert.Contains(t, r.body, html.EscapeString("QueueRemove: operator “bob”, if logged in, leaves queue sales"))
	assert.Contains(t, r.body, html.EscapeString("Operator “bob” is logged out, if logged in: operator disabled."))
}

// TestApplyFirst: with no snapshot in force the page says the server
// starts with the configuration, and the server's state is unknown
// without --server-admin.
func TestApplyFirst(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	c := e.loggedIn()
	r := c.get("/apply")
	assert.Contains(t, r.body, "No snapshot is in force yet")
	assert.Contains(t, r.body, "The server's state is unknown")
	require.Equal(t, http.StatusSeeOther, c.confirm().StatusCode)
	assert.Len(t, e.snapshots(), 1)
}

// TestApplyStaleConfirm: a Confirm for a configuration changed since the
// page was shown is refused and writes nothing.
func TestApplyStaleConfirm(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	c := e.loggedIn()
	page := c.get("/apply")
	seen := seenRE.FindStringSubmatch(page.body)[1]
	e.addSeat(config.Seat{MAC: "00:11:22:33:44:99", Interface: "SIP/299"})
	r := c.post("/apply", "seen", seen)
	assert.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Contains(t, r.body, "changed since you looked at it")
	assert.Empty(t, e.snapshots())
}

// TestApplyRefusedProblems: a working database that does not validate as a
// whole (a row written behind the store's back) is listed with its
// problems, each linked to its row, has no Confirm, and a Confirm posted
// anyway writes nothing.
func TestApplyRefusedProblems(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := applySvc
	svc.Trigger, svc.Application, svc.Parameters = config.TriggerApplication, "/usr/bin/crm", "--id=${nosuch}"
	svc.Variables = []string{"nosuch"}
	require.NoError(t, e.store.SaveService(ctx, &svc))
	db, err := sql.Open("sqlite", e.store.Path())
	require.NoError(t, err)
	_, err = db.Exec("DELETE FROM services_variables")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Error(t, e.model().Validate())

	c := e.loggedIn()
	r := c.get("/apply")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "cannot be applied")
	assert.Contains(t, r.body, "nosuch")
	assert.Contains(t, r.body, `<a href="/services">Fix it</a>`)
	assert.NotContains(t, r.body, "Confirm: apply")
	m := e.model()
	r = c.post("/apply", "seen", fingerprint(m))
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, r.body)
	assert.Contains(t, r.body, "nosuch")
	assert.Empty(t, e.snapshots())
}

// TestApplyRollback: the rollback's dialog names the snapshot it goes back
// to; confirming writes that configuration as a new newest file, in force,
// audited as the session's user, and makes it the working one; with no
// previous snapshot it is refused.
func TestApplyRollback(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	first := filepath.Base(e.applied())
	e.addSeat(config.Seat{MAC: "00:11:22:33:44:99", Interface: "SIP/299"})
	c := e.loggedIn()
	require.Equal(t, http.StatusSeeOther, c.confirm().StatusCode)
	require.Len(t, e.model().Seats, 2)

	r := c.get("/apply/rollback")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "Roll back to the previous snapshot?")
	assert.Contains(t, r.body, first)
	r = c.post("/apply/rollback")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	files := e.snapshots()
	require.Len(t, files, 3)
	assert.True(t, files[0].InForce)
	assert.Equal(t, config.ActionRollback, files[0].Action)
	assert.Equal(t, testUser, files[0].By)
	assert.NotEqual(t, first, files[0].Name)
	assert.True(t, strings.HasPrefix(files[0].Summary, "1 seat, "), files[0].Summary)
	assert.Len(t, e.model().Seats, 1)
	assert.Contains(t, c.get("/apply").body, "Rolled back")

	e2 := newEnv(t)
	e2.addSeat(seatA)
	e2.applied()
	c2 := e2.loggedIn()
	r = c2.post("/apply/rollback")
	assert.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Contains(t, r.body, "nothing to roll back to")
	assert.Len(t, e2.snapshots(), 1)
}

// fakeServer stands in for the server's admin endpoint: it answers
// /healthz with the recorded sample, the file in force being *file.
func fakeServer(t *testing.T, file *string) *httptest.Server {
	sample, err := os.ReadFile("testdata/healthz.json")
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(bytes.ReplaceAll(sample, []byte("FILE"), []byte(*file)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestApplyServerState: with --server-admin the page says whether the
// newest snapshot is in force, refused and why, not loaded yet, or that
// the server is down.
func TestApplyServerState(t *testing.T) {
	file := ""
	srv := fakeServer(t, &file)
	e := newEnv(t, func(c *Config) { c.ServerAdmin = srv.URL + "/" })
	e.addSeat(seatA)
	first := filepath.Base(e.applied())
	c := e.loggedIn()

	file = first
	r := c.get("/apply")
	assert.Contains(t, r.body, "In force: the server runs the newest snapshot, <span class=\"mono\">"+first+"</span>")

	e.addSeat(config.Seat{MAC: "00:11:22:33:44:99", Interface: "SIP/299"})
	require.Equal(t, http.StatusSeeOther, c.confirm().StatusCode)
	newest := e.snapshots()[0].Name
	r = c.get("/apply")
	assert.Contains(t, r.body, "Not in force yet")
	assert.Contains(t, r.body, newest)

	// A newer file the server refuses: the server keeps the one before.
	bad := filepath.Join(e.h.cfg.ApplyDir, config.SnapshotName(".xml"))
	require.NoError(t, os.WriteFile(bad, []byte(`<astcti-config version="1"><seat mac="bad" interface="SIP/1"/></astcti-config>`), 0o644))
	file = newest
	r = c.get("/apply")
	assert.Contains(t, r.body, "Refused: the server does not load <span class=\"mono\">"+filepath.Base(bad)+"</span>")
	assert.Contains(t, r.body, "line 1")
	assert.Contains(t, r.body, "It keeps <span class=\"mono\">"+newest+"</span> in force")
	assert.Contains(t, r.body, "the configurator's own check", "an older server does not say why")

	srv.Close()
	r = c.get("/apply")
	assert.Contains(t, r.body, "The server could not be read")
}

// TestApplyServerSaysRefused: a server that says which snapshot it
// refused (config.refused) is believed over the configurator's own check
// of the file: its reason is shown for a file the configurator finds
// valid, and a file the configurator finds bad but the server has not
// refused (yet) is not loaded yet, not refused.
func TestApplyServerSaysRefused(t *testing.T) {
	fake := newFakeAdmin(t, "")
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	e.addSeat(seatA)
	first := filepath.Base(e.applied())
	e.addSeat(config.Seat{MAC: "00:11:22:33:44:99", Interface: "SIP/299"})
	newest := filepath.Base(e.applied())
	fake.edit(func(h, _ map[string]any) {
		cfg := configOf(h)
		cfg["file"] = "/etc/astcti/" + first
		cfg["refused"] = map[string]any{"file": "/etc/astcti/" + newest,
			"error": "config: /etc/astcti/" + newest + ": line 3: queue <sales> & co unknown to this server", "at": "2026-12-04T20:05:00Z"}
	})
	c := e.loggedIn()
	r := c.get("/apply")
	assert.Contains(t, r.body, "Refused: the server does not load <span class=\"mono\">"+newest+"</span>: config: /etc/astcti/"+newest+": line 3: queue &lt;sales&gt; &amp; co unknown to this server")
	assert.Contains(t, r.body, "It keeps <span class=\"mono\">"+first+"</span> in force")
	assert.Contains(t, r.body, "The server's words, at ")
	assert.NotContains(t, r.body, "Not in force yet")
	// The snapshots' table agrees: the server's file in force, the newest
	// refused with the server's reason, and applying compared with what the
	// server runs (the seat of the refused file is still to add).
	assert.Contains(t, r.body, `<tr class="in-force">`+"\n"+`<td class="mono">`+first+`</td>`)
	assert.Regexp(t, `<td class="mono">`+regexp.QuoteMeta(newest)+`</td>(?s:.*?)refused: config: /etc/astcti/`, r.body)
	assert.Contains(t, r.body, "Compared with the snapshot in force, <span class=\"mono\">"+first+"</span>")
	assert.Contains(t, r.body, "Seat 00:11:22:33:44:99 (SIP/299) added")

	// A newer file bad to the configurator's eyes, which the server has
	// not refused: not read yet.
	bad := filepath.Join(e.h.cfg.ApplyDir, config.SnapshotName(".xml"))
	require.NoError(t, os.WriteFile(bad, []byte(`<astcti-config version="1"><seat mac="bad" interface="SIP/1"/></astcti-config>`), 0o644))
	r = c.get("/apply")
	assert.Contains(t, r.body, "Not in force yet")
	assert.Contains(t, r.body, filepath.Base(bad))
	assert.NotContains(t, r.body, "Refused:")

	// It refuses it: its word, not the configurator's.
	fake.edit(func(h, _ map[string]any) {
		configOf(h)["refused"] = map[string]any{"file": bad, "error": "config: " + bad + ": line 1: seat: invalid MAC address \"bad\"", "at": "2026-12-04T20:06:00Z"}
	})
	r = c.get("/apply")
	assert.Contains(t, r.body, "Refused: the server does not load <span class=\"mono\">"+filepath.Base(bad)+"</span>")
	assert.NotContains(t, r.body, "the configurator's own check")
}

// TestApplyServerBounded: an answer larger than maxServerBody, or not
// the health JSON, is an error, not a state.
func TestApplyServerBounded(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"config":{"file":"`))
		w.Write(bytes.Repeat([]byte("a"), int(maxServerBody)))
	}))
	defer big.Close()
	_, err := readServerHealth(context.Background(), big.URL)
	assert.ErrorContains(t, err, "larger than")
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
	defer html.Close()
	_, err = readServerHealth(context.Background(), html.URL)
	assert.ErrorContains(t, err, "not the server's health JSON")
}

// TestImportBadFile: an XML file with problems is refused with each
// problem's line, and the working database is unchanged; a file over
// Config.MaxImportBytes is refused.
func TestImportBadFile(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	before := fingerprint(e.model())
	c := e.loggedIn()
	c.get("/apply")
	bad := "<?xml version=\"1.0\"?>\n<astcti-config version=\"1\">\n  <seat mac=\"zz\" interface=\"SIP/1\"/>\n  <operator username=\"x y\"/>\n</astcti-config>\n"
	r := c.upload("bad.xml", []byte(bad))
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, r.body)
	assert.Contains(t, r.body, "Not imported (bad.xml): nothing was changed.")
	assert.Contains(t, r.body, "line 3: ")
	assert.Contains(t, r.body, "line 4: ")
	assert.Equal(t, before, fingerprint(e.model()))

	r = c.upload("notxml.xml", []byte("hello"))
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, r.body)
	assert.Equal(t, before, fingerprint(e.model()))

	small := newEnv(t, func(c *Config) { c.MaxImportBytes = 1 << 10 })
	small.addSeat(seatA)
	c = small.loggedIn()
	c.get("/apply")
	r = c.upload("big.xml", bytes.Repeat([]byte(" "), 2<<10))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, r.body)
	assert.Equal(t, before, fingerprint(small.model()))
}

// TestExportImportRoundTrip: the export is the working configuration's XML;
// importing it into another configurator makes the same configuration,
// audited as an import by the session's user.
func TestExportImportRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addSeat(seatA)
	e.addOperator(applyOp, "secret-1")
	svc := applySvc
	svc.Members = []config.Member{{Operator: "bob", Penalty: 2}}
	svc.Variables = []string{"customer"}
	require.NoError(t, e.store.SaveService(ctx, &svc))
	c := e.loggedIn()
	r := c.get("/apply/export")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.Header.Get("Content-Type"), "application/xml")
	assert.Contains(t, r.Header.Get("Content-Disposition"), "attachment;")
	assert.Contains(t, r.body, `penalty="2"`)

	e2 := newEnv(t)
	c2 := e2.loggedIn()
	c2.get("/apply")
	r2 := c2.upload("export.xml", []byte(r.body))
	require.Equal(t, http.StatusSeeOther, r2.StatusCode, r2.body)
	assert.Equal(t, fingerprint(e.model()), fingerprint(e2.model()))
	entries, err := e2.store.Audit(ctx, config.AuditFilter{Entity: config.KindConfig, Limit: 1})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, config.ActionImport, entries[0].Action)
	assert.Equal(t, testUser, entries[0].User)
	assert.Contains(t, c2.get("/apply").body, "Imported export.xml")
}

// TestApplyInjection: names with markup and SQL are shown escaped in the
// diff, the history and an import's problems.
func TestApplyInjection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addOperator(applyOp, "secret-1")
	svc := applySvc
	require.NoError(t, e.store.SaveService(ctx, &svc))
	e.applied()
	evil := `<script>alert(1)</script>'; DROP TABLE services; --`
	svc = e.model().Services[0]
	svc.Name = evil
	svc.Members = []config.Member{{Operator: "bob", Penalty: 1}}
	require.NoError(t, e.store.SaveService(ctx, &svc))
	c := e.loggedIn()
	r := c.get("/apply")
	assert.NotContains(t, r.body, "<script>alert")
	assert.Contains(t, r.body, html.EscapeString(evil))
	require.Equal(t, http.StatusSeeOther, c.confirm().StatusCode)
	assert.Equal(t, evil, e.model().Services[0].Name)

	c.get("/apply")
	r = c.upload(`<img src=x>.xml`, []byte(`<astcti-config version="1"><service name="`+html.EscapeString(evil)+`" type="bad"/></astcti-config>`))
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.NotContains(t, r.body, "<img src=x>")
	assert.NotContains(t, r.body, "<script>alert")
	assert.True(t, strings.Contains(r.body, "&lt;img src=x&gt;"), r.body)
}

// TestNewcomerTexts: the seats and operators a configuration adds or
// enables are said, with the queues an operator joins at login; those
// already there are not.
func TestNewcomerTexts(t *testing.T) {
	before := config.Demo()
	before.Operators[1].Enabled = false // bob
	after := before.Clone()
	after.Operators[1].Enabled = true
	after.Seats = append(after.Seats, config.Seat{MAC: "00:11:22:33:44:09", Interface: "SIP/209"})
	carol := config.Operator{Username: "carol", Enabled: true}
	require.NoError(t, carol.SetPassword("carol-secret"))
	after.Operators = append(after.Operators, carol)
	old, err := config.NewSnapshot(before)
	require.NoError(t, err)
	next, err := config.NewSnapshot(after)
	require.NoError(t, err)
	assert.Equal(t, []changeText{
		{"seat", "Seat 00:11:22:33:44:09 (SIP/209) added: an operator can log in on it."},
		{"add", "Operator “bob” enabled: can log in from now on; at login, QueueAdd to astcti-queue with penalty 2 (service “support”)."},
		{"add", "Operator “carol” added: can log in from now on."},
	}, newcomerTexts(old, next))
	assert.Empty(t, newcomerTexts(next, next))
}
