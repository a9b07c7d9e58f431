package report

import (
	"bytes"
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chartKinds are the data-chart attributes of the charts of a run, in order.
var chartKinds = []string{"latency-histogram", "latency-over-time", "seats-confirmed", "calls-per-second"}

// xnode is any XML element, enough to walk the SVG that WriteHTML writes:
// the SVG of the page is XML, the page around it is not.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// find returns the descendants of n (n included) called name with the class
// class ("" for any).
func (n *xnode) find(name, class string) []*xnode {
	var out []*xnode
	if n.XMLName.Local == name && (class == "" || strings.Contains(" "+n.attr("class")+" ", " "+class+" ")) {
		out = append(out, n)
	}
	for i := range n.Nodes {
		out = append(out, n.Nodes[i].find(name, class)...)
	}
	return out
}

func (n *xnode) child(name string) string {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return c.Text
		}
	}
	return ""
}

func writePage(t *testing.T, d *Data) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, d))
	return b.String()
}

var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// charts parses every SVG of page.
func charts(t *testing.T, page string) []*xnode {
	t.Helper()
	var out []*xnode
	for _, s := range svgRE.FindAllString(page, -1) {
		var n xnode
		require.NoError(t, xml.Unmarshal([]byte(s), &n), "an SVG of the page is not XML:\n%s", s)
		out = append(out, &n)
	}
	return out
}

func TestWriteHTMLCharts(t *testing.T) {
	d := sampleData()
	page := writePage(t, d)
	svgs := charts(t, page)
	require.Len(t, svgs, 4*len(d.Runs))
	for i, svg := range svgs {
		run, kind := d.Runs[i/4], chartKinds[i%4]
		assert.Equal(t, kind, svg.attr("data-chart"), "chart %d", i)
		assert.Equal(t, "chart", svg.attr("class"))
		assert.Contains(t, svg.child("title"), run.Name, "chart %d has a <title> naming its run", i)
		assert.Equal(t, svg.child("title"), svg.attr("aria-label"))
		assert.NotEmpty(t, svg.child("desc"))
		assert.NotEmpty(t, svg.find("rect", "frame"), "chart %d has a frame", i)
		assert.NotEmpty(t, svg.find("text", ""), "chart %d has axis labels", i)
		assertInside(t, svg)
	}
	for r, run := range d.Runs {
		hist, latency, seats, calls := svgs[4*r], svgs[4*r+1], svgs[4*r+2], svgs[4*r+3]
		assert.Equal(t, len(run.Latencies), sumBarTips(t, hist), "%s: the bars hold every sample", run.Name)
		assert.Len(t, hist.find("line", "mark"), 3, "p50, p99 and p99.9 marks")
		paths := latency.find("path", "line")
		require.Len(t, paths, 2, "p99 and p50")
		assert.Equal(t, 30, pathPoints(paths[0]), "one point per 1 s interval")
		require.Len(t, seats.find("path", "line"), 1)
		assert.Equal(t, len(run.SeatsConfirmed), pathPoints(seats.find("path", "line")[0]))
		require.Len(t, calls.find("path", "line"), 1)
		assert.Equal(t, len(run.CallsPerSecond), pathPoints(calls.find("path", "line")[0]))
	}
}

// sumBarTips adds up the counts that the bars' tooltips ("lo – hi: n") give.
func sumBarTips(t *testing.T, svg *xnode) int {
	bars := svg.find("rect", "bar")
	require.NotEmpty(t, bars)
	total := 0
	for _, b := range bars {
		tip := b.child("title")
		n, err := strconv.Atoi(tip[strings.LastIndex(tip, " ")+1:])
		require.NoError(t, err, "bar tooltip %q", tip)
		total += n
	}
	return total
}

// pathPoints returns the number of points of a path's d: one per M or L.
func pathPoints(p *xnode) int {
	return strings.Count(p.attr("d"), "M") + strings.Count(p.attr("d"), "L")
}

