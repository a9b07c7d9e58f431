package report

import (
	"math"
	"math/rand/v2"
	"time"
)

// sampleData returns a report of two runs shaped like a real comparison:
// astcti with low latencies, the direct approach slower with a long tail, a
// login storm in the seats series and a steady call rate. The random
// source is seeded, so every call returns the same data.
func sampleData() *Data {
	rng := rand.New(rand.NewPCG(9, 9))
	return &Data{
		Title:    "Load test: 200 seats, 20 calls/s",
		Started:  time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Duration: 30 * time.Second,
		Machine:  []Param{{"os/arch", "linux/amd64"}, {"cpus", "2"}, {"go", "go1.26.8"}},
		Params:   []Param{{"seats", "200"}, {"rate", "20/s"}, {"duration", "30s"}},
		Runs: []Run{
			sampleRun(rng, "astcti (one AMI connection)", 600, 800*time.Microsecond),
			sampleRun(rng, "direct (one AMI connection per seat)", 600, 6*time.Millisecond),
		},
		Tables: []Table{{
			Title:  "Login storm",
			Header: []string{"seats", "cold start", "after restart"},
			Rows:   [][]string{{"200", "0.41 s", "0.38 s"}},
		}},
	}
}

// sampleRun returns a run of n log-normal latencies around median, spread
// evenly over 30 s, with seats logging in during the first 2 s.
func sampleRun(rng *rand.Rand, name string, n int, median time.Duration) Run {
	r := Run{Name: name, Counters: []Param{
		{"offered", "600"}, {"answered", "600"}, {"notified", "600"},
		{"lost", "0"}, {"duplicated", "0"}, {"misdelivered", "0"},
	}}
	for i := range n {
		lat := time.Duration(float64(median) * math.Exp(rng.NormFloat64()*0.6))
		r.Latencies = append(r.Latencies, Sample{At: time.Duration(i) * 30 * time.Second / time.Duration(n), Latency: lat})
	}
	for s := range 31 {
		at := time.Duration(s) * time.Second
		r.SeatsConfirmed = append(r.SeatsConfirmed, Point{at, float64(min(200, s*100))})
		r.CallsPerSecond = append(r.CallsPerSecond, Point{at, 20})
	}
	return r
}
