package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Param is one named value: a flag of the run, a fact about the machine or a
// counter.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Sample is one notification delivered: when, since the run's start, and how
// long it took from the fake PBX's event to the seat reading its Link line.
type Sample struct{ At, Latency time.Duration }

// Point is one value of a series over time, At since the run's start.
type Point struct {
	At    time.Duration
	Value float64
}

// Table is a further table of the report (login storms, resources, the
// comparison of runs). Rows shorter than Header are padded with empty cells.
type Table struct {
	Title  string     `json:"title"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Run is what one approach measured under the same traffic.
type Run struct {
	Name           string   // "astcti (one AMI connection)" or "direct (one AMI connection per seat)"
	Latencies      []Sample // one per notification delivered
	SeatsConfirmed []Point  // seats logged in and confirmed in all their queues, over time
	CallsPerSecond []Point  // calls offered per second, over time
	Counters       []Param  // offered, answered, notified, lost, duplicated, misdelivered, …
}

// Data is everything a report shows.
type Data struct {
	Title    string
	Started  time.Time
	Duration time.Duration
	Machine  []Param // OS/arch, CPUs, Go version, hostname
	Params   []Param // the run's flags
	Runs     []Run
	Tables   []Table // further tables: login storms, resources, comparison
}

// Quantile returns the q-quantile of lat by the nearest-rank method: the
// smallest sample such that at least q of all samples are at or below it, so
// the answer is always one of the samples and p99.9 of 1,000 samples is their
// maximum. q is clamped to [0,1] (q=0 gives the minimum); it returns 0 when
// lat is empty or q is NaN. lat is not modified: Quantile sorts a copy, which
// costs O(n log n) per call; Summary sorts once for all its quantiles.
func Quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 || math.IsNaN(q) {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return nearestRank(s, q)
}

// nearestRank is Quantile on an already sorted, non-empty slice.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	q = min(max(q, 0), 1)
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summaryQuantiles are the quantiles every report shows, in order, with
// the name used in text (Summary) and the key used in JSON.
var summaryQuantiles = []struct {
	name, key string
	q         float64
}{
	{"p50", "p50_ms", 0.50},
	{"p90", "p90_ms", 0.90},
	{"p99", "p99_ms", 0.99},
	{"p99.9", "p999_ms", 0.999},
	{"max", "max_ms", 1},
}

// Summary returns the latency summary of r: p50, p90, p99, p99.9 and max in
// milliseconds with three decimals (e.g. "1.234 ms"), then the count of
// samples. With no samples every quantile is "-" and the count "0".
func Summary(r *Run) []Param {
	qs := latencyQuantiles(r.Latencies)
	out := make([]Param, 0, len(qs)+1)
	for i, sq := range summaryQuantiles {
		v := "-"
		if len(r.Latencies) > 0 {
			v = formatMS(qs[i])
		}
		out = append(out, Param{sq.name, v})
	}
	return append(out, Param{"count", fmt.Sprint(len(r.Latencies))})
}

// latencyQuantiles returns the summary quantiles of samples, in the order of
// summaryQuantiles, sorting one copy for all of them; all zero when empty.
func latencyQuantiles(samples []Sample) []time.Duration {
	out := make([]time.Duration, len(summaryQuantiles))
	if len(samples) == 0 {
		return out
	}
	s := make([]time.Duration, len(samples))
	for i, x := range samples {
		s[i] = x.Latency
	}
	slices.Sort(s)
	for i, sq := range summaryQuantiles {
		out[i] = nearestRank(s, sq.q)
	}
	return out
}

// ms converts d to float milliseconds, the unit of every latency the report
// writes.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func formatMS(d time.Duration) string { return fmt.Sprintf("%.3f ms", ms(d)) }

// errWriter keeps the first write error so that the writers can format
// freely and check once at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err == nil {
		_, ew.err = fmt.Fprintf(ew.w, format, args...)
	}
}

// Write lets a text/tabwriter write through ew; after the first error it
// drops p and reports success, as the error is returned once at the end.
func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err == nil {
		_, ew.err = ew.w.Write(p)
	}
	return len(p), nil
}