// assertInside checks that every coordinate of svg is a number inside its
// viewBox: none is NaN, infinite or drawn off the chart.
func assertInside(t *testing.T, svg *xnode) {
	t.Helper()
	box := strings.Fields(svg.attr("viewBox"))
	require.Len(t, box, 4)
	w, _ := strconv.ParseFloat(box[2], 64)
	h, _ := strconv.ParseFloat(box[3], 64)
	check := func(what, s string, limit float64) {
		v, err := strconv.ParseFloat(s, 64)
		if assert.NoError(t, err, "%s %q", what, s) {
			assert.True(t, v >= 0 && v <= limit, "%s = %v outside [0, %v] in %s", what, v, limit, svg.attr("id"))
		}
	}
	for _, name := range []string{"line", "rect", "text", "circle"} {
		for _, el := range svg.find(name, "") {
			for _, a := range el.Attrs {
				switch a.Name.Local {
				case "x", "x1", "x2", "cx", "width":
					check(a.Name.Local, a.Value, w)
				case "y", "y1", "y2", "cy", "height":
					check(a.Name.Local, a.Value, h)
				}
			}
		}
	}
	for _, p := range svg.find("path", "") {
		for i, f := range strings.Fields(strings.NewReplacer("M", " ", "L", " ").Replace(p.attr("d"))) {
			check("path coordinate", f, []float64{w, h}[i%2])
		}
	}
}

func TestWriteHTMLEmptyAndOddRuns(t *testing.T) {
	d := sampleData()
	d.Runs[1] = Run{Name: "nothing happened"}
	d.Runs = append(d.Runs, Run{
		Name: "odd values",
		Latencies: []Sample{
			{At: -time.Second, Latency: -time.Millisecond},
			{At: time.Hour, Latency: time.Duration(math.MaxInt64)},
		},
		SeatsConfirmed: []Point{{-time.Second, math.NaN()}, {time.Second, math.Inf(1)}, {2 * time.Second, -5}},
		CallsPerSecond: []Point{{time.Second, math.MaxFloat64}},
	})
	page := writePage(t, d)
	for _, bad := range []string{"NaN", "Inf"} {
		assertAbsent(t, page, bad)
	}
	svgs := charts(t, page)
	require.Len(t, svgs, 12)
	for i, svg := range svgs[4:8] {
		assert.Equal(t, chartKinds[i], svg.attr("data-chart"), "an empty run still has its four charts")
		assert.Len(t, svg.find("text", "empty"), 1, "%s says it has no data", chartKinds[i])
		assert.Empty(t, svg.find("path", ""), "%s draws no line", chartKinds[i])
		assert.Empty(t, svg.find("rect", "bar"))
		assertInside(t, svg)
	}
	for _, svg := range svgs[8:] {
		assertInside(t, svg)
	}
	assert.Equal(t, 2, sumBarTips(t, svgs[8]), "a negative and the largest latency both counted")
}

func TestWriteHTMLEscapes(t *testing.T) {
	const evil = `<script>alert("x")</script> & 'quoted'`
	d := sampleData()
	d.Title = evil
	d.Runs[0].Name = evil
	d.Runs[0].Counters = append(d.Runs[0].Counters, Param{evil, evil})
	d.Params = []Param{{evil, evil}}
	d.Tables = []Table{{Title: evil, Header: []string{evil}, Rows: [][]string{{evil}}}}
	page := writePage(t, d)
	assertAbsent(t, page, "<script")
	assertAbsent(t, page, `alert("x")`)
	assert.Contains(t, page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quoted&#39;")
	svgs := charts(t, page)
	require.Len(t, svgs, 8, "the SVG still parses")
	assert.Contains(t, svgs[0].child("title"), evil, "the title reads back as the run's name")
}

func TestWriteHTMLIsSelfContained(t *testing.T) {
	page := writePage(t, sampleData())
	for _, external := range []string{"<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "http:", "https:", "//"} {
		assertAbsent(t, page, external)
	}
	assert.Contains(t, page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		assert.False(t, ids[m[1]], "id %q is unique", m[1])
		ids[m[1]] = true
	}
	links := regexp.MustCompile(` href="#([^"]+)"`).FindAllStringSubmatch(page, -1)
	assert.NotEmpty(t, links)
	for _, m := range links {
		assert.True(t, ids[m[1]], "link to #%s has a target", m[1])
	}
	for _, m := range regexp.MustCompile(`aria-(?:describedby|labelledby)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		assert.True(t, ids[m[1]], "aria reference %q has a target", m[1])
	}
}

// assertAbsent checks that page does not contain s, showing where it does
// rather than the whole page.
func assertAbsent(t *testing.T, page, s string) {
	t.Helper()
	if i := strings.Index(page, s); i >= 0 {
		t.Errorf("the page contains %q: …%s…", s, page[max(0, i-200):min(len(page), i+100)])
	}
}
