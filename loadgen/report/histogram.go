package report

import (
	"fmt"
	"math"
)

// histogramChart draws the latency histogram of a run: one bar per
// log-spaced bucket (the buckets are the same for every run), counts on a
// log axis so that the tail stays visible next to the bulk, and dashed
// markers at p50, p99 and p99.9.
func histogramChart(id string, rv *runView, ax axes) chart {
	c := newChart(id, "latency-histogram", "Latency histogram", rv.Name)
	n := len(rv.Histogram)
	xs := scale{0, float64(max(n, 1)), plotLeft, plotRight}
	ys := scale{0, float64(ax.countDecades), plotBottom, plotTop}
	c.countAxis(ys, ax.countDecades)
	c.bucketAxis(xs, rv.Histogram)
	c.axisTitles("latency (log scale)", "notifications (log scale)")
	for i, b := range rv.Histogram {
		if b.Count > 0 {
			c.bucketBar(xs, ys, i, b)
		}
	}
	c.Desc = fmt.Sprintf("%d notifications in %d log-spaced latency buckets", rv.Count, n)
	if rv.Count == 0 {
		c.empty("no notifications delivered")
		return *c
	}
	c.quantileMarks(xs, rv)
	c.Desc += fmt.Sprintf("; p50 %s, p99 %s, p99.9 %s, max %s",
		latencyLabel(rv.P50MS), latencyLabel(rv.P99MS), latencyLabel(rv.P999MS), latencyLabel(rv.MaxMS))
	return *c
}

// countAxis draws the log count axis: 1, 10, 100, … up to 10^decades. A
// count c sits at log10(1+c), so that 0 is the bottom of the plot and a
// single sample still shows as a bar.
func (c *chart) countAxis(ys scale, decades int) {
	for k := range decades + 1 {
		v := math.Pow(10, float64(k))
		c.yTick(ys.at(math.Log10(1+v)), countLabel(v))
	}
}

// bucketAxis labels bucket edges along the bottom: every edge when there
// are few buckets, else edges at round values (1, 2.5, 10, …) often enough
// to read the scale without the labels running into each other.
func (c *chart) bucketAxis(xs scale, hist []bucket) {
	if len(hist) == 0 {
		return
	}
	step := bucketTickStep(len(hist))
	k0 := int(math.Round(math.Log10(hist[0].LoMS*1e6) * bucketsPerDecade))
	for i := range len(hist) + 1 {
		if (k0+i)%step == 0 {
			c.xTick(xs.at(float64(i)), latencyLabel(bucketEdgeMS(k0+i)))
		}
	}
}

// bucketTickStep returns how many buckets apart the labelled edges are, a
// divisor of bucketsPerDecade so that decades (1 ms, 10 ms) are labelled.
func bucketTickStep(buckets int) int {
	switch {
	case buckets > 40:
		return 10
	case buckets > 15:
		return 5
	case buckets > 6:
		return 2
	default:
		return 1
	}
}

// bucketBar adds the bar of bucket i, one unit of xs wide less a gap.
func (c *chart) bucketBar(xs, ys scale, i int, b bucket) {
	x0, x1 := xs.at(float64(i)), xs.at(float64(i+1))
	y := ys.at(math.Log10(1 + float64(b.Count)))
	tip := fmt.Sprintf("%s – %s: %d", latencyLabel(b.LoMS), latencyLabel(b.HiMS), b.Count)
	c.Bars = append(c.Bars, bar{x0 + 0.5, y, max(x1-x0-1, 0.5), plotBottom - y, tip})
}

// quantileMarks adds a dashed vertical line at p50, p99 and p99.9, with
// labels staggered in height as the three are often close.
func (c *chart) quantileMarks(xs scale, rv *runView) {
	marks := []struct {
		name string
		ms   float64
	}{{"p50", rv.P50MS}, {"p99", rv.P99MS}, {"p99.9", rv.P999MS}}
	for i, m := range marks {
		// The position in buckets from the first edge; the latency is at
		// least the first edge, so the logarithm is finite.
		x := xs.at(math.Log10(m.ms/rv.Histogram[0].LoMS) * bucketsPerDecade)
		c.Marks = append(c.Marks, segment{x, plotTop, x, plotBottom, "mark"})
		anchor, dx := "start", num(3)
		if x > plotRight-60 {
			anchor, dx = "end", -3
		}
		c.text(x+dx, num(plotTop+10+11*i), anchor, "mark-label", m.name+" "+latencyLabel(m.ms))
	}
}
