package configurator

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

// The browser tests drive the configurator as an administrator does, in a
// headless Chromium (browser_helpers_test.go), and assert what is shown:
// texts, the dialog's open state, where the focus is. Every test also
// fails on a console error or warning. With ASTCTI_SCREENSHOTS=DIR they
// write the pictures of docs/configurator.md into DIR.

// TestBrowserLogin: a wrong password is refused with the error on the
// login page, the user id kept; the right one opens the seats list; the
// password-lost link explains the recovery.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	b.open("/")
	assert.Equal(t, "/login", b.path(), "a visitor is sent to the login page")
	assert.Equal(t, "input#userid", b.focused(), "the user id has the focus")
	b.screenshot("login")

	b.login(testUser, "wrong password")
	assert.Equal(t, "/login", b.path())
	assert.Equal(t, "Wrong user id or password.", b.text("#login-error"))
	assert.Equal(t, testUser, eval[string](b, `document.querySelector("#userid").value`), "the user id is kept")
	assert.Empty(t, b.text(".bar"), "no menubar before login")

	b.loads(chromedp.Click(chromedp.CSS(`a[href="/password-lost"]`)))
	assert.Equal(t, "Password lost", b.text("h1"))
	assert.Contains(t, b.text("main"), "astcti user passwd --data DIR USERID")

	b.login(testUser, testPassword)
	assert.Equal(t, "/seats", b.path())
	assert.Equal(t, "Seats", b.text("main h1"))
	assert.Equal(t, testUser, b.text(".bar .who"))
	assert.Equal(t, "No seat yet. Add the first one.", b.text("p.empty"))
	b.checkListening()
}

// TestBrowserSeats: a first seat added with the toolbar's Add and the
// dialog, a bad MAC refused next to its field, a row edited by double
// click and by Enter, Escape closing the dialog with the focus back on
// the row, and a removal through its confirmation.
func TestBrowserSeats(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(testUser, testPassword)

	// Add, with a MAC one byte short first.
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a.button.primary`)))
	require.True(t, b.dialogOpen(), "Add opens the dialog")
	assert.Equal(t, "Add a seat", b.text("dialog h2"))
	assert.Equal(t, "input#f-mac", b.focused(), "the dialog's first field has the focus")
	b.loads(
		fill("#f-mac", "00:11:22:33:44"),
		fill("#f-interface", "SIP/201"),
		fill("#f-description", "desk one"),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.True(t, b.dialogOpen(), "a refused seat keeps the dialog open")
	assert.Contains(t, b.text("#mac-error"), "MAC", "the problem is next to the MAC field")
	assert.Empty(t, b.text("#interface-error"), "the interface is fine")
	assert.Equal(t, "input#f-mac", b.focused(), "the field in error has the focus")
	assert.Equal(t, "true", eval[string](b, `document.querySelector("#f-mac").getAttribute("aria-invalid")`))
	assert.Equal(t, "SIP/201", eval[string](b, `document.querySelector("#f-interface").value`), "what was typed is kept")
	b.screenshot("seat-validation")
	assert.Empty(t, e.model().Seats, "nothing stored")

	b.loads(fill("#f-mac", "00-11-22-33-44-01"), chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Seat 00:11:22:33:44:01 added.", b.text("p.flash"))
	assert.Equal(t, "00:11:22:33:44:01\tSIP/201\tdesk one", b.text("tbody tr:nth-child(1)")[:len("00:11:22:33:44:01\tSIP/201\tdesk one")])
	e.addSeat(seatB)

	// Double click edits.
	b.open("/seats")
	assert.Equal(t, "2 of 2", b.text(".count"))
	b.loads(chromedp.DoubleClick(chromedp.CSS(`tbody tr:nth-child(1) td`)))
	require.True(t, b.dialogOpen(), "a double click opens the row's dialog")
	assert.Equal(t, "Edit seat 00:11:22:33:44:01", b.text("dialog h2"))
	assert.Equal(t, "SIP/201", eval[string](b, `document.querySelector("#f-interface").value`))
	b.loads(fill("#f-description", "desk one, by the door"), chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	assert.Equal(t, "Seat 00:11:22:33:44:01 saved.", b.text("p.flash"))
	assert.Contains(t, b.text("tbody tr:nth-child(1)"), "desk one, by the door")
	b.screenshot("seats")

	// Enter on the focused row edits; Escape goes back with the focus on
	// that row.
	b.run(chromedp.Focus(chromedp.CSS(`tbody tr:nth-child(2)`)))
	assert.Equal(t, "true", eval[string](b, `document.querySelector("tbody tr:nth-child(2)").getAttribute("aria-selected")`), "the focused row is selected")
	b.loads(chromedp.KeyEvent("\r"))
	require.True(t, b.dialogOpen(), "Enter opens the row's dialog")
	assert.Equal(t, "Edit seat "+seatB.MAC, b.text("dialog h2"))
	b.loads(chromedp.KeyEvent(kb.Escape))
	assert.False(t, b.dialogOpen(), "Escape closes the dialog")
	assert.Equal(t, "/seats", eval[string](b, `location.pathname`))
	assert.Contains(t, b.focused(), "tr "+seatB.MAC, "the focus is back on the row")
	assert.Equal(t, seatB.Description, e.model().Seats[1].Description, "Escape saves nothing")

	// Remove, confirmed: the toolbar's Remove on the selected row.
	b.run(chromedp.Click(chromedp.CSS(`tbody tr:nth-child(2) td`)))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar button[data-action=remove]`)))
	require.True(t, b.dialogOpen(), "Remove asks first")
	assert.Equal(t, "Remove seat "+seatB.MAC+"?", b.text("dialog h2"))
	assert.Contains(t, b.text("#dialog-desc"), "Nothing depends on it.")
	assert.Equal(t, "button Remove", b.focused(), "the confirmation's button has the focus")
	b.loads(chromedp.KeyEvent("\r"))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Seat "+seatB.MAC+" removed.", b.text("p.flash"))
	assert.Equal(t, "1 of 1", b.text(".count"))
	assert.NotContains(t, b.text("table"), seatB.MAC)
}

