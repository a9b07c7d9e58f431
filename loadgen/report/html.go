package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var pageSource string

// pageTemplate is parsed once, when the package loads, so that a broken
// template fails every test rather than a report at the end of a long run.
var pageTemplate = template.Must(template.New("report").Parse(pageSource))

// page is what the HTML template shows.
type page struct {
	Title, Started, Duration string
	Summary, Params, Machine Table
	Runs                     []runSection
	Tables                   []Table
}

// runSection is the charts of one run, in a section with its own anchor.
type runSection struct {
	ID, Name string
	Charts   []chart
}

// WriteHTML writes d as one self-contained HTML page: the tables of
// WriteText and, for every run, four SVG charts (latency histogram, latency
// over time, seats confirmed over time, calls per second) drawn from the
// same bounded reductions as WriteJSON. The page loads nothing (its
// Content-Security-Policy forbids it) and needs no script to show the
// charts; every string of d is escaped by html/template. It returns the
// first error of w.
func WriteHTML(w io.Writer, d *Data) error {
	if err := pageTemplate.Execute(w, newPage(d)); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

func newPage(d *Data) *page {
	v := newView(d)
	ax := sharedAxes(v)
	p := &page{
		Title:    titleOf(d),
		Started:  startedText(d.Started),
		Duration: d.Duration.Round(time.Millisecond).String(),
		Summary:  runsTable(d.Runs),
		Params:   paramsTable("Parameters", d.Params),
		Machine:  paramsTable("Machine", d.Machine),
		Tables:   v.Tables,
	}
	for i, r := range v.Runs {
		id := fmt.Sprintf("run%d", i+1)
		p.Runs = append(p.Runs, runSection{id, r.Name, runCharts(v, i, ax, id)})
	}
	return p
}
