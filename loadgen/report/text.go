package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes d as plain text for a terminal: a heading, the runs side
// by side (their counters, then their latency summary), the further tables,
// the run's parameters and the machine. Columns are aligned with spaces.
// It returns the first error of w.
func WriteText(w io.Writer, d *Data) error {
	ew := &errWriter{w: w}
	ew.printf("%s\n", oneLine(titleOf(d)))
	ew.printf("started %s, ran %s\n", startedText(d.Started), d.Duration.Round(time.Millisecond))
	writeTextTable(ew, runsTable(d.Runs))
	for _, t := range normalTables(d.Tables) {
		writeTextTable(ew, t)
	}
	writeTextTable(ew, paramsTable("Parameters", d.Params))
	writeTextTable(ew, paramsTable("Machine", d.Machine))
	return ew.err
}

// writeTextTable writes a blank line, t's title and its header and rows in
// aligned columns, or "(none)" under the title when t has no rows.
func writeTextTable(ew *errWriter, t Table) {
	ew.printf("\n%s\n", oneLine(t.Title))
	if len(t.Rows) == 0 {
		ew.printf("  (none)\n")
		return
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	if len(t.Header) > 0 {
		writeTextRow(tw, t.Header)
	}
	for _, r := range t.Rows {
		writeTextRow(tw, r)
	}
	// Flush writes to ew, which keeps the error for WriteText to return.
	_ = tw.Flush()
}

func writeTextRow(w io.Writer, cells []string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = oneLine(c)
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(clean, "\t"))
}

// oneLine replaces the tabs and line breaks of s, which would break the
// alignment of a column or a table, by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func titleOf(d *Data) string {
	if d.Title == "" {
		return "Load test"
	}
	return d.Title
}

func startedText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// runsTable puts the runs side by side, one column each: one row per
// counter, in the order the counters first appear in the runs ("-" for a
// run without it), then the latency summary of each run.
func runsTable(runs []Run) Table {
	t := Table{Title: "Runs", Header: []string{""}}
	for _, r := range runs {
		t.Header = append(t.Header, r.Name)
	}
	for _, name := range counterNames(runs) {
		row := []string{name}
		for _, r := range runs {
			row = append(row, paramValue(r.Counters, name))
		}
		t.Rows = append(t.Rows, row)
	}
	return appendSummaries(t, runs)
}

// appendSummaries adds one row per entry of Summary to t.
func appendSummaries(t Table, runs []Run) Table {
	if len(runs) == 0 {
		return t
	}
	sums := make([][]Param, len(runs))
	for i := range runs {
		sums[i] = Summary(&runs[i])
	}
	for j, p := range sums[0] {
		row := []string{"latency " + p.Name}
		for i := range runs {
			row = append(row, sums[i][j].Value)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// counterNames returns the names of the counters of runs, each once, in the
// order they first appear.
func counterNames(runs []Run) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, c := range r.Counters {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	return names
}

// paramValue returns the value of the first parameter called name, or "-".
func paramValue(ps []Param, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return "-"
}

// paramsTable is ps as a two-column table without a header.
func paramsTable(title string, ps []Param) Table {
	t := Table{Title: title}
	for _, p := range ps {
		t.Rows = append(t.Rows, []string{p.Name, p.Value})
	}
	return t
}
