package report

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketIndexHoldsTheLatency(t *testing.T) {
	tests := []struct {
		name string
		lat  time.Duration
		want int
	}{
		{"negative goes to bucket 0", -5 * time.Millisecond, 0},
		{"zero", 0, 0},
		{"one nanosecond", 1, 0},
		{"exactly 1 µs is the first bucket of its decade", time.Microsecond, 30},
		{"just under 1 µs", time.Microsecond - 1, 29},
		{"exactly 1 ms", time.Millisecond, 60},
		{"exactly 10 ms", 10 * time.Millisecond, 70},
		{"exactly 1 s", time.Second, 90},
		{"2 ms", 2 * time.Millisecond, 63},
		{"the largest duration", time.Duration(math.MaxInt64), 189},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, bucketIndex(tc.lat), "bucketIndex(%v)", tc.lat)
		})
	}
}

// TestBucketEdgesAreExact walks the edges of every bucket, where the
// logarithm rounds either way, and checks that each latency falls in the
// bucket whose edges hold it.
func TestBucketEdgesAreExact(t *testing.T) {
	for k := 1; k < 189; k++ {
		edge := time.Duration(math.Ceil(bucketEdge(k)))
		for _, l := range []time.Duration{edge - 1, edge, edge + 1} {
			got := bucketIndex(l)
			if !(bucketEdge(got) <= float64(l) && float64(l) < bucketEdge(got+1)) {
				t.Fatalf("bucketIndex(%d) = %d, whose edges [%g, %g) do not hold it", l, got, bucketEdge(got), bucketEdge(got+1))
			}
		}
	}
}

func TestHistogramCountsEverySample(t *testing.T) {
	d := sampleData()
	lo, hi := bucketRange(d.Runs)
	require.LessOrEqual(t, lo, hi)
	for _, r := range d.Runs {
		h := histogram(r.Latencies, lo, hi)
		require.Len(t, h, hi-lo+1, "every run has the same buckets")
		total := 0
		for i, b := range h {
			total += b.Count
			assert.Less(t, b.LoMS, b.HiMS, "bucket %d", i)
			if i > 0 {
				assert.Equal(t, h[i-1].HiMS, b.LoMS, "bucket %d starts where %d ends", i, i-1)
			}
		}
		assert.Equal(t, len(r.Latencies), total, "%s: the buckets sum to the sample count", r.Name)
		for _, s := range r.Latencies {
			b := h[bucketIndex(s.Latency)-lo]
			assert.True(t, b.LoMS <= ms(s.Latency) && ms(s.Latency) < b.HiMS, "%v in [%g, %g)", s.Latency, b.LoMS, b.HiMS)
		}
	}
	assert.Empty(t, histogram(nil, math.MaxInt, -1), "no samples, no buckets")
}

func TestOverTime(t *testing.T) {
	var samples []Sample
	// 100 samples in second 0 (1..100 ms), none in second 1, 1 in second 2,
	// and one before the start, which counts in the first interval.
	for i := 1; i <= 100; i++ {
		samples = append(samples, Sample{At: time.Duration(i) * time.Millisecond, Latency: ms1(i)})
	}
	samples = append(samples, Sample{At: 2500 * time.Millisecond, Latency: ms1(3)}, Sample{At: -time.Second, Latency: ms1(200)})
	got := overTime(samples, time.Second)
	want := []interval{
		{AtSeconds: 0, Count: 101, P50MS: 51, P99MS: 100},
		{AtSeconds: 2, Count: 1, P50MS: 3, P99MS: 3},
	}
	assert.Equal(t, want, got)
	assert.Empty(t, overTime(nil, time.Second))
}

func TestIntervalFor(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		lastAt   time.Duration
		want     time.Duration
	}{
		{"empty", 0, -1, time.Second},
		{"30 s", 30 * time.Second, -1, time.Second},
		{"10 min is 600 intervals of 1 s", 10 * time.Minute, -1, time.Second},
		{"just over 10 min", 10*time.Minute + time.Second, -1, 2 * time.Second},
		{"1 h", time.Hour, -1, 6 * time.Second},
		{"a sample after the duration", 30 * time.Second, time.Hour, 6 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Data{Duration: tc.duration}
			if tc.lastAt >= 0 {
				d.Runs = []Run{{Latencies: []Sample{{At: tc.lastAt, Latency: 1}}}}
			}
			assert.Equal(t, tc.want, intervalFor(d))
		})
	}
}

func TestDownsample(t *testing.T) {
	series := func(n int, value func(i int) float64) []Point {
		out := make([]Point, n)
		for i := range out {
			out[i] = Point{At: time.Duration(i) * time.Second, Value: value(i)}
		}
		return out
	}
	t.Run("short series unchanged", func(t *testing.T) {
		got := downsample(series(3, func(i int) float64 { return float64(i * 10) }))
		assert.Equal(t, []timePoint{{0, 0}, {1, 10}, {2, 20}}, got)
	})
	t.Run("long series capped, mean kept", func(t *testing.T) {
		got := downsample(series(10*maxPoints+7, func(int) float64 { return 500 }))
		assert.LessOrEqual(t, len(got), maxPoints)
		for _, p := range got {
			assert.InDelta(t, 500, p.Value, 1e-9)
		}
		assert.Equal(t, float64(10*maxPoints+6), got[len(got)-1].AtSeconds, "the last point keeps the series' end")
	})
	t.Run("non-finite values left out", func(t *testing.T) {
		ps := []Point{{0, 1}, {time.Second, math.NaN()}, {2 * time.Second, math.Inf(1)}, {3 * time.Second, 4}}
		assert.Equal(t, []timePoint{{0, 1}, {3, 4}}, downsample(ps))
	})
	t.Run("huge values do not overflow", func(t *testing.T) {
		got := downsample(series(2*maxPoints, func(int) float64 { return math.MaxFloat64 }))
		for _, p := range got {
			assert.False(t, math.IsInf(p.Value, 0), "mean of MaxFloat64 values")
		}
	})
	t.Run("empty", func(t *testing.T) {
		assert.Equal(t, []timePoint{}, downsample(nil))
	})
}

func TestNormalTables(t *testing.T) {
	got := normalTables([]Table{
		{Title: "ragged", Header: []string{"a", "b"}, Rows: [][]string{{"1"}, {"1", "2", "3"}}},
		{Title: "empty"},
	})
	want := []Table{
		{Title: "ragged", Header: []string{"a", "b", ""}, Rows: [][]string{{"1", "", ""}, {"1", "2", "3"}}},
		{Title: "empty", Header: []string{}, Rows: [][]string{}},
	}
	assert.Equal(t, want, got)
}
