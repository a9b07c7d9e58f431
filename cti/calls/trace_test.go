package calls

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// testVars are the variables every test service declares. A call's data
// holds only those the dialplan set, so one list serves every trace.
var testVars = []string{"calldata", "customer_id", "ordernum", "order"}

// traceCatalog holds the services of the recorded dialplans (the READMEs
// of testdata/ami-traces): the non-queue contexts astcti-service and
// astcti-service-busy, and one queue service per queue. The three bench
// queues share the context astcti-bench-service. Service names differ from
// contexts and queues on purpose.
func traceCatalog() *fakeCatalog {
	return newCatalog(
		Service{Name: "Service", Context: "astcti-service", Variables: testVars},
		Service{Name: "Busy service", Context: "astcti-service-busy", Variables: testVars},
		Service{Name: "Queue", Context: "astcti-queue-service", Queue: "astcti-queue", Variables: testVars},
		Service{Name: "Queue RIU", Context: "astcti-queue-service-riu", Queue: "astcti-queue-riu", Variables: testVars},
		Service{Name: "Bench 1", Context: "astcti-bench-service", Queue: "astcti-bench-1", Variables: testVars},
		Service{Name: "Bench 2", Context: "astcti-bench-service", Queue: "astcti-bench-2", Variables: testVars},
		Service{Name: "Bench 3", Context: "astcti-bench-service", Queue: "astcti-bench-3", Variables: testVars},
	)
}

// fakeCatalog is the test's Catalog.
type fakeCatalog struct {
	byContext map[string]Service
	byQueue   map[string]Service
}

func newCatalog(svcs ...Service) *fakeCatalog {
	c := &fakeCatalog{byContext: map[string]Service{}, byQueue: map[string]Service{}}
	for _, s := range svcs {
		if s.Queue == "" {
			c.byContext[s.Context] = s
		} else if _, dup := c.byQueue[s.Queue]; !dup {
			c.byQueue[s.Queue] = s
		}
	}
	return c
}

func (c *fakeCatalog) ServiceByContext(ctx string) (Service, bool) {
	s, ok := c.byContext[ctx]
	return s, ok
}
func (c *fakeCatalog) ServiceByQueue(q string) (Service, bool) { s, ok := c.byQueue[q]; return s, ok }

func (c *fakeCatalog) QueueServicesInContext(ctx string) []Service {
	var out []Service
	for _, s := range c.byQueue {
		if s.Context == ctx {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// readFrames returns the frames of a recorded stream, in order.
func readFrames(tb testing.TB, data []byte) []*ami.Frame {
	tb.Helper()
	r := ami.NewReader(bytes.NewReader(data))
	_, err := r.ReadBanner()
	require.NoError(tb, err)
	var out []*ami.Frame
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(tb, err)
		out = append(out, m.Frame())
	}
}

// loadTrace returns the received bytes of a recorded trace.
func loadTrace(tb testing.TB, set, name string) []byte {
	tb.Helper()
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), set, name+".ami"))
	require.NoError(tb, err)
	return tr.Received
}

// expectLine renders a Ring or Link change as EXPECTED.md writes it.
func expectLine(ch Change) string {
	var b strings.Builder
	svc := ch.Call.Queue
	if svc == "" {
		svc = ch.Call.Context
	}
	fmt.Fprintf(&b, "%s %s callerid=%s service=%s", ch.Kind, ch.Interface, ch.Call.CallerIDNum, svc)
	for _, v := range ch.Call.Data {
		fmt.Fprintf(&b, " %s=%s", v.Name, v.Value)
	}
	return b.String()
}

