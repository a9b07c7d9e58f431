package configurator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// TestBrowserSetupReachesServer is an administrator's first change, from
// the browser to the PBX: a seat and an operator added, the operator put
// on the demo's queue service with a penalty, the diff read and applied;
// the CTI server watching the apply directory (started in this test,
// with a fake PBX) then logs the new operator in and adds their seat to
// the queue with that penalty. The rollback puts the previous snapshot
// in force again: the operator is no longer known, their session ends
// and the membership goes.
func TestBrowserSetupReachesServer(t *testing.T) {
	const (
		mac, iface = "00:11:22:33:44:09", "SIP/209"
		user, pass = "dave", "dave-secret-9"
		queue      = "astcti-queue" // the demo's support service
		penalty    = 3
	)
	ctx := t.Context()
	pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.DialectModern, Scenario: scenarios.Demo(), Seed: 1})
	applyDir := filepath.Join(t.TempDir(), "apply")
	demo := config.Demo()
	_, err := config.WriteSnapshot(ctx, applyDir, demo)
	require.NoError(t, err)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Dir: applyDir, Admin: true})
	e := newEnv(t, func(c *Config) { c.ApplyDir, c.ServerAdmin = applyDir, srv.AdminURL() })
	require.NoError(t, e.store.Replace(ctx, demo), "the working configuration is the one in force")

	b := e.browser()
	b.login(testUser, testPassword)
	b.open("/seats")
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a.button.primary`)))
	b.loads(fill("#f-mac", mac), fill("#f-interface", iface), fill("#f-description", "new desk"),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.Equal(t, "Seat "+mac+" added.", b.text("p.flash"))

	b.open("/operators")
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a.button.primary`)))
	b.run(fill("#f-username", user), fill("#f-fullname", "Dave Bowman"), fill("#f-password", pass),
		chromedp.SetValue(chromedp.CSS("#f-seat"), mac))
	b.loads(chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.Equal(t, "Operator "+user+" added.", b.text("p.flash"))

	// The support service, opened by a double click on its row; dave in
	// its first empty member row.
	b.open("/services")
	row := eval[int](b, `[...document.querySelectorAll("tbody tr")].findIndex(r => r.cells[0].innerText.trim() === "support") + 1`)
	require.Positive(t, row, "the support service is listed")
	b.loads(chromedp.DoubleClick(chromedp.CSS(fmt.Sprintf(`tbody tr:nth-child(%d) td`, row))))
	require.True(t, b.dialogOpen())
	require.Equal(t, "Edit service support", b.text("dialog h2"))
	blank := -1
	for _, s := range demo.Services {
		if s.Name == "support" {
			blank = len(s.Members)
		}
	}
	b.loads(
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`[id="f-member.%d.operator"]`, blank)), user),
		fill(fmt.Sprintf(`[id="f-member.%d.penalty"]`, blank), fmt.Sprint(penalty)),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.Equal(t, "Service support saved.", b.text("p.flash"))

	b.open("/apply")
	assert.Contains(t, b.text(".changes-list"),
		fmt.Sprintf("Operator “%s” added: can log in from now on; at login, QueueAdd to %s with penalty %d (service “support”).", user, queue, penalty))
	assert.Contains(t, b.text(".changes-list"), "Seat "+mac+" ("+iface+") added")
	b.loads(chromedp.Click(chromedp.CSS(`form[action="/apply"] button[type=submit]`)))
	applied := e.snapshots()[0].Name
	waitInForce(t, srv.AdminURL(), applied)
	b.open("/apply")
	assert.Contains(t, b.text(".snapshots tbody tr:nth-child(1)"), "in force", "the server's word, read from its admin endpoint")

	dave := srv.Dial()
	dave.Login(user, pass, mac)
	dave.Expect(`^200 ` + queue + `$`)
	pbx.WaitMembers(queue, iface)
	m, ok := pbx.Member(queue, iface)
	require.True(t, ok)
	assert.Equal(t, penalty, m.Penalty, "the penalty chosen in the browser, at the PBX")

	b.loads(chromedp.Click(chromedp.CSS(`a[href="/apply/rollback"]`)))
	require.True(t, b.dialogOpen(), "the rollback asks first")
	b.loads(chromedp.KeyEvent("\r"))
	rolledBack := e.snapshots()[0].Name
	require.NotEqual(t, applied, rolledBack)
	waitInForce(t, srv.AdminURL(), rolledBack)
	dave.ExpectClosed()
	pbx.WaitMembers(queue)
	for _, o := range e.model().Operators {
		assert.NotEqual(t, user, o.Username, "the working configuration is the previous one again")
	}
}

// waitInForce waits until the server's /healthz names file as the
// snapshot in force.
func waitInForce(t *testing.T, adminURL, file string) {
	t.Helper()
	ctitest.WaitFor(t, "the server to put "+file+" in force", func() error {
		code, body := ctitest.Get(t, http.MethodGet, adminURL+"/healthz")
		var h serverHealth
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			return fmt.Errorf("healthz %d: %w", code, err)
		}
		return ctitest.Check(strings.HasSuffix(h.Config.File, file), "in force: %q", h.Config.File)
	})
}
