// Package report turns the measurements of one load-generator run into what a
// person reads: an aligned text table for the terminal (WriteText), a JSON
// document for scripts (WriteJSON) and one self-contained HTML page with SVG
// charts that opens offline (WriteHTML).
//
// The load generator fills a Data and hands it over once the run is over;
// nothing here does I/O other than writing to the given io.Writer, starts a
// goroutine or keeps state, so every function is safe to call from any
// goroutine as long as the Data is not modified meanwhile.
//
// Runs hold every latency sample (150,000 for 500 calls/s over 5 minutes),
// but no output repeats them: the JSON and the charts carry a log-spaced
// histogram and per-interval quantiles whose size is bounded by constants,
// whatever the length of the run.
//
// # The JSON document
//
// WriteJSON writes one object. Its keys are stable: a key is renamed or
// removed, or its meaning changed, only together with "schema". Latencies
// are in milliseconds and times in seconds since the run's start; lists are
// [] when empty, never null.
//
//	schema            1
//	title             Data.Title
//	started           Data.Started, RFC 3339 (year 1 when unset)
//	duration_seconds  Data.Duration
//	interval_seconds  width of the latency_over_time intervals: 1 s, or
//	                  more whole seconds so that a run has at most 600
//	machine, params   [{"name": …, "value": …}], as given
//	tables            [{"title": …, "header": […], "rows": [[…], …]}], every
//	                  row as wide as the widest row or the header
//	runs              one object per Run, in order:
//	  name                Run.Name
//	  count               number of latency samples
//	  p50_ms p90_ms p99_ms p999_ms max_ms
//	                      nearest-rank quantiles of the samples (0 when none)
//	  counters            [{"name": …, "value": …}], Run.Counters as given
//	  histogram           [{"lo_ms": …, "hi_ms": …, "count": n}]: the samples
//	                      with lo_ms ≤ latency < hi_ms, in log-spaced buckets
//	                      (10 per decade) that are the same for every run of
//	                      the document, empty buckets included; the counts
//	                      sum to count
//	  latency_over_time   [{"at_seconds": …, "count": n, "p50_ms": …,
//	                      "p99_ms": …}]: the samples delivered in each
//	                      interval starting at at_seconds; intervals without
//	                      samples are left out
//	  seats_confirmed     [{"at_seconds": …, "value": …}]: Run.SeatsConfirmed,
//	  calls_per_second    and Run.CallsPerSecond, at most 1000 points each
//	                      (longer series are averaged over consecutive points);
//	                      NaN and infinite values are left out
package report
