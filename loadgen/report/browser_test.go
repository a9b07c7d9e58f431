package report

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/browsertest"
)

// pageProblems records what the page must not cause: console errors,
// uncaught exceptions, browser log errors (a blocked load is one) and
// requests for anything but the file itself. The browser calls add on its
// reading goroutine, the test reads with list.
type pageProblems struct {
	mu   sync.Mutex
	page string // the file:// URL of the report
	seen []string
}

func (p *pageProblems) add(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request.URL != p.page {
			problem = "request: " + ev.Request.URL
		}
	default:
		problem = browsertest.Problem(ev, false)
	}
	if problem != "" {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seen = append(p.seen, problem)
	}
}

func (p *pageProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// renderedChart is what the page's script below reports of one SVG chart.
type renderedChart struct {
	Run    string  `json:"run"`
	Kind   string  `json:"kind"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Marks  int     `json:"marks"` // bars and lines with a non-empty box
}

// chartsScript lists every chart as the browser laid it out.
const chartsScript = `[...document.querySelectorAll('svg.chart')].map(svg => {
	const box = svg.getBoundingClientRect();
	const marks = [...svg.querySelectorAll('path, rect.bar')].filter(el => {
		const b = el.getBBox();
		return b.width > 0 || b.height > 0;
	});
	return {run: svg.closest('section.run').id, kind: svg.dataset.chart,
		width: box.width, height: box.height, marks: marks.length};
})`

// TestBrowserRendersReport opens a two-run report from a file in headless
// Chromium and checks what a person would see: four drawn charts per run,
// nothing loaded from anywhere, no console error, and the skip link
// working from the keyboard.
func TestBrowserRendersReport(t *testing.T) {
	exe := browsertest.Find(t, "to render the HTML report")
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, WriteHTML(f, sampleData()))
	require.NoError(t, f.Close())
	pageURL := (&url.URL{Scheme: "file", Path: file}).String()

	ctx := browsertest.Start(t, exe, time.Minute)
	problems := &pageProblems{page: pageURL}
	require.NoError(t, chromedp.Listen(ctx, problems.add))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL)))

	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]renderedChart](chartsScript))
	require.NoError(t, err)
	require.Len(t, got, 8, "four charts for each of the two runs")
	for i, c := range got {
		assert.Equal(t, fmt.Sprintf("run%d", i/4+1), c.Run, "chart %d", i)
		assert.Equal(t, chartKinds[i%4], c.Kind, "chart %d", i)
		assert.Greater(t, c.Width, 100.0, "%s %s is laid out", c.Run, c.Kind)
		assert.Greater(t, c.Height, 50.0, "%s %s is laid out", c.Run, c.Kind)
		assert.Positive(t, c.Marks, "%s %s draws its data", c.Run, c.Kind)
	}

	checkSkipLink(t, ctx)
	checkListening(t, ctx, problems)
}

// checkSkipLink presses Tab and Enter: the first stop must be the skip link
// and following it must move to the report.
func checkSkipLink(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t")))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`))
	require.NoError(t, err)
	assert.Equal(t, "Skip to the report", focused, "Tab reaches the skip link first")
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	require.NoError(t, err)
	assert.Equal(t, "#main", hash, "Enter on the skip link")
}

// checkListening asserts that the page caused no problem, after proving
// that the listener would have seen one: a console error written on
// purpose must be the only thing recorded.
func checkListening(t *testing.T, ctx context.Context, problems *pageProblems) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`console.error("canary")`))
	require.NoError(t, err)
	assert.Equal(t, []string{`console.error: "canary"`}, problems.list())
}
