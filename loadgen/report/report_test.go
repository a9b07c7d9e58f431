package report

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func ms1(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// durations returns n ms, n-1 ms, … 1 ms: descending, so that the tests
// fail if Quantile does not sort.
func durations(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = ms1(n - i) // descending: Quantile must sort
	}
	return out
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		lat  []time.Duration
		q    float64
		want time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one sample any q", []time.Duration{ms1(7)}, 0.999, ms1(7)},
		{"q=0 is the minimum", durations(10), 0, ms1(1)},
		{"q=1 is the maximum", durations(10), 1, ms1(10)},
		{"median of 10 is the 5th", durations(10), 0.5, ms1(5)},
		{"median of 11 is the 6th", durations(11), 0.5, ms1(6)},
		{"p90 of 10 is the 9th", durations(10), 0.9, ms1(9)},
		{"just above a rank takes the next", durations(10), 0.91, ms1(10)},
		{"p99 of 100 is the 99th", durations(100), 0.99, ms1(99)},
		{"p99.9 of 1000 is the 999th", durations(1000), 0.999, ms1(999)},
		{"p99.9 of 100 is the maximum", durations(100), 0.999, ms1(100)},
		{"q below 0 is clamped", durations(10), -1, ms1(1)},
		{"q above 1 is clamped", durations(10), 2, ms1(10)},
		{"NaN q", durations(10), math.NaN(), 0},
		{"duplicates", []time.Duration{ms1(3), ms1(1), ms1(3), ms1(3)}, 0.5, ms1(3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.lat)
			got := Quantile(tc.lat, tc.q)
			assert.Equal(t, tc.want, got, "Quantile(%v, %v)", tc.lat, tc.q)
			assert.Equal(t, before, tc.lat, "Quantile modified its input")
		})
	}
}

func TestSummary(t *testing.T) {
	samples := func(lat ...time.Duration) []Sample {
		out := make([]Sample, len(lat))
		for i, l := range lat {
			out[i] = Sample{At: time.Duration(i) * time.Second, Latency: l}
		}
		return out
	}
	tests := []struct {
		name string
		run  Run
		want []Param
	}{
		{"no samples", Run{Name: "empty"}, []Param{
			{"p50", "-"}, {"p90", "-"}, {"p99", "-"}, {"p99.9", "-"}, {"max", "-"}, {"count", "0"},
		}},
		{"one sample", Run{Latencies: samples(1234567 * time.Nanosecond)}, []Param{
			{"p50", "1.235 ms"}, {"p90", "1.235 ms"}, {"p99", "1.235 ms"}, {"p99.9", "1.235 ms"}, {"max", "1.235 ms"}, {"count", "1"},
		}},
		{"ten samples out of order", Run{Latencies: samples(ms1(10), ms1(1), ms1(9), ms1(2), ms1(8), ms1(3), ms1(7), ms1(4), ms1(6), ms1(5))}, []Param{
			{"p50", "5.000 ms"}, {"p90", "9.000 ms"}, {"p99", "10.000 ms"}, {"p99.9", "10.000 ms"}, {"max", "10.000 ms"}, {"count", "10"},
		}},
		{"sub-microsecond", Run{Latencies: samples(400 * time.Nanosecond)}, []Param{
			{"p50", "0.000 ms"}, {"p90", "0.000 ms"}, {"p99", "0.000 ms"}, {"p99.9", "0.000 ms"}, {"max", "0.000 ms"}, {"count", "1"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Summary(&tc.run))
		})
	}
}

// TestSummaryAgreesWithQuantile checks that the quantiles Summary computes
// on one sorted copy are those Quantile computes one by one.
func TestSummaryAgreesWithQuantile(t *testing.T) {
	r := sampleData().Runs[1]
	lat := make([]time.Duration, len(r.Latencies))
	for i, s := range r.Latencies {
		lat[i] = s.Latency
	}
	sum := Summary(&r)
	for i, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		assert.Equal(t, formatMS(Quantile(lat, q)), sum[i].Value, "Summary %s", sum[i].Name)
	}
}
