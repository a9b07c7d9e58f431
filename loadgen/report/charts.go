package report

import (
	"fmt"
	"math"
	"strings"
)

// axis is the ticks of a value axis shared by the same chart of every run,
// so that two runs side by side compare at a glance.
type axis struct {
	ticks    []float64
	decimals int
}

func newAxis(top float64) axis {
	t, d := axisTicks(top)
	return axis{t, d}
}

func (a axis) top() float64 { return a.ticks[len(a.ticks)-1] }

// scale maps the axis onto the pixels [from, to].
func (a axis) scale(from, to float64) scale { return scale{0, a.top(), from, to} }

// axes are the axes shared by the runs of one report.
type axes struct {
	time, latency, seats, calls axis
	// countDecades is the height of the histograms' log count axis: the
	// largest bucket of any run is at most 10^countDecades.
	countDecades int
}

// sharedAxes sizes every axis to hold the data of all the runs of v.
func sharedAxes(v *view) axes {
	end, lat, seats, calls, count := v.DurationSeconds, 0.0, 0.0, 0.0, 0
	for _, r := range v.Runs {
		for _, iv := range r.LatencyOverTime {
			end, lat = max(end, iv.AtSeconds+v.IntervalSeconds), max(lat, iv.P99MS, iv.P50MS)
		}
		for _, p := range r.SeatsConfirmed {
			end, seats = max(end, p.AtSeconds), max(seats, p.Value)
		}
		for _, p := range r.CallsPerSecond {
			end, calls = max(end, p.AtSeconds), max(calls, p.Value)
		}
		for _, b := range r.Histogram {
			count = max(count, b.Count)
		}
	}
	decades := max(1, int(math.Ceil(math.Log10(float64(max(count, 1))))))
	return axes{newAxis(end), newAxis(lat), newAxis(seats), newAxis(calls), decades}
}

// runCharts returns the four charts of run i of v, their ids starting
// with prefix.
func runCharts(v *view, i int, ax axes, prefix string) []chart {
	rv := &v.Runs[i]
	id := prefix + "-"
	return []chart{
		histogramChart(id+"histogram", rv, ax),
		latencyOverTimeChart(id+"latency", rv, ax, v.IntervalSeconds),
		seriesChart(newChart(id+"seats", "seats-confirmed", "Seats logged in and confirmed", rv.Name), "seats", rv.SeatsConfirmed, ax.time, ax.seats),
		seriesChart(newChart(id+"calls", "calls-per-second", "Calls offered per second", rv.Name), "calls/s", rv.CallsPerSecond, ax.time, ax.calls),
	}
}

// timeAxis draws the shared time axis along the bottom of c.
func (c *chart) timeAxis(a axis) scale {
	xs := a.scale(plotLeft, plotRight)
	for _, t := range a.ticks {
		c.xTick(xs.at(t), tickLabel(t, a.decimals))
	}
	return xs
}

// valueAxis draws a linear value axis along the left of c.
func (c *chart) valueAxis(a axis) scale {
	ys := a.scale(plotBottom, plotTop)
	for _, t := range a.ticks {
		c.yTick(ys.at(t), tickLabel(t, a.decimals))
	}
	return ys
}

// series adds pts as a line of the given class. When gap > 0, two points
// further apart than gap seconds are not joined (no data in between); a
// point joined to none is drawn as a dot so that it stays visible.
func (c *chart) series(xs, ys scale, pts []timePoint, class string, gap float64) {
	var d strings.Builder
	for i, p := range pts {
		x, y := xs.at(p.AtSeconds), ys.at(p.Value)
		joinedBefore := i > 0 && !(gap > 0 && p.AtSeconds-pts[i-1].AtSeconds > gap)
		joinedAfter := i+1 < len(pts) && !(gap > 0 && pts[i+1].AtSeconds-p.AtSeconds > gap)
		switch {
		case joinedBefore:
			fmt.Fprintf(&d, " L%s %s", x, y)
		case joinedAfter:
			fmt.Fprintf(&d, " M%s %s", x, y)
		default:
			c.Dots = append(c.Dots, dot{x, y, class})
		}
	}
	if d.Len() > 0 {
		c.Paths = append(c.Paths, path{strings.TrimSpace(d.String()), class})
	}
}

// seriesChart draws one series over time, such as the seats confirmed or
// the calls per second.
func seriesChart(c *chart, unit string, pts []timePoint, t, v axis) chart {
	xs, ys := c.timeAxis(t), c.valueAxis(v)
	c.axisTitles("time since the start (s)", unit)
	c.series(xs, ys, pts, "line", 0)
	c.Desc = fmt.Sprintf("%s over time: %d points", unit, len(pts))
	if len(pts) == 0 {
		c.empty("no data")
	} else {
		c.Desc += fmt.Sprintf(", last value %s", sig2(pts[len(pts)-1].Value))
	}
	return *c
}

// latencyOverTimeChart draws the p50 and the p99 of each interval.
func latencyOverTimeChart(id string, rv *runView, ax axes, ivSeconds float64) chart {
	c := newChart(id, "latency-over-time", "Latency over time", rv.Name)
	xs, ys := c.timeAxis(ax.time), c.valueAxis(ax.latency)
	c.axisTitles("time since the start (s)", "latency (ms)")
	p50 := make([]timePoint, len(rv.LatencyOverTime))
	p99 := make([]timePoint, len(rv.LatencyOverTime))
	for i, iv := range rv.LatencyOverTime {
		p50[i] = timePoint{iv.AtSeconds, iv.P50MS}
		p99[i] = timePoint{iv.AtSeconds, iv.P99MS}
	}
	// An interval without notifications leaves a gap rather than a line
	// across it that would claim a latency nobody measured.
	gap := ivSeconds * 1.5
	c.series(xs, ys, p99, "line p99", gap)
	c.series(xs, ys, p50, "line p50", gap)
	c.legend([]string{"p50", "p99"}, []string{"line p50", "line p99"})
	c.Desc = fmt.Sprintf("p50 and p99 of the notifications delivered in each %s s interval: %d intervals", sig2(ivSeconds), len(p50))
	if len(p50) == 0 {
		c.empty("no notifications delivered")
	}
	return *c
}
