package configurator

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserManagerUsers: a manager user added from the menubar's Manager
// users with the password typed twice (a mismatch refused next to the
// second field), edited by double click, Escape going back to the row,
// and the toolbar's Disable / enable refusing to disable the user logged
// in, then disabling another.
func TestBrowserManagerUsers(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(testUser, testPassword)

	b.loads(chromedp.Click(chromedp.CSS(`.bar a[href="/users"]`)))
	assert.Equal(t, "Manager users", b.text("main h1"))
	assert.Equal(t, "Disable / enable", b.text(`.toolbar button[data-action=remove]`))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar a.button.primary`)))
	require.True(t, b.dialogOpen(), "Add opens the dialog")
	assert.Equal(t, "Add a manager user", b.text("dialog h2"))
	b.loads(
		fill("#f-fullname", "Bob Builder"),
		fill("#f-userid", "bob"),
		fill("#f-password", "bob's password"),
		fill("#f-password2", "bob's passwort"),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	require.True(t, b.dialogOpen(), "a refused user keeps the dialog open")
	assert.Contains(t, b.text("#password2-error"), "The two passwords differ")
	assert.Equal(t, "input#f-password2", b.focused(), "the field in error has the focus")
	assert.Equal(t, "", eval[string](b, `document.querySelector("#f-password").value`), "a password is never sent back")
	b.loads(
		fill("#f-password", "bob's password"),
		fill("#f-password2", "bob's password"),
		chromedp.Click(chromedp.CSS(`dialog button[type=submit]`)))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Manager user bob added.", b.text("p.flash"))
	assert.Equal(t, "2 of 2", b.text(".count"))
	b.screenshot("users")

	// Double click edits; Escape goes back with the focus on the row.
	b.loads(chromedp.DoubleClick(chromedp.CSS(`tbody tr:nth-child(2) td`)))
	require.True(t, b.dialogOpen(), "a double click opens the row's dialog")
	assert.Equal(t, "Edit manager user bob", b.text("dialog h2"))
	assert.Equal(t, "Bob Builder", eval[string](b, `document.querySelector("#f-fullname").value`))
	b.loads(chromedp.KeyEvent(kb.Escape))
	assert.False(t, b.dialogOpen(), "Escape closes the dialog")
	assert.Contains(t, b.focused(), "tr Bob Builder", "the focus is back on the row")

	// Disabling yourself is refused; disabling bob is done.
	b.run(chromedp.Click(chromedp.CSS(`tbody tr:nth-child(1) td`)))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar button[data-action=remove]`)))
	require.True(t, b.dialogOpen())
	assert.Equal(t, "Disable manager user admin?", b.text("dialog h2"))
	b.loads(chromedp.KeyEvent("\r"))
	require.True(t, b.dialogOpen(), "refused: the dialog stays")
	assert.Contains(t, b.text("dialog ul.error"), "You cannot disable yourself")
	b.loads(chromedp.KeyEvent(kb.Escape))
	b.run(chromedp.Click(chromedp.CSS(`tbody tr:nth-child(2) td`)))
	b.loads(chromedp.Click(chromedp.CSS(`.toolbar button[data-action=remove]`)))
	assert.Equal(t, "Disable manager user bob?", b.text("dialog h2"))
	b.loads(chromedp.KeyEvent("\r"))
	assert.False(t, b.dialogOpen())
	assert.Equal(t, "Manager user bob disabled.", b.text("p.flash"))
	assert.Contains(t, b.text("tbody tr:nth-child(2)"), "disabled")
	assert.False(t, e.manager("bob").Enabled)
	b.checkListening()
}
