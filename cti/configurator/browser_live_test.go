package configurator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserLive: the Live page follows the server without being
// reloaded: a seat that logs in appears, the server gone is said so and
// its figures hidden, the AMI link going down and up again is shown; a
// pause reason written as HTML stays text; the console stays clean; a
// session that ends is said so.
func TestBrowserLive(t *testing.T) {
	fake := newFakeAdmin(t, "astcti-20261204T200001.500Z-1f2e3d4c.db")
	fake.edit(func(_, st map[string]any) { st["seats"], st["calls"] = []any{}, []any{} })
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	b := e.browser()
	b.login(testUser, testPassword)
	b.open("/live")
	assert.Equal(t, "Live", b.text("main h1"))
	assert.Equal(t, "The AMI link is up.", b.text("#link-state"))
	assert.Equal(t, "No seat logged in.", b.text("#seats"))
	eval[bool](b, `window.astctiSamePage = true`)

	// A seat logs in, with a pause reason that is HTML.
	fake.edit(func(_, st map[string]any) {
		st["seats"] = []any{liveSeatJSON("alice", "00:11:22:33:44:01", "SIP/201", "<b>lunch</b>", "sales-q")}
		st["calls"] = []any{map[string]any{"service": "Sales", "calls": 2, "answered": 1}}
	})
	b.waitText("#seats", "alice")
	assert.Contains(t, b.text("#seats"), "Paused: <b>lunch</b>", "the reason as text")
	assert.Zero(t, eval[int](b, `document.querySelectorAll("#seats b").length`), "no element made of the reason")
	assert.Equal(t, "1", b.text("#seats-count"))
	assert.Contains(t, b.text("#calls"), "Sales")

	// The server goes away, then comes back.
	fake.down.Store(true)
	b.waitText("#live-down", "The server could not be read")
	assert.True(t, eval[bool](b, `document.querySelector("#live-data").hidden`), "nothing shown as known")
	fake.down.Store(false)
	b.waitVisible("#live-data")
	assert.True(t, eval[bool](b, `document.querySelector("#live-down").hidden`))

	// The AMI link goes down, then up.
	setLink := func(up bool, lastError string) {
		fake.edit(func(h, _ map[string]any) {
			h["healthy"] = up
			ami := h["ami"].(map[string]any)
			ami["up"], ami["last_error"], ami["since"] = up, lastError, time.Now().UTC().Format(time.RFC3339Nano)
		})
	}
	setLink(false, "ami: read tcp 127.0.0.1:5038: connection reset by peer")
	b.waitText("#link-state", "The AMI link is down.")
	assert.Contains(t, b.text("#link-error"), "connection reset by peer")
	assert.True(t, eval[bool](b, `document.querySelector("#link-state").classList.contains("link-down")`))
	setLink(true, "ami: read tcp 127.0.0.1:5038: connection reset by peer")
	b.waitText("#link-state", "The AMI link is up.")

	// A call centre at work, for the picture.
	fake.edit(func(h, st map[string]any) {
		configOf(h)["summary"] = "3 seats, 3 operators, 2 services (2 queue, 0 outbound)"
		st["seats"] = []any{
			liveSeatJSON("alice", "00:11:22:33:44:01", "SIP/201", "", "sales-q"),
			liveSeatJSON("bob", "00:11:22:33:44:02", "SIP/202", "lunch", "sales-q", "support-q"),
			liveSeatJSON("carol", "00:11:22:33:44:03", "SIP/203", "", "support-q"),
		}
		st["calls"] = []any{map[string]any{"service": "Sales", "calls": 3, "answered": 2}, map[string]any{"service": "Support", "calls": 1, "answered": 1}}
	})
	b.waitText("#seats-count", "3")
	assert.Contains(t, b.text("#seats"), "Paused: lunch")
	assert.True(t, eval[bool](b, `window.astctiSamePage === true`), "never reloaded")
	b.screenshot("live")

	// On a tablet held upright, the page does not scroll sideways: only
	// the tables may, inside their frame.
	b.run(chromedp.EmulateViewport(768, 1024, chromedp.EmulatePortrait))
	assert.True(t, eval[bool](b, `document.documentElement.scrollWidth <= window.innerWidth`),
		"page %d px wide in a %d px window", eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `window.innerWidth`))
	b.run(chromedp.EmulateReset())
	b.checkListening()

	// The session ends (a timeout, a user disabled): the page says so and
	// stops asking. The browser logs the 401 of /live.json, and only it.
	e.h.sessions.endUser(testUser)
	b.waitVisible("#live-session")
	assert.Contains(t, b.text("#live-session"), "Your session has ended")
	assert.True(t, eval[bool](b, `document.querySelector("#live-data").hidden`))
	b.waitFor("the browser to log the 401", func() bool { return len(b.problems.list()) > 0 })
	for _, p := range b.problems.take() {
		assert.Regexp(t, `/live\.json.*401|401.*/live\.json`, p)
	}
}

// liveSeatJSON is a seat of /status, paused with reason unless it is "".
func liveSeatJSON(op, mac, iface, reason string, queues ...string) map[string]any {
	qs := make([]any, len(queues))
	for i, q := range queues {
		qs[i] = map[string]any{"queue": q, "state": "confirmed"}
	}
	s := map[string]any{"seat": 1, "remote": "192.0.2.10", "operator": op, "mac": mac, "interface": iface, "paused": reason != "", "queues": qs}
	if reason != "" {
		s["pause_reason"], s["paused_since"] = reason, time.Now().Add(-7*time.Minute).UTC().Format(time.RFC3339)
	}
	return s
}

// waitText waits until the element sel shows text containing want: the
// page's script updated it.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s to show %q", sel, want), func() bool { return strings.Contains(b.text(sel), want) })
}

// waitVisible waits until the element sel is not hidden.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.waitFor(sel+" to be shown", func() bool { return eval[bool](b, fmt.Sprintf(`!document.querySelector(%q).hidden`, sel)) })
}

func (b *browser) waitFor(what string, cond func() bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageWait)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			require.Failf(b.t, "waited too long", "waited %v for %s (on %s)", pageWait, what, b.path())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