// TestBrowserOperatorsAndAudit: an operator added with a fixed seat chosen
// from the seats, the list showing it, and the audit page listing every
// change by the administrator who made it.
func TestBrowserOperatorsAndAudit(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	e.addSeat(seatB)
	b := e.browser()
	b.login(testUser, testPassword)

	b.loads(chromedp.Click(chromedp.CSS(`.bar a[href="/operators"]`)))
	assert.Equal(t, "Operators", b.text("main h1"))
	assert.Equal(t, "page", eval[string](b, `document.querySelector('.bar a[href="/operators"]').getAttribute("aria-current")`))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a.button.primary`)))
	require.True(t, b.dialogOpen())
	assert.Equal(t, "Add an operator", b.text("dialog h2"))
	assert.Equal(t, "No fixed seat: any seat", eval[string](b, `document.querySelector("#f-seat").selectedOptions[0].text`))
	b.run(
		fill("#f-username", "alice"),
		fill("#f-fullname", "Alice Liddell"),
		fill("#f-password", "rabbit-hole"),
		chromedp.SetValue(chromedp.CSS("#f-seat"), seatB.MAC))
	assert.Equal(t, seatB.MAC+" · PJSIP/202 · window", eval[string](b, `document.querySelector("#f-seat").selectedOptions[0].text`))
	b.loads(chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Operator alice added.", b.text("p.flash"))
	assert.Equal(t, "alice\tAlice Liddell\t"+seatB.MAC+"\tenabled", b.text("tbody tr:nth-child(1)")[:len("alice\tAlice Liddell\t"+seatB.MAC+"\tenabled")])
	b.screenshot("operators")
	m := e.model()
	require.Len(t, m.Operators, 1)
	assert.Equal(t, seatB.MAC, m.Operators[0].Seat)

	b.loads(chromedp.Click(chromedp.CSS(`.bar a[href="/audit"]`)))
	assert.Equal(t, "Audit", b.text("main h1"))
	rows := eval[[]string](b, `[...document.querySelectorAll("table.audit tbody tr")].map(r => [...r.cells].slice(1, 4).map(c => c.innerText.trim()).join(" | "))`)
	require.NotEmpty(t, rows)
	assert.Equal(t, "admin | add | operator alice", rows[0], "newest first, by whom")
	assert.Contains(t, b.text("table.audit tbody tr:nth-child(1) .changes"), "Alice Liddell")
	b.screenshot("audit")

	// The filters: the operators' changes only.
	b.loads(chromedp.SetValue(chromedp.CSS("#f-entity"), "operator"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	rows = eval[[]string](b, `[...document.querySelectorAll("table.audit tbody tr")].map(r => r.cells[3].innerText.trim())`)
	assert.Equal(t, []string{"operator alice"}, rows)
}

// TestBrowserEscapeFromAdd: Escape on the add dialog, opened from the
// keyboard, goes back to the list with the focus on Add again, so that a
// keyboard user is where they were.
func TestBrowserEscapeFromAdd(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	b := e.browser()
	b.login(testUser, testPassword)
	b.run(chromedp.Focus(chromedp.CSS(`.toolbar a.button.primary`)))
	b.loads(chromedp.KeyEvent("\r"))
	require.True(t, b.dialogOpen())
	b.run(fill("#f-mac", "00:11:22:33:44:09"))
	b.loads(chromedp.KeyEvent(kb.Escape))
	assert.False(t, b.dialogOpen(), "Escape closes the dialog")
	assert.Equal(t, "a Add", b.focused(), "the focus is back on Add")
	assert.Len(t, e.model().Seats, 1, "nothing added")
}

// unlabelledScript lists the form fields a person can reach that have no
// label: no <label for>, no enclosing label, no aria-label(ledby).
const unlabelledScript = `[...document.querySelectorAll("input, select, textarea")].filter(f =>
	f.type !== "hidden" && f.labels.length === 0 && !f.getAttribute("aria-label") && !f.getAttribute("aria-labelledby")
).map(f => f.outerHTML.slice(0, 120))`

// TestBrowserEveryPage: every page of the menubar, and the add dialog of
// every module that has one, loads without a console problem, has its
// title and no field without a label.
func TestBrowserEveryPage(t *testing.T) {
	e := newEnv(t)
	e.addSeat(seatA)
	b := e.browser()
	b.login(testUser, testPassword)
	menu := eval[[]string](b, `[...document.querySelectorAll(".bar nav a")].map(a => a.getAttribute("href"))`)
	require.GreaterOrEqual(t, len(menu), 4, "the menubar")
	for _, path := range menu {
		b.open(path)
		assert.NotEmpty(t, b.text("main h1"), "%s has a title", path)
		assert.Empty(t, eval[[]string](b, unlabelledScript), "fields without a label on %s", path)
		if eval[bool](b, `!!document.querySelector(".toolbar a[accesskey]")`) {
			b.loads(chromedp.Click(chromedp.CSS(`.toolbar a[accesskey]`)))
			assert.True(t, b.dialogOpen(), "Add on %s opens a dialog", path)
			assert.Empty(t, eval[[]string](b, unlabelledScript), "fields without a label in the add dialog of %s", path)
			b.loads(chromedp.KeyEvent(kb.Escape))
			assert.False(t, b.dialogOpen(), "Escape closes the add dialog of %s", path)
			assert.Equal(t, "a Add", b.focused(), "the focus is back on Add on %s", path)
		}
	}
	b.checkListening()
}

// TestBrowserServiceWithPenalty: a queue service added with an operator on
// it; a penalty with letters is refused next to its field, the number is
// kept.
func TestBrowserServiceWithPenalty(t *testing.T) {
	e := newEnv(t)
	e.addOperator(config.Operator{Username: "alice", FullName: "Alice Liddell", Enabled: true}, "rabbit-hole")
	b := e.browser()
	b.login(testUser, testPassword)
	b.loads(chromedp.Click(chromedp.CSS(`.bar a[href="/services"]`)))
	assert.Equal(t, "Services", b.text("main h1"))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a[accesskey]`)))
	require.True(t, b.dialogOpen())
	b.loads(
		fill("#f-name", "sales"),
		fill("#f-context", "from-sales"),
		chromedp.Click(chromedp.CSS("#f-is-queue")),
		fill("#f-queue", "sales-q"),
		chromedp.SetValue(chromedp.CSS(`[id="f-member.0.operator"]`), "alice"),
		fill(`[id="f-member.0.penalty"]`, "2x"),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.True(t, b.dialogOpen(), "a refused service keeps the dialog open")
	assert.NotEmpty(t, b.text(`[id="member.0.penalty-error"]`), "the problem is next to the penalty")
	assert.Equal(t, `input#f-member.0.penalty 2x`, b.focused()+" "+eval[string](b, `document.activeElement.value`), "the penalty has the focus, as typed")
	assert.Empty(t, e.model().Services, "nothing stored")

	b.loads(fill(`[id="f-member.0.penalty"]`, "2"), chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Service sales added.", b.text("p.flash"))
	assert.Contains(t, b.text("tbody tr:nth-child(1)"), "sales-q")
	b.screenshot("services")
	m := e.model()
	require.Len(t, m.Services, 1)
	assert.Equal(t, []config.Member{{Operator: "alice", Penalty: 2}}, m.Services[0].Members)
}

// TestBrowserApplyAndRollback: Apply shows what the server will do (bob
// joins the queue with his penalty), Confirm writes the snapshot by the
// logged-in user, and the rollback, behind its confirmation, writes the
// previous one again.
func TestBrowserApplyAndRollback(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.addSeat(seatB)
	e.addOperator(config.Operator{Username: "alice", FullName: "Alice Liddell", Seat: seatB.MAC, Enabled: true}, "rabbit-hole")
	svc := config.Service{Name: "sales", Type: config.Inbound, Context: "from-sales", IsQueue: true, Queue: "sales-q",
		Trigger: config.TriggerNone, Enabled: true}
	require.NoError(t, e.store.SaveService(ctx, &svc))
	e.applied()
	svc.Members = []config.Member{{Operator: "alice", Penalty: 2}}
	require.NoError(t, e.store.SaveService(ctx, &svc))

	b := e.browser()
	b.login(testUser, testPassword)
	b.loads(chromedp.Click(chromedp.CSS(`.bar a[href="/apply"]`)))
	assert.Equal(t, "Apply", b.text("main h1"))
	assert.Equal(t, "QueueAdd: operator “alice”, if logged in, joins queue sales-q with penalty 2 (service “sales”).", b.text(".changes-list li"))
	b.screenshot("apply")
	b.loads(chromedp.Click(chromedp.CSS(`form[action="/apply"] button[type=submit]`)))
	assert.Contains(t, b.text(".snapshots tbody tr:nth-child(1)"), "admin (apply)")
	assert.Contains(t, b.text(".snapshots tbody tr:nth-child(1)"), "in force")
	assert.Contains(t, b.text("main"), "applying writes the same configuration again")
	files := e.snapshots()
	require.Len(t, files, 2)
	assert.Equal(t, testUser, files[0].By)

	b.loads(chromedp.Click(chromedp.CSS(`a[href="/apply/rollback"]`)))
	require.True(t, b.dialogOpen(), "the rollback asks first")
	assert.Equal(t, "Roll back to the previous snapshot?", b.text("dialog h2"))
	assert.Equal(t, "button Roll back", b.focused())
	b.loads(chromedp.KeyEvent(kb.Escape))
	assert.False(t, b.dialogOpen(), "Escape cancels the rollback")
	assert.Len(t, e.snapshots(), 2, "nothing written")

	b.loads(chromedp.Click(chromedp.CSS(`a[href="/apply/rollback"]`)))
	b.loads(chromedp.KeyEvent("\r"))
	assert.False(t, b.dialogOpen())
	assert.Len(t, e.snapshots(), 3, "the previous snapshot written again")
	assert.Empty(t, e.model().Services[0].Members, "the working configuration is the previous one again")
	assert.Contains(t, b.text(".snapshots tbody tr:nth-child(1)"), "admin (rollback)")
}
