// Package browsertest finds and starts the headless Chromium of the
// browser tests (loadgen/report's report, the web configurator), the same
// way for all: the browser is looked up on PATH; without one a test is
// skipped, saying what to install, unless ASTCTI_REQUIRE_BROWSER=1 (set by
// .ci/run once it has installed Debian's chromium) makes it a failure, so
// that CI can never pass by skipping.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Names are the executables tried, in order.
var Names = []string{"chromium", "chromium-browser", "google-chrome"}

// Find returns the path of a Chromium, or skips t when there is none
// (fails it under ASTCTI_REQUIRE_BROWSER=1). what says what the browser is
// for, in the message: "to render the HTML report".
func Find(t testing.TB, what string) string {
	t.Helper()
	for _, name := range Names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no browser on PATH (tried %s): install Debian's chromium %s", strings.Join(Names, ", "), what)
	if os.Getenv("ASTCTI_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + ", which ASTCTI_REQUIRE_BROWSER=1 requires")
	}
	t.Skip(msg)
	return ""
}

// Start starts exe headless for t, with opts added to chromedp's defaults,
// and returns its context: the browser stops at the end of t or after
// timeout, whichever comes first.
func Start(t testing.TB, exe string, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	all := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe))
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root, as CI runs.
		all = append(all, chromedp.NoSandbox)
	}
	all = append(all, opts...)
	actx, acancel := chromedp.NewExecAllocator(ctx, all...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// Problem returns what a browser event says went wrong in a page, or ""
// for an event that is no problem: a console error or assertion, an
// uncaught exception, a browser log entry at error (a load refused by the
// Content-Security-Policy is one); with warnings, console and log warnings
// too. A test listens with chromedp.Listen and fails on any.
func Problem(ev any, warnings bool) string {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch {
		case ev.Type == runtime.ConsoleAPICalledTypeError, ev.Type == runtime.ConsoleAPICalledTypeAssert,
			warnings && ev.Type == runtime.ConsoleAPICalledTypeWarning:
			return fmt.Sprintf("console.%s: %s", ev.Type, consoleArgs(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		problem := "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			problem += " " + ex.Description
		}
		return problem
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || warnings && ev.Entry.Level == log.EntryLevelWarning {
			return fmt.Sprintf("browser log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	}
	return ""
}

func consoleArgs(args []*runtime.RemoteObject) string {
	var s []string
	for _, a := range args {
		s = append(s, string(a.Value)+a.Description)
	}
	return strings.Join(s, " ")
}
