package report

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAxisTicks(t *testing.T) {
	tests := []struct {
		name     string
		top      float64
		want     []float64
		decimals int
	}{
		{"zero gives [0, 1]", 0, []float64{0, 0.5, 1}, 1},
		{"negative gives [0, 1]", -3, []float64{0, 0.5, 1}, 1},
		{"NaN gives [0, 1]", math.NaN(), []float64{0, 0.5, 1}, 1},
		{"Inf is capped", math.Inf(1), []float64{0, 5e17, 1e18}, 0},
		{"the largest float is capped", math.MaxFloat64, []float64{0, 5e17, 1e18}, 0},
		{"30 s", 30, []float64{0, 10, 20, 30}, 0},
		{"200 seats", 200, []float64{0, 50, 100, 150, 200}, 0},
		{"4.85 ms", 4.85, []float64{0, 2, 4, 6}, 0},
		{"0.3 ms", 0.3, []float64{0, 0.1, 0.2, 0.3}, 1},
		{"10000 seats", 10000, []float64{0, 5000, 10000}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, dec := axisTicks(tc.top)
			assert.InDeltaSlice(t, tc.want, got, 1e-9, "axisTicks(%v)", tc.top)
			assert.Equal(t, tc.decimals, dec, "axisTicks(%v) decimals", tc.top)
		})
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"ns", latencyLabel(0.00025), "250 ns"},
		{"µs", latencyLabel(0.0032), "3.2 µs"},
		{"ms", latencyLabel(1.5849), "1.6 ms"},
		{"hundreds of ms", latencyLabel(251.2), "250 ms"},
		{"rounds up to the next unit's range", latencyLabel(99.6), "100 ms"},
		{"s", latencyLabel(2512), "2.5 s"},
		{"a million seconds", latencyLabel(bucketEdgeMS(150)), "1000000 s"},
		{"big tick", tickLabel(5e12, 0), "5e+12"},
		{"largest float", sig2(math.MaxFloat64), "1.8e+308"},
		{"negative", sig2(-3.14), "-3.1"},
		{"NaN", sig2(math.NaN()), "0"},
		{"zero", latencyLabel(0), "0 ns"},
		{"negative (a clock step)", latencyLabel(-1.5), "-1.5 ms"},
		{"count", countLabel(1), "1"},
		{"count k", countLabel(10000), "10k"},
		{"count M", countLabel(1e6), "1M"},
		{"tick", tickLabel(0.30000000000000004, 1), "0.3"},
		{"num", num(12.345).String(), "12.3"},
		{"NaN num", num(math.NaN()).String(), "0.0"},
		{"Inf num", num(math.Inf(-1)).String(), "0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

func TestScaleClamps(t *testing.T) {
	s := scale{0, 10, 100, 200}
	tests := []struct {
		v    float64
		want num
	}{{0, 100}, {5, 150}, {10, 200}, {-1, 100}, {11, 200}, {math.NaN(), 100}, {math.Inf(1), 200}, {math.Inf(-1), 100}}
	for _, tc := range tests {
		assert.Equal(t, tc.want, s.at(tc.v), "at(%v)", tc.v)
	}
	assert.Equal(t, num(7), scale{1, 1, 7, 9}.at(1), "an empty domain maps to from")
}
