package fakeami

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
	"github.com/astcti/astcti/scenarios"
)

// recorder is a Sink that keeps every frame with the (model) time it came.
type recorder struct {
	mu     sync.Mutex
	clock  Clock
	frames []*ami.Frame
	at     []time.Time
}

func (r *recorder) Send(f *ami.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, f.Clone())
	if r.clock != nil {
		r.at = append(r.at, r.clock.Now())
	}
}

func (r *recorder) all() []*ami.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*ami.Frame(nil), r.frames...)
}

// find returns the frames that are the event name and have all the given
// key/value pairs.
func (r *recorder) find(name string, kv ...string) []*ami.Frame {
	var out []*ami.Frame
	for _, f := range r.all() {
		if f.Event() != name && !(strings.HasPrefix(name, "Response:") && f.Response() == name[9:]) {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if f.Get(kv[i]) != kv[i+1] {
				ok = false
			}
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames, r.at = nil, nil
}

// testPBX is a PBX on a manual clock with a recorder attached, started.
type testPBX struct {
	*PBX
	clock *ManualClock
	rec   *recorder
}

var testEpoch = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

func newTestPBX(t testing.TB, d Dialect, sc *scenarios.Scenario) *testPBX {
	t.Helper()
	clock := NewManualClock(testEpoch)
	p, err := NewPBX(Options{Dialect: d, Scenario: sc, Seed: 1, Clock: clock, PhoneContext: "phones-in"})
	require.NoError(t, err)
	rec := &recorder{clock: clock}
	p.Attach(rec)
	startStepped(t, p)
	return &testPBX{PBX: p, clock: clock, rec: rec}
}

// startStepped starts p's model without its Run loop, so that the test
// drives its clock, and stops it when the test ends.
func startStepped(tb testing.TB, p *PBX) {
	p.mu.Lock()
	p.startLocked()
	p.mu.Unlock()
	tb.Cleanup(func() {
		p.mu.Lock()
		p.stopLocked()
		p.mu.Unlock()
	})
}

// do performs an action and returns what the session got back directly.
func (tp *testPBX) do(action string, kv ...string) []*ami.Frame {
	r := &recorder{}
	tp.Do(r, ami.NewAction(action, kv...))
	return r.all()
}

func (tp *testPBX) advance(d time.Duration) { tp.clock.Advance(d) }

// --- dialplan and queue configuration, read from a trace folder's README ---

var (
	extenRE = regexp.MustCompile(`^exten\s*=>\s*([^,]+),\s*([^,]+),\s*(.*)$`)
	sameRE  = regexp.MustCompile(`^same\s*=>\s*([^,]+),\s*(.*)$`)
)

// codeBlocks returns the fenced blocks that follow a heading containing
// name in a README.
func codeBlocks(readme, name string) []string {
	var out []string
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "#") || !strings.Contains(lines[i], name) {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				var b strings.Builder
				for k := j + 1; k < len(lines) && !strings.HasPrefix(lines[k], "```"); k++ {
					b.WriteString(lines[k])
					b.WriteByte('\n')
				}
				out = append(out, b.String())
				break
			}
			if strings.HasPrefix(lines[j], "#") {
				break
			}
		}
	}
	return out
}

