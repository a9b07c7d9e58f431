package cti

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
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
// core. The stage=read runs only release each event: the reader's part
// and the hand-off, without the hub's work.
func BenchmarkInputPath(b *testing.B) {
	stages := []struct {
		name   string
		handle func(*hub, ami.Item)
	}{
		{"track", (*hub).handleAMI},
		{"read", func(_ *hub, it ami.Item) { it.Frame.Release() }},
	}
	for _, name := range benchTraces {
		for _, st := range stages {
			b.Run(filepath.Base(name)+"/stage="+st.name, func(b *testing.B) {
				benchInputPath(b, name, st.handle)
			})
		}
	}
}

func benchInputPath(b *testing.B, trace string, handle func(*hub, ami.Item)) {
	tc := newTraceConn(b, loadStream(b, trace))
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
		handle(h, it)
		tc.Credit()
	}
	b.StopTimer()
	b.ReportMetric(allocs()/float64(b.N), "allocs/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(h.tracker.Stats().Changes)/float64(b.N), "changes/event")
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

// BenchmarkFanOut measures the hub's side of one notification among many
// logged-in seats: the lookup of the seat by interface, the event line
// (seatproto.AppendEvent, with the service's action on a Link) and the
// enqueue; the seats' writers then write it to connections that discard
// what they get. One op is one change for one seat, the seats taken in a
// scattered order. No socket: the sessions are made in place, as login
// would leave them. drops counts the seats closed as slow consumers.
func BenchmarkFanOut(b *testing.B) {
	for _, seats := range []int{1000, 50000} {
		for _, kind := range []calls.Kind{calls.Link, calls.Hangup} {
			b.Run(fmt.Sprintf("seats=%d/msg=%s", seats, kind), func(b *testing.B) {
				benchFanOut(b, seats, kind)
			})
		}
	}
}

func benchFanOut(b *testing.B, seats int, kind calls.Kind) {
	m := traceModel()
	for i := range m.Services {
		if m.Services[i].Name == "queue" {
			m.Services[i].Trigger = config.TriggerBrowser
			m.Services[i].Application = "https://crm.example.com/customer?id=${customer_id}&order=${ordernum}"
		}
	}
	h := benchHub(b, m)
	conns := make([]*seatConn, seats)
	ifaces := make([]string, seats)
	for i := range seats {
		conns[i] = newSeatConn(h.srv, uint64(i+1), discardConn{})
		ifaces[i] = fmt.Sprintf("SIP/%05d", i)
		s := &session{conn: conns[i], operator: fmt.Sprintf("op%05d", i), iface: ifaces[i], key: ifaces[i]}
		h.sessions[conns[i]] = s
		h.byIface[s.key] = s
	}
	ch := calls.Change{Kind: kind, Call: calls.Call{
		Uniqueid: "1764748800.1042", Channel: "SIP/00000-0000002a", CallerIDNum: "0612345678",
		CallerIDName: "Ada Lovelace", Context: "astcti-queue-service", Exten: "100",
		Linkedid: "1764748800.1042", Service: "queue", Queue: "astcti-queue", State: "Up",
		Data: []calls.Var{{Name: "customer_id", Value: "4711"}, {Name: "ordernum", Value: "A-2026-0042"}},
	}}
	b.ReportAllocs()
	allocs := countAllocs()
	b.ResetTimer()
	for i := range b.N {
		// 7919 is prime, and prime to every seat count here: each seat
		// in turn, far from the last one.
		ch.Interface = ifaces[(i*7919)%seats]
		h.notify(ch)
	}
	h.srv.wg.Wait() // every writer has emptied its queue
	b.StopTimer()
	b.ReportMetric(allocs()/float64(b.N), "allocs/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	drops := 0
	for _, c := range conns {
		if c.closing.Load() {
			drops++
		}
	}
	b.ReportMetric(float64(drops), "drops")
}

// discardConn is a connection that takes whatever is written to it.
type discardConn struct{}

func (discardConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return traceAddr }
func (discardConn) RemoteAddr() net.Addr             { return traceAddr }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
