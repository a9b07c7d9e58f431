package loadgen

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/astcti/astcti/loadgen/report"
)

// Report returns what the run measured as a report (package report):
// one run, the login storms and the resources as further tables.
func (r *Result) Report() *report.Data {
	o := r.Options
	return &report.Data{
		Title: fmt.Sprintf("astcti load run: %d seats, %s calls/s for %v (%s dialect)",
			o.Seats, formatRate(o.Rate), o.Duration, o.Dialect),
		Started:  r.Started,
		Duration: r.Ended.Sub(r.Started),
		Machine:  machine(),
		Params:   r.params(),
		Runs:     []report.Run{r.astctiRun()},
		Tables:   []report.Table{r.stormTable(), r.resourceTable()},
	}
}

// machine describes where the run ran.
func machine() []report.Param {
	host, _ := os.Hostname()
	return []report.Param{
		{Name: "os/arch", Value: runtime.GOOS + "/" + runtime.GOARCH},
		{Name: "cpus", Value: strconv.Itoa(runtime.NumCPU())},
		{Name: "go", Value: runtime.Version()},
		{Name: "host", Value: host},
	}
}

func (r *Result) params() []report.Param {
	o := r.Options
	p := func(name string, v any) report.Param { return report.Param{Name: name, Value: fmt.Sprint(v)} }
	return []report.Param{
		p("seats", o.Seats), p("queues", o.Queues), p("rate", formatRate(o.Rate)+"/s"), p("duration", o.Duration),
		p("direct", fmt.Sprintf("%d%%", o.DirectPercent)), p("answer after", o.AnswerAfter), p("talk", o.Talk),
		p("strategy", o.Strategy), p("dialect", o.Dialect), p("pause rate", formatRate(o.PauseRate)+"/s"),
		p("pause hold", o.PauseHold), p("keepalive", o.Keepalive), p("restart", o.Restart), p("resume tokens", o.Resume),
		p("refused seats", o.RefusedSeats), p("seed", o.Seed),
	}
}

// astctiRun is the run's notifications and counters.
func (r *Result) astctiRun() report.Run {
	run := report.Run{
		Name:           "astcti (one AMI connection)",
		Latencies:      make([]report.Sample, len(r.Latencies)),
		SeatsConfirmed: r.Confirmed,
		CallsPerSecond: r.CallsPerSecond,
	}
	for i, l := range r.Latencies {
		run.Latencies[i] = report.Sample{At: l.at, Latency: l.took}
	}
	d := r.Delivery
	c := func(name string, v int64) report.Param {
		return report.Param{Name: name, Value: strconv.FormatInt(v, 10)}
	}
	run.Counters = []report.Param{
		c("calls offered", r.Traffic.Offered), c("calls answered", r.Traffic.Answered),
		c("calls linked", int64(d.Linked)), c("notified", int64(d.Notified)),
		c("lost", int64(d.Lost)), c("duplicated", int64(d.Duplicated)),
		c("misdelivered", int64(d.Misdelivered)), c("wrong data", int64(d.WrongData)),
		c("logins", r.Logins), c("logins by resume token", r.Resumes), c("login failures", sum(r.LoginFailed)),
		c("refusals told (202)", r.Refused), c("pauses sent", r.Pauses),
		c("pauses confirmed (300)", r.PausesOK), c("pauses failed (302)", r.PausesKO),
		c("keepalives", r.Keepalives),
	}
	for _, reason := range sortedKeys(r.LoginFailed) {
		run.Counters = append(run.Counters, c("login failed: "+reason, r.LoginFailed[reason]))
	}
	return run
}

func (r *Result) stormTable() report.Table {
	t := report.Table{
		Title:  "Login storms",
		Header: []string{"storm", "seats", "confirmed", "server start", "all confirmed in", "complete", "refusals told", "server CPU", "server RSS before", "server RSS after"},
	}
	for _, s := range r.Storms {
		t.Rows = append(t.Rows, []string{
			s.Name, strconv.Itoa(s.Seats), strconv.Itoa(s.Confirmed), roundDur(s.Start), roundDur(s.Took),
			strconv.FormatBool(s.Complete), strconv.FormatInt(s.Refused, 10), fmt.Sprintf("%.2f s", s.ServerCPU),
			mib(s.RSSBefore), mib(s.RSSAfter),
		})
	}
	return t
}

func (r *Result) resourceTable() report.Table {
	return report.Table{
		Title:  "Resources (traffic phase)",
		Header: []string{"part", "CPU seconds", "peak RSS", "RSS per seat", "bytes written"},
		Rows: [][]string{
			{"server", fmt.Sprintf("%.2f", r.ServerCPU), mib(r.Server.MaxRSSBytes), fmt.Sprintf("%.1f KiB", r.RSSPerSeat/1024), "-"},
			{"fake PBX", fmt.Sprintf("%.2f", r.Traffic.PBX.CPUSeconds), mib(r.Traffic.PBX.MaxRSSBytes), "-", strconv.FormatInt(r.Traffic.PBX.BytesWritten, 10)},
		},
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func roundDur(d time.Duration) string { return d.Round(time.Millisecond).String() }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
