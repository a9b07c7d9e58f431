package calls

import (
	"runtime"
	"testing"

	"github.com/astcti/astcti/cti/ami"
)

// BenchmarkApply measures the hub's per-event cost of call tracking. One op
// is one frame; a recorded stream is replayed again and again, each replay
// on a fresh tracker. o_bench_burst is the largest stream (13 287 messages,
// 150 queue calls over 3 queues and 6 members); its 13 MB of frames do not
// fit in a CPU cache, so every frame is a cache miss, which a hub applying
// the frame it has just parsed does not pay. c_queue_answered (108
// messages, one call) stays in cache.
func BenchmarkApply(b *testing.B) {
	for _, name := range []string{"o_bench_burst", "c_queue_answered"} {
		b.Run(name, func(b *testing.B) {
			frames := readFrames(b, loadTrace(b, "asterisk-22.10.1", name))
			cat := traceCatalog()
			tk := NewTracker(cat)
			changes := 0
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % len(frames)
				if j == 0 {
					tk = NewTracker(cat)
				}
				changes += len(tk.Apply(frames[j]))
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/event")
			b.ReportMetric(float64(changes)/float64(b.N), "changes/event")
		})
	}
}

// BenchmarkApplyIgnored measures an event the tracker has no use for
// (DeviceStateChange, QueueMemberStatus, …): it must cost next to nothing.
func BenchmarkApplyIgnored(b *testing.B) {
	f := &ami.Frame{Fields: []ami.Field{
		{Key: "Event", Value: "DeviceStateChange"},
		{Key: "Privilege", Value: "call,all"},
		{Key: "Device", Value: "Local/201@phones"},
		{Key: "State", Value: "INUSE"},
	}}
	tk := NewTracker(traceCatalog())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tk.Apply(f)
	}
}
