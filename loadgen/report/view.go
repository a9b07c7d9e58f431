package report

import (
	"math"
	"slices"
	"time"
)

// The bounds that keep the JSON and the charts small whatever the run's
// length or rate. A struct of options would let a caller change them, but a
// report must stay comparable with the next one, so they are constants.
const (
	// bucketsPerDecade log-spaced histogram buckets: each bucket is 26 %
	// wider than the previous, fine enough to see p99 move.
	bucketsPerDecade = 10
	// maxIntervals bounds the latency-over-time series: a run longer than
	// maxIntervals seconds gets wider intervals, in whole seconds.
	maxIntervals = 600
	// maxPoints bounds each SeatsConfirmed and CallsPerSecond series.
	maxPoints = 1000
	// schemaVersion is the "schema" of the JSON document; it changes only
	// when a key is renamed or removed or its meaning changes.
	schemaVersion = 1
)

// bucket is one histogram bucket: the samples with LoMS ≤ latency < HiMS.
type bucket struct {
	LoMS  float64 `json:"lo_ms"`
	HiMS  float64 `json:"hi_ms"`
	Count int     `json:"count"`
}

// interval is the latency of the notifications delivered in one interval of
// the run, starting AtSeconds after its start; intervals without any are
// left out.
type interval struct {
	AtSeconds float64 `json:"at_seconds"`
	Count     int     `json:"count"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
}

// timePoint is a Point in the JSON's units.
type timePoint struct {
	AtSeconds float64 `json:"at_seconds"`
	Value     float64 `json:"value"`
}

// runView is a Run reduced to bounded size: what the JSON holds and the
// charts draw.
type runView struct {
	Name            string      `json:"name"`
	Count           int         `json:"count"`
	P50MS           float64     `json:"p50_ms"`
	P90MS           float64     `json:"p90_ms"`
	P99MS           float64     `json:"p99_ms"`
	P999MS          float64     `json:"p999_ms"`
	MaxMS           float64     `json:"max_ms"`
	Counters        []Param     `json:"counters"`
	Histogram       []bucket    `json:"histogram"`
	LatencyOverTime []interval  `json:"latency_over_time"`
	SeatsConfirmed  []timePoint `json:"seats_confirmed"`
	CallsPerSecond  []timePoint `json:"calls_per_second"`
}

// view is a Data reduced to bounded size. Its JSON encoding is the document
// WriteJSON writes, so its keys are part of the package's API (doc.go lists
// them).
type view struct {
	Schema          int       `json:"schema"`
	Title           string    `json:"title"`
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	IntervalSeconds float64   `json:"interval_seconds"`
	Machine         []Param   `json:"machine"`
	Params          []Param   `json:"params"`
	Runs            []runView `json:"runs"`
	Tables          []Table   `json:"tables"`
}

// newView reduces d. Every slice of the result is non-nil so that the JSON
// has [] rather than null for "none".
func newView(d *Data) *view {
	iv := intervalFor(d)
	lo, hi := bucketRange(d.Runs)
	v := &view{
		Schema:          schemaVersion,
		Title:           d.Title,
		Started:         d.Started,
		DurationSeconds: d.Duration.Seconds(),
		IntervalSeconds: iv.Seconds(),
		Machine:         nonNil(d.Machine),
		Params:          nonNil(d.Params),
		Runs:            make([]runView, 0, len(d.Runs)),
		Tables:          normalTables(d.Tables),
	}
	for i := range d.Runs {
		v.Runs = append(v.Runs, newRunView(&d.Runs[i], iv, lo, hi))
	}
	return v
}

// newRunView reduces one run, with the latency intervals iv and the
// histogram buckets [lo, hi] shared by every run of the report.
func newRunView(r *Run, iv time.Duration, lo, hi int) runView {
	qs := latencyQuantiles(r.Latencies)
	return runView{
		Name:            r.Name,
		Count:           len(r.Latencies),
		P50MS:           ms(qs[0]),
		P90MS:           ms(qs[1]),
		P99MS:           ms(qs[2]),
		P999MS:          ms(qs[3]),
		MaxMS:           ms(qs[4]),
		Counters:        nonNil(r.Counters),
		Histogram:       histogram(r.Latencies, lo, hi),
		LatencyOverTime: overTime(r.Latencies, iv),
		SeatsConfirmed:  downsample(r.SeatsConfirmed),
		CallsPerSecond:  downsample(r.CallsPerSecond),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// normalTables returns copies of ts whose header and rows are non-nil and
// whose rows all have as many cells as the widest row or the header, so that
// readers of the JSON and the table writers need no special case.
func normalTables(ts []Table) []Table {
	out := make([]Table, 0, len(ts))
	for _, t := range ts {
		width := len(t.Header)
		for _, r := range t.Rows {
			width = max(width, len(r))
		}
		n := Table{Title: t.Title, Header: pad(t.Header, width), Rows: make([][]string, 0, len(t.Rows))}
		for _, r := range t.Rows {
			n.Rows = append(n.Rows, pad(r, width))
		}
		out = append(out, n)
	}
	return out
}

// pad returns a copy of cells with empty cells appended up to width; a nil
// or empty cells with width 0 gives an empty, non-nil slice.
func pad(cells []string, width int) []string {
	out := make([]string, width)
	copy(out, cells)
	return out
}

// intervalFor returns the width of the latency-over-time intervals: one
// second, or more whole seconds when the run (its Duration, or its last
// sample if later) is longer than maxIntervals seconds.
func intervalFor(d *Data) time.Duration {
	end := d.Duration
	for _, r := range d.Runs {
		for _, s := range r.Latencies {
			end = max(end, s.At)
		}
	}
	secs := math.Ceil(end.Seconds() / maxIntervals)
	return time.Duration(max(secs, 1)) * time.Second
}

// bucketIndex returns the log-spaced bucket of a latency: bucket k holds
// [bucketEdge(k), bucketEdge(k+1)) nanoseconds. Latencies under a
// nanosecond (clock steps back) go to bucket 0.
func bucketIndex(l time.Duration) int {
	if l <= 1 {
		return 0
	}
	k := int(math.Floor(math.Log10(float64(l)) * bucketsPerDecade))
	// Log10 is not exact at the edges (10^0.3 is irrational, 1000 may come
	// out as 2.9999…): settle on the bucket whose edges, as computed by
	// bucketEdge, hold l, so that lo_ms ≤ latency < hi_ms always holds.
	for k > 0 && bucketEdge(k) > float64(l) {
		k--
	}
	for bucketEdge(k+1) <= float64(l) {
		k++
	}
	return k
}

// bucketEdge is the lower edge of bucket k in nanoseconds.
func bucketEdge(k int) float64 { return math.Pow(10, float64(k)/bucketsPerDecade) }

// bucketEdgeMS is the lower edge of bucket k in milliseconds.
func bucketEdgeMS(k int) float64 { return bucketEdge(k) / float64(time.Millisecond) }

// bucketRange returns the buckets [lo, hi] that hold every sample of every
// run, so that the histograms of several runs share their buckets; hi < lo
// when there is no sample at all. The range is at most 190 buckets (1 ns to
// the largest Duration).
func bucketRange(runs []Run) (lo, hi int) {
	lo, hi = math.MaxInt, -1
	for _, r := range runs {
		for _, s := range r.Latencies {
			k := bucketIndex(s.Latency)
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	return lo, hi
}

// histogram counts samples into the buckets [lo, hi], keeping empty ones so
// that every run has the same buckets.
func histogram(samples []Sample, lo, hi int) []bucket {
	if hi < lo {
		return []bucket{}
	}
	out := make([]bucket, hi-lo+1)
	for i := range out {
		out[i].LoMS, out[i].HiMS = bucketEdgeMS(lo+i), bucketEdgeMS(lo+i+1)
	}
	for _, s := range samples {
		out[bucketIndex(s.Latency)-lo].Count++
	}
	return out
}

// overTime groups samples by the interval they were delivered in and returns
// the p50 and p99 of each non-empty interval, in time order. Samples before
// the run's start count in the first interval.
func overTime(samples []Sample, iv time.Duration) []interval {
	by := map[int64][]time.Duration{}
	for _, s := range samples {
		k := int64(max(s.At, 0) / iv)
		by[k] = append(by[k], s.Latency)
	}
	keys := make([]int64, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]interval, 0, len(keys))
	for _, k := range keys {
		lat := by[k]
		slices.Sort(lat)
		out = append(out, interval{
			AtSeconds: (time.Duration(k) * iv).Seconds(),
			Count:     len(lat),
			P50MS:     ms(nearestRank(lat, 0.5)),
			P99MS:     ms(nearestRank(lat, 0.99)),
		})
	}
	return out
}

// downsample returns at most maxPoints points: the series itself when short
// enough, else consecutive groups of points each replaced by one point at
// the group's last time with the group's mean value (so a rate keeps its
// average and a level its trend). Points whose value is NaN or infinite are
// left out: JSON cannot carry them and a chart cannot place them.
func downsample(ps []Point) []timePoint {
	ps = finite(ps)
	group := (len(ps) + maxPoints - 1) / maxPoints
	out := make([]timePoint, 0, min(len(ps), maxPoints))
	for i := 0; i < len(ps); i += group {
		g := ps[i:min(i+group, len(ps))]
		mean := 0.0
		for _, p := range g {
			mean += p.Value / float64(len(g)) // divided first: no overflow to Inf
		}
		out = append(out, timePoint{g[len(g)-1].At.Seconds(), mean})
	}
	return out
}

// finite returns the points of ps whose value is a finite number, without
// copying when they all are.
func finite(ps []Point) []Point {
	ok := func(p Point) bool { return !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) }
	if !slices.ContainsFunc(ps, func(p Point) bool { return !ok(p) }) {
		return ps
	}
	out := make([]Point, 0, len(ps))
	for _, p := range ps {
		if ok(p) {
			out = append(out, p)
		}
	}
	return out
}
