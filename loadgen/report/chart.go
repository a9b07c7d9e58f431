package report

import "strings"

// The chart model: each chart is a handful of primitives (segments, bars,
// paths, dots, labels) laid out in Go, so that the HTML template only
// copies them into SVG elements and html/template escapes every string.

// The geometry of every chart, in SVG user units: the plot area leaves
// room for the y labels on the left, the legend on top and the x labels
// and axis title below.
const (
	chartW, chartH = 480, 260
	plotLeft       = 60
	plotRight      = chartW - 16
	plotTop        = 30
	plotBottom     = chartH - 44
)

// chart is one SVG chart. Kind is its data-chart attribute, the same for
// the charts of every run, and ID is unique in the page. Caption is what
// the page shows above it, under the run's heading; Title adds the run's
// name for a screen reader or a chart read on its own.
type chart struct {
	ID, Kind, Caption  string
	Title, Desc        string
	W, H               int
	Frame              box
	Grid, Ticks, Marks []segment
	Bars               []bar
	Paths              []path
	Dots               []dot
	Labels             []label
}

type box struct{ X, Y, W, H num }

type segment struct {
	X1, Y1, X2, Y2 num
	Class          string
}

type bar struct {
	X, Y, W, H num
	Tip        string // the bar's tooltip (an SVG <title>)
}

type path struct{ D, Class string }

type dot struct {
	X, Y  num
	Class string
}

type label struct {
	X, Y          num
	Anchor, Class string
	Text          string
}

func newChart(id, kind, caption, run string) *chart {
	return &chart{
		ID: id, Kind: kind, Caption: caption, Title: run + ": " + strings.ToLower(caption),
		W: chartW, H: chartH,
		Frame: box{plotLeft, plotTop, plotRight - plotLeft, plotBottom - plotTop},
	}
}

func (c *chart) text(x, y num, anchor, class, s string) {
	c.Labels = append(c.Labels, label{x, y, anchor, class, s})
}

// xTick adds a tick below the plot at x with its label.
func (c *chart) xTick(x num, text string) {
	c.Ticks = append(c.Ticks, segment{x, plotBottom, x, plotBottom + 4, "tick"})
	c.text(x, plotBottom+16, "middle", "", text)
}

// yTick adds a grid line across the plot at y with its label on the left.
func (c *chart) yTick(y num, text string) {
	c.Grid = append(c.Grid, segment{plotLeft, y, plotRight, y, "grid"})
	c.text(plotLeft-6, y+4, "end", "", text)
}

// axisTitles names the x axis below its labels and the y axis above the
// plot, where it needs no rotation.
func (c *chart) axisTitles(x, y string) {
	c.text((plotLeft+plotRight)/2, chartH-8, "middle", "axis-title", x)
	c.text(plotLeft-6, plotTop-12, "start", "axis-title", y)
}

// legend adds one entry per class on top of the plot, right-aligned: a
// short stroke drawn with the series' class, then its name.
func (c *chart) legend(names, classes []string) {
	x := num(plotRight - 70*len(names))
	for i, name := range names {
		c.Marks = append(c.Marks, segment{x, plotTop - 16, x + 18, plotTop - 16, classes[i]})
		c.text(x+22, plotTop-12, "start", "", name)
		x += 70
	}
}

// empty writes msg across the plot of a chart without data.
func (c *chart) empty(msg string) {
	c.text((plotLeft+plotRight)/2, (plotTop+plotBottom)/2, "middle", "empty", msg)
}
