package configurator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/browsertest"
)

// Screen size of every test, so that screenshots do not depend on the
// machine: a laptop's.
const browserWidth, browserHeight = 1280, 800

// consoleProblems records what no page may cause: a console error or
// warning, an uncaught exception, a browser log entry at warning or error
// (a script refused by the Content-Security-Policy is one). The browser
// calls add on its reading goroutine, the test reads with list.
//
// A page answered with a deliberate 4xx (401 for a wrong password, 422
// for a refused form) makes Chromium log "Failed to load resource" for
// it: that entry is not a problem when the URL is the one of a page
// (a document) the browser loaded; the same entry for a stylesheet, a
// script or an icon is one.
type consoleProblems struct {
	mu    sync.Mutex
	seen  []string
	pages map[string]bool // URLs loaded as documents
}

func (p *consoleProblems) add(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.pages == nil {
				p.pages = map[string]bool{}
			}
			p.pages[ev.Response.URL] = true
		}
	case *log.EventEntryAdded:
		if ev.Entry.Source != log.EntrySourceNetwork || !p.isPage(ev.Entry.URL) {
			problem = browsertest.Problem(ev, true)
		}
	default:
		problem = browsertest.Problem(ev, true)
	}
	if problem != "" {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seen = append(p.seen, problem)
	}
}

// take removes and returns what was seen so far.
func (p *consoleProblems) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := p.seen
	p.seen = nil
	return seen
}

func (p *consoleProblems) isPage(url string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages[url]
}

func (p *consoleProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// browser is one headless Chromium on one configurator (an env), for one
// test: stopped at the test's end or after a minute, whichever is first.
type browser struct {
	t        testing.TB
	ctx      context.Context
	base     string // the configurator's URL, on 127.0.0.1
	problems *consoleProblems
}

func (e *env) browser() *browser {
	t := e.t
	t.Helper()
	exe := browsertest.Find(t, "to drive the configurator")
	bctx := browsertest.Start(t, exe, time.Minute,
		chromedp.WindowSize(browserWidth, browserHeight),
		// Every request stays on 127.0.0.1: no proxy, no call home.
		chromedp.ProxyServer("direct://"), chromedp.Flag("proxy-bypass-list", "*"))
	b := &browser{t: t, ctx: bctx, base: e.srv.URL, problems: &consoleProblems{}}
	require.NoError(t, chromedp.Do(bctx)) // starts the browser
	require.NoError(t, chromedp.Listen(bctx, b.problems.add))
	// Checked at the end of the test, first registered so run last but
	// before the browser stops.
	t.Cleanup(func() { assert.Empty(t, b.problems.list(), "the browser console during the test") })
	return b
}

// checkListening proves that the console is listened to: a warning
// written on purpose must be seen, and be the only thing seen so far. The
// events come on the browser's goroutine, hence the bounded wait.
func (b *browser) checkListening() {
	b.t.Helper()
	eval[bool](b, `(console.warn("canary"), true)`)
	var seen []string
	for i := 0; i < 500 && len(seen) == 0; i++ {
		seen = b.problems.take()
		if len(seen) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	assert.Equal(b.t, []string{`console.warning: "canary"`}, seen, "the console is listened to, and nothing else was logged")
}

// run runs actions, the test failing on the first error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

// loads runs actions that load a new page (a link followed, a form
// submitted, a key that navigates) and waits until that new page has run
// its script. The mark set on the old page tells the two apart.
func (b *browser) loads(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	eval[bool](b, `window.astctiOldPage = true`)
	b.run(actions...)
	// Not chromedp.Poll: the old page's context goes away under it. A
	// page that never comes (the action did nothing) fails the test
	// after pageWait rather than at the test's deadline.
	ctx, cancel := context.WithTimeout(b.ctx, pageWait)
	defer cancel()
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.astctiOldPage && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("the action loaded no new page within %v (still on %s, last error: %v)", pageWait, b.path(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pageWait bounds the wait for one page: generous, for a loaded machine.
const pageWait = 15 * time.Second

// open loads path of the configurator.
func (b *browser) open(path string) {
	b.t.Helper()
	b.loads(chromedp.Navigate(b.base + path))
}

// eval returns the value of the JavaScript expression js.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, "evaluating %s", js)
	return v
}

// text returns the text shown by the first element matching the CSS
// selector sel, "" when there is none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText.trim()`, sel))
}

// focused describes the element that has the focus, as
// "tag#id" and its text, for assertions that read well when they fail.
func (b *browser) focused() string {
	b.t.Helper()
	return eval[string](b, `(() => { const a = document.activeElement;
		const text = a.innerText.trim().split("\n")[0];
		return a.tagName.toLowerCase() + (a.id ? "#" + a.id : "") + (text ? " " + text : ""); })()`)
}

// dialogOpen reports whether a modal dialog is open, as the browser sees
// it (the open attribute and the modal state).
func (b *browser) dialogOpen() bool {
	b.t.Helper()
	return eval[bool](b, `(() => { const d = document.querySelector("dialog"); return !!d && d.open && d.matches(":modal"); })()`)
}

// path is the page's path and query.
func (b *browser) path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// login logs in through the login page's form.
func (b *browser) login(user, password string) {
	b.t.Helper()
	b.open("/login")
	b.loads(
		chromedp.SendKeys(chromedp.CSS("#userid"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
}

// fill replaces the value of the input sel with value, typed.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	clear := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, sel))
	return chromedp.Steps(
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := clear(ctx, t)
			return chromedp.Void{}, err
		},
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
}

// screenshot writes the browser's window as DIR/name.png when
// ASTCTI_SCREENSHOTS=DIR is set (docs/images/ when the pictures of
// docs/configurator.md are made again); a test run in CI leaves the
// tree alone.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("ASTCTI_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}
