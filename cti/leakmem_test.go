package cti

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// BenchmarkLeakedNewchannels feeds the hub's tracker Newchannels that
// never hang up, 200,000 per op, twice its bound of channels, and reports
// the live heap and the process's RSS they leave (after a GC), and the
// channels tracked: the bound holds whatever the PBX sends. Run it with
// -benchtime 1x; docs/reliability.md has the figures.
func BenchmarkLeakedNewchannels(b *testing.B) {
	const n = 200_000
	for range b.N {
		b.StopTimer()
		h := benchHub(b, traceModel())
		heap0, rss0 := memNow()
		b.StartTimer()
		f := &ami.Frame{}
		for i := range n {
			f.Fields = f.Fields[:0]
			f.Add("Event", "Newchannel")
			f.Add("Privilege", "call,all")
			f.Add("Channel", fmt.Sprintf("PJSIP/trunk-%08x", i))
			f.Add("ChannelState", "0")
			f.Add("ChannelStateDesc", "Down")
			f.Add("CallerIDNum", strconv.Itoa(600000+i))
			f.Add("CallerIDName", "Caller")
			f.Add("Context", "from-trunk")
			f.Add("Exten", "100")
			f.Add("Uniqueid", fmt.Sprintf("1700000000.%d", i))
			f.Add("Linkedid", fmt.Sprintf("1700000000.%d", i))
			h.amiEvent(f, time.Now())
		}
		b.StopTimer()
		heap1, rss1 := memNow()
		b.ReportMetric(float64(h.tracker.Len()), "channels")
		b.ReportMetric(float64(h.tracker.Stats().Refused), "refused")
		b.ReportMetric(float64(heap1-heap0)/(1<<20), "heap-MB")
		b.ReportMetric(float64(rss1-rss0)/(1<<20), "rss-MB")
		runtime.KeepAlive(h)
		b.StartTimer()
	}
}

// memNow returns the live heap after a GC, and the process's resident
// set (0 where /proc is missing).
func memNow() (heap, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				rss = kb << 10
			}
		}
	}
	return int64(ms.HeapAlloc), rss
}