// parseExpected reads EXPECTED.md: "## set/name.ami" headings, each followed
// by Ring/Link lines or "(no Ring, no Link)".
func parseExpected(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(amitrace.Root(), "EXPECTED.md"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			cur = strings.TrimSuffix(strings.TrimPrefix(line, "## "), ".ami")
			require.NotContains(t, out, cur, "EXPECTED.md: %s twice", cur)
			out[cur] = []string{}
		case cur == "" || line == "":
		case line == "(no Ring, no Link)":
		case strings.HasPrefix(line, "Ring ") || strings.HasPrefix(line, "Link "):
			out[cur] = append(out[cur], strings.Join(strings.Fields(line), " "))
		default:
			t.Fatalf("EXPECTED.md, section %s: unexpected line %q", cur, line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// traceResult is what one trace did to a fresh Tracker.
type traceResult struct {
	changes []Change
	tracker *Tracker
}

func runTrace(tb testing.TB, path string) traceResult {
	tb.Helper()
	tr, err := amitrace.Load(path)
	require.NoError(tb, err)
	tk := NewTracker(traceCatalog())
	var all []Change
	live := map[string]bool{}
	for _, f := range readFrames(tb, tr.Received) {
		all = append(all, tk.Apply(f)...)
		if t, ok := tb.(*testing.T); ok {
			model(f, live)
			checkInvariants(t, tk, live)
		}
	}
	return traceResult{changes: all, tracker: tk}
}

// TestTraces feeds every recorded trace to a tracker and holds its Ring and
// Link changes to EXPECTED.md, line for line.
func TestTraces(t *testing.T) {
	expected := parseExpected(t)
	paths, err := amitrace.All()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".ami")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := expected[name]
			require.True(t, ok, "EXPECTED.md has no section for %s", name)
			res := runTrace(t, path)

			var got []string
			for _, ch := range res.changes {
				if ch.Kind != Hangup {
					got = append(got, expectLine(ch))
				}
			}
			if d := diffLines(want, got); d != "" {
				t.Errorf("Ring and Link changes differ from EXPECTED.md (-want +got):\n%s", d)
			}

			checkHangups(t, res.changes)
			assert.Zero(t, res.tracker.Len(), "live channel objects after the trace")
			for _, ch := range res.changes {
				assert.NotEqual(t, "SIP/trunk", ch.Interface, "the trunk is no seat: %+v", ch)
				assert.NotEmpty(t, ch.Call.Uniqueid, "%+v", ch)
				assert.NotEmpty(t, ch.Call.Channel, "%+v", ch)
				assert.Equal(t, InterfaceOf(ch.Call.Channel), ch.Interface)
			}
		})
	}
	for name := range expected {
		assert.True(t, seen[name], "EXPECTED.md names %s, which is not a trace", name)
	}
}

// checkHangups checks that every Hangup closes a leg that was told of
// (Ring or Link), once, and that every leg told of is closed.
func checkHangups(t *testing.T, changes []Change) {
	t.Helper()
	type leg struct{ iface, channel, uniqueid string }
	open := map[leg]bool{}
	closed := map[leg]bool{}
	for _, ch := range changes {
		l := leg{ch.Interface, ch.Call.Channel, ch.Call.Uniqueid}
		switch ch.Kind {
		case Ring, Link:
			assert.False(t, closed[l], "%s after the leg's Hangup: %+v", ch.Kind, ch)
			open[l] = true
		case Hangup:
			assert.True(t, open[l], "Hangup for a leg never told of: %+v", ch)
			assert.False(t, closed[l], "second Hangup: %+v", ch)
			closed[l] = true
		}
	}
	for l := range open {
		assert.True(t, closed[l], "no Hangup for %+v", l)
	}
}

// diffLines returns a line diff of want and got with a little context, or ""
// when they are equal.
func diffLines(want, got []string) string {
	// Longest common subsequence, fine for the few hundred lines here.
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		c    byte
		line string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			ops = append(ops, op{' ', want[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', got[j]})
			j++
		default:
			ops = append(ops, op{'-', want[i]})
			i++
		}
	}
	var b strings.Builder
	last := -10
	for k, o := range ops {
		if o.c == ' ' {
			continue
		}
		for c := max(k-2, last+1); c < k; c++ {
			if c > last+1 && b.Len() > 0 && c == max(k-2, last+1) {
				b.WriteString("  ...\n")
			}
			fmt.Fprintf(&b, "%c %s\n", ops[c].c, ops[c].line)
		}
		fmt.Fprintf(&b, "%c %s\n", o.c, o.line)
		last = k
	}
	return b.String()
}
