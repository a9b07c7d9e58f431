package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The keys of the JSON document, as doc.go documents them: renaming one
// breaks the scripts that read reports, so this list changes only with
// the schema number.
var (
	documentKeys = []string{"duration_seconds", "interval_seconds", "machine", "params", "runs", "schema", "started", "tables", "title"}
	runKeys      = []string{"calls_per_second", "count", "counters", "histogram", "latency_over_time", "max_ms", "name", "p50_ms", "p90_ms", "p999_ms", "p99_ms", "seats_confirmed"}
	bucketKeys   = []string{"count", "hi_ms", "lo_ms"}
	intervalKeys = []string{"at_seconds", "count", "p50_ms", "p99_ms"}
	pointKeys    = []string{"at_seconds", "value"}
	paramKeys    = []string{"name", "value"}
	tableKeys    = []string{"header", "rows", "title"}
)

func writeJSONMap(t *testing.T, d *Data) map[string]any {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, d))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc), "WriteJSON wrote:\n%s", b.String())
	return doc
}

func keysOf(v any) []string {
	return slices.Sorted(maps.Keys(v.(map[string]any)))
}

func TestWriteJSONKeys(t *testing.T) {
	doc := writeJSONMap(t, sampleData())
	assert.Equal(t, documentKeys, keysOf(doc))
	run := doc["runs"].([]any)[0]
	assert.Equal(t, runKeys, keysOf(run))
	r := run.(map[string]any)
	assert.Equal(t, bucketKeys, keysOf(r["histogram"].([]any)[0]))
	assert.Equal(t, intervalKeys, keysOf(r["latency_over_time"].([]any)[0]))
	assert.Equal(t, pointKeys, keysOf(r["seats_confirmed"].([]any)[0]))
	assert.Equal(t, pointKeys, keysOf(r["calls_per_second"].([]any)[0]))
	assert.Equal(t, paramKeys, keysOf(r["counters"].([]any)[0]))
	assert.Equal(t, paramKeys, keysOf(doc["params"].([]any)[0]))
	assert.Equal(t, tableKeys, keysOf(doc["tables"].([]any)[0]))
}

func decodeView(t *testing.T, d *Data) (*view, int) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, d))
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	size := b.Len()
	var v view
	require.NoError(t, dec.Decode(&v))
	return &v, size
}

func TestWriteJSONValues(t *testing.T) {
	d := sampleData()
	v, _ := decodeView(t, d)
	assert.Equal(t, 1, v.Schema)
	assert.Equal(t, d.Title, v.Title)
	assert.True(t, d.Started.Equal(v.Started), "started %v, want %v", v.Started, d.Started)
	assert.Equal(t, 30.0, v.DurationSeconds)
	assert.Equal(t, 1.0, v.IntervalSeconds)
	assert.Equal(t, d.Params, v.Params)
	assert.Equal(t, d.Machine, v.Machine)
	assert.Equal(t, d.Tables, v.Tables)
	require.Len(t, v.Runs, 2)
	for i, r := range v.Runs {
		in := d.Runs[i]
		assert.Equal(t, in.Name, r.Name)
		assert.Equal(t, in.Counters, r.Counters)
		assert.Equal(t, len(in.Latencies), r.Count)
		lat := latencies(in)
		assert.Equal(t, ms(Quantile(lat, 0.5)), r.P50MS)
		assert.Equal(t, ms(Quantile(lat, 0.999)), r.P999MS)
		assert.Equal(t, ms(Quantile(lat, 1)), r.MaxMS)
		assert.Equal(t, r.Count, sumCounts(r.Histogram), "%s: histogram", r.Name)
		assert.Equal(t, r.Count, sumIntervals(r.LatencyOverTime), "%s: latency over time", r.Name)
		assert.Len(t, r.LatencyOverTime, 30, "one interval per second")
		assert.Len(t, r.SeatsConfirmed, len(in.SeatsConfirmed))
		assert.Equal(t, 200.0, r.SeatsConfirmed[len(r.SeatsConfirmed)-1].Value)
		assert.Equal(t, 20.0, r.CallsPerSecond[0].Value)
	}
	assert.Equal(t, v.Runs[0].Histogram[0].LoMS, v.Runs[1].Histogram[0].LoMS, "the runs share their buckets")
	assert.Len(t, v.Runs[1].Histogram, len(v.Runs[0].Histogram))
}

func latencies(r Run) []time.Duration {
	out := make([]time.Duration, len(r.Latencies))
	for i, s := range r.Latencies {
		out[i] = s.Latency
	}
	return out
}

func sumCounts(h []bucket) (n int) {
	for _, b := range h {
		n += b.Count
	}
	return n
}

func sumIntervals(ivs []interval) (n int) {
	for _, iv := range ivs {
		n += iv.Count
	}
	return n
}

// TestWriteJSONIsBounded writes a run ten times longer and larger than the
// targets (500 calls/s for 5 minutes) and checks that its JSON stays small:
// no sample is written out.
func TestWriteJSONIsBounded(t *testing.T) {
	const n = 1_500_000
	r := Run{Name: "long", Latencies: make([]Sample, n)}
	for i := range r.Latencies {
		// 50 minutes, latencies from 1 µs to 15 s.
		r.Latencies[i] = Sample{At: time.Duration(i) * 2 * time.Millisecond, Latency: time.Duration(i)*10*time.Microsecond + time.Microsecond}
	}
	for i := range 100_000 {
		r.SeatsConfirmed = append(r.SeatsConfirmed, Point{time.Duration(i) * 30 * time.Millisecond, float64(i)})
	}
	v, size := decodeView(t, &Data{Duration: 50 * time.Minute, Runs: []Run{r}})
	got := v.Runs[0]
	assert.Equal(t, n, got.Count)
	assert.Equal(t, n, sumCounts(got.Histogram))
	assert.Equal(t, n, sumIntervals(got.LatencyOverTime))
	assert.LessOrEqual(t, len(got.LatencyOverTime), maxIntervals)
	assert.LessOrEqual(t, len(got.SeatsConfirmed), maxPoints)
	assert.LessOrEqual(t, len(got.Histogram), 190)
	assert.Equal(t, 5.0, v.IntervalSeconds, "50 minutes in at most 600 intervals")
	assert.Less(t, size, 400_000, "JSON of %d samples and 100,000 points", n)
}

func TestWriteJSONEmptyAndOdd(t *testing.T) {
	doc := writeJSONMap(t, &Data{Runs: []Run{{Name: "idle"}}})
	for _, k := range []string{"machine", "params", "runs", "tables"} {
		assert.NotNil(t, doc[k], "%q is [] rather than null", k)
	}
	run := doc["runs"].([]any)[0].(map[string]any)
	for _, k := range []string{"counters", "histogram", "latency_over_time", "seats_confirmed", "calls_per_second"} {
		assert.Equal(t, []any{}, run[k], "%q of a run without data", k)
	}
	assert.Equal(t, 0.0, run["p99_ms"])

	// Values JSON cannot carry are dropped rather than failing the report.
	odd := &Data{Runs: []Run{{Name: "odd", CallsPerSecond: []Point{{0, math.NaN()}, {time.Second, math.Inf(1)}, {2 * time.Second, 5}}}}}
	v, _ := decodeView(t, odd)
	assert.Equal(t, []timePoint{{2, 5}}, v.Runs[0].CallsPerSecond)
}
