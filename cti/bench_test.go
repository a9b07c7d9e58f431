package cti

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// benchTraces are the recorded streams the hub's benchmarks replay:
// o_bench_burst is 13,287 messages of 150 queue calls (about 389 bytes a
// message), c_queue_answered one queue call.
var benchTraces = []string{
	"asterisk-22.10.1/o_bench_burst.ami",
	"asterisk-22.10.1/c_queue_answered.ami",
}

// traceModel has the services of the recorded traces
// (testdata/ami-traces/EXPECTED.md), so that the tracker follows their
// calls as it does in the server.
func traceModel() *config.Model {
	vars := []string{"calldata", "customer_id", "ordernum", "order"}
	svc := func(name, context, queue string) config.Service {
		return config.Service{
			Name: name, Type: config.Inbound, Context: context, IsQueue: queue != "", Queue: queue,
			Trigger: config.TriggerNone, Enabled: true, Variables: vars,
		}
	}
	return &config.Model{Services: []config.Service{
		svc("service", "astcti-service", ""),
		svc("busy", "astcti-service-busy", ""),
		svc("queue", "astcti-queue-service", "astcti-queue"),
		svc("queue-riu", "astcti-queue-service-riu", "astcti-queue-riu"),
		svc("bench-1", "astcti-bench-service", "astcti-bench-1"),
		svc("bench-2", "astcti-bench-service", "astcti-bench-2"),
		svc("bench-3", "astcti-bench-service", "astcti-bench-3"),
	}}
}

// benchHub returns a hub with the configuration m that is not running:
// the benchmark's goroutine calls its handlers, as its loop would.
func benchHub(tb testing.TB, m *config.Model) *hub {
	tb.Helper()
	snap, err := config.NewSnapshot(m)
	if err != nil {
		tb.Fatal(err)
	}
	return newHub(New(Config{}), snap)
}

// BenchmarkInputPath measures the hub's whole input path on recorded
// streams: the AMI client's reader reads (from memory: traceConn), frames
// and publishes every message, and the hub's side takes each event from
// its subscription and hands it to handleAMI (the tracker, then the seats'
// notifications; no seat is logged in). One op is one event. Allocations
// count every goroutine, the reader's included. Run it with -cpu 1: the
// reader and the hub then share one core, and events/s is the rate per
// core.
func BenchmarkInputPath(b *testing.B) {
	for _, name := range benchTraces {
		b.Run(filepath.Base(name), func(b *testing.B) {
			tc := newTraceConn(b, loadStream(b, name))
			h := benchHub(b, traceModel())
			sub := startTraceClient(b, tc)
			b.ReportAllocs()
			allocs := countAllocs()
			b.ResetTimer()
			for range b.N {
				it, ok := <-sub.C()
				if !ok || it.Frame == nil {
					b.Fatalf("the stream broke: %v", sub.Err())
				}
				h.handleAMI(it)
				tc.Credit()
			}
			b.StopTimer()
			b.ReportMetric(allocs()/float64(b.N), "allocs/event")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(h.tracker.Stats().Changes)/float64(b.N), "changes/event")
		})
	}
}

// countAllocs returns a function that tells how many heap allocations
// every goroutine made since countAllocs was called: allocs/op as a
// fraction, where ReportAllocs rounds to an integer.
func countAllocs() func() float64 {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() float64 {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs - before.Mallocs)
	}
}

// startTraceClient runs an AMI client over tc until the benchmark ends and
// returns its subscription, once the link is up.
func startTraceClient(b *testing.B, tc *traceConn) *ami.Subscription {
	dialled := false
	client := ami.New(ami.Config{
		Addr: "trace", Username: "bench", Secret: "bench",
		PingInterval: -1, FullyBootedWait: -1, Retries: 1, RetryPause: time.Millisecond,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			if dialled {
				return nil, errors.New("the trace connection is used up")
			}
			dialled = true
			return tc, nil
		},
	})
	sub := client.Subscribe(amiSubscription)
	done := make(chan error, 1)
	go func() { done <- client.Run(context.Background()) }()
	b.Cleanup(func() {
		client.Close()
		if err := <-done; err != nil {
			b.Errorf("ami client: %v", err)
		}
	})
	select {
	case it := <-sub.C():
		if it.Up == nil {
			b.Fatalf("first item %+v, want the link up", it)
		}
	case <-time.After(10 * time.Second):
		b.Fatal("the trace client did not log in within 10 s")
	}
	return sub
}