// parseDialplan reads extensions.conf text: [context], exten => x,p,App(args)
// and same => n,App(args). Arguments split on "," or "|".
func parseDialplan(t testing.TB, text string, into map[string]*scenarios.Context) {
	t.Helper()
	var ctx *scenarios.Context
	var last string
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "[") {
			name := strings.Trim(l, "[]")
			if name == "general" || name == "globals" {
				ctx = nil
				continue
			}
			if into[name] == nil {
				into[name] = &scenarios.Context{Name: name, Extens: map[string][]scenarios.Step{}}
			}
			ctx = into[name]
			continue
		}
		if ctx == nil {
			continue
		}
		var exten, prio, rest string
		if m := extenRE.FindStringSubmatch(l); m != nil {
			exten, prio, rest = strings.TrimSpace(m[1]), strings.TrimSpace(m[2]), m[3]
		} else if m := sameRE.FindStringSubmatch(l); m != nil {
			exten, prio, rest = last, strings.TrimSpace(m[1]), m[2]
		} else {
			continue
		}
		if _, ok := ctx.Extens[exten]; !ok {
			ctx.Order = append(ctx.Order, exten)
		}
		last = exten
		steps := ctx.Extens[exten]
		n := len(steps) + 1
		if prio != "n" {
			var err error
			n, err = strconv.Atoi(prio)
			require.NoError(t, err, "line %q", l)
		}
		app, args := rest, ""
		if i := strings.IndexByte(rest, '('); i >= 0 && strings.HasSuffix(rest, ")") {
			app, args = rest[:i], rest[i+1:len(rest)-1]
		}
		var argv []string
		if args != "" {
			argv = splitArgs(args)
		}
		ctx.Extens[exten] = append(steps, scenarios.Step{Priority: n, App: app, Args: argv, Line: line})
	}
}

// splitArgs splits application arguments on "," or "|" outside
// parentheses, keeping empty arguments as Asterisk does.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',', '|':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseQueues reads queues.conf text.
func parseQueues(t testing.TB, text string, into map[string]*scenarios.Queue) {
	t.Helper()
	var q *scenarios.Queue
	for _, l := range strings.Split(text, "\n") {
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "[") {
			name := strings.Trim(l, "[]")
			q = nil
			if name != "general" {
				q = &scenarios.Queue{Name: name, Strategy: "ringall", Timeout: 15 * time.Second, Retry: 5 * time.Second}
				into[name] = q
			}
			continue
		}
		if q == nil {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		secs := func() time.Duration { n, _ := strconv.Atoi(v); return time.Duration(n) * time.Second }
		switch k {
		case "strategy":
			q.Strategy = v
		case "timeout":
			q.Timeout = secs()
		case "retry":
			q.Retry = secs()
		case "wrapuptime":
			q.WrapupTime = secs()
		case "ringinuse":
			q.RingInUse = v == "yes"
		}
	}
}

// traceConfig builds the scenario of a trace folder from its README.
func traceConfig(t testing.TB, folder string) *scenarios.Scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(amitrace.Root(), folder, "README.md"))
	require.NoError(t, err)
	sc := &scenarios.Scenario{Name: folder, Contexts: map[string]*scenarios.Context{},
		Queues: map[string]*scenarios.Queue{}, Phones: map[string]*scenarios.Phone{}}
	for _, block := range codeBlocks(string(b), "extensions.conf") {
		parseDialplan(t, block, sc.Contexts)
	}
	for _, block := range codeBlocks(string(b), "queues.conf") {
		parseQueues(t, block, sc.Queues)
	}
	require.NotEmpty(t, sc.Contexts, "no dialplan in %s/README.md", folder)
	return sc
}

// --- traces with timing ---

type timedFrame2 struct {
	at time.Duration
	f  *ami.Frame
}

// readTimed parses a recorded stream (received or sent) and gives every
// message the time of the recorded read or write that completed it.
func readTimed(t testing.TB, data []byte, tl []amitrace.Chunk, dir string, banner bool) []timedFrame2 {
	t.Helper()
	r := ami.NewReader(bytes.NewReader(data))
	off := 0
	if banner {
		_, err := r.ReadBanner()
		require.NoError(t, err)
		off = bytes.IndexByte(data, '\n') + 1
	}
	var out []timedFrame2
	var buf []byte
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		f := m.Frame()
		buf, _ = ami.AppendFrame(buf[:0], f)
		off += len(buf)
		var at time.Duration
		for _, c := range tl {
			if c.Dir == dir && c.Off+c.Len >= off {
				at = c.At
				break
			}
		}
		out = append(out, timedFrame2{at: at, f: f})
	}
	return out
}
