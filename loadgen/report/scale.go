package report

import (
	"math"
	"strconv"
)

// num is a coordinate or a length in a chart, printed with one decimal. A
// NaN or infinite num prints as 0: whatever the input, no "NaN" or "Inf"
// reaches the SVG, where a browser would drop the element silently.
type num float64

func (n num) String() string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// scale maps the values [lo, hi] linearly onto the pixels [from, to].
// Values outside are clamped to the nearest end and NaN goes to lo, so
// that every mark stays inside its chart; a scale with hi ≤ lo maps
// everything to from.
type scale struct{ lo, hi, from, to float64 }

func (s scale) at(v float64) num {
	if !(s.hi > s.lo) || math.IsNaN(v) {
		return num(s.from)
	}
	v = min(max(v, s.lo), s.hi)
	return num(s.from + (v-s.lo)/(s.hi-s.lo)*(s.to-s.from))
}

// maxAxisTop bounds every value axis: far above any count, rate or
// latency a run can have, and low enough that the ticks above it cannot
// overflow to Inf. A larger value is drawn at the top of its chart.
const maxAxisTop = 1e18

// axisTicks returns the tick values of an axis from 0 up to at least top:
// about four steps of 1, 2 or 5 times a power of ten, the last one at or
// above top, and the number of decimals their labels need. A top that is
// not a positive number gives the axis [0, 1].
func axisTicks(top float64) (ticks []float64, decimals int) {
	if !(top > 0) {
		top = 1
	}
	top = min(top, maxAxisTop)
	step := niceStep(top / 4)
	n := int(math.Ceil(top/step - 1e-9))
	for i := range n + 1 {
		ticks = append(ticks, float64(i)*step)
	}
	return ticks, max(0, -int(math.Floor(math.Log10(step))))
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten that is
// at least raw (raw > 0).
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag*(1+1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// tickLabel formats an axis value with the given decimals, or in
// exponent form (5e+09) from a billion up, where digits stop being read.
func tickLabel(v float64, decimals int) string {
	if math.Abs(v) >= 1e9 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// latencyLabel formats a latency given in milliseconds with two significant
// digits in the unit that suits it: "250 ns", "3.2 µs", "1.6 ms", "2.5 s".
func latencyLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return sig2(v/1000) + " s"
	case a >= 1:
		return sig2(v) + " ms"
	case a >= 0.001:
		return sig2(v*1000) + " µs"
	default:
		return sig2(v*1e6) + " ns"
	}
}

// sig2 formats v rounded to two significant digits, without exponent or
// trailing zeros (1.6, 25, 250, 0.63) below a billion, with one above
// (1.8e+308); NaN and infinities give "0".
func sig2(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v == 0:
		return "0"
	case v < 0:
		return "-" + sig2(-v)
	case v >= 1e9:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	// Scale by an exact power of ten, multiplying or dividing so that the
	// rounded value is the double nearest its decimal form (999999.9999…
	// would otherwise print for 1e6).
	e := int(math.Floor(math.Log10(v))) - 1
	if e >= 0 {
		p := math.Pow10(e)
		return strconv.FormatFloat(math.Round(v/p)*p, 'f', -1, 64)
	}
	p := math.Pow10(-e)
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}

// countLabel formats a bucket count for the histogram's log axis: 1, 10,
// 100, 1k, 10k, … 1M.
func countLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
