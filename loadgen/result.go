package loadgen

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/loadgen/report"
)

// Report returns what the run measured as a report (package report):
// one run, the login storms and the resources as further tables.
func (r *Result) Report() *report.Data {
	o := r.Options
	d := &report.Data{
		Title: fmt.Sprintf("astcti load run: %d seats, %s calls/s for %v (%s dialect)",
			o.Seats, formatRate(o.Rate), o.Duration, o.Dialect),
		Started:  r.Started,
		Duration: r.Ended.Sub(r.Started),
		Machine:  machine(),
		Params:   r.params(),
		Runs:     []report.Run{r.astctiRun()},
		Tables:   []report.Table{r.stormTable(), r.resourceTable()},
	}
	if len(r.Faults) > 0 {
		d.Tables = append(d.Tables, r.faultTable())
	}
	if t, ok := r.Delivery.namedTable(); ok {
		d.Tables = append(d.Tables, t)
	}
	if r.Direct != nil {
		d.Runs = append(d.Runs, r.Direct.run())
		d.Tables = append(d.Tables, r.comparisonTable())
	}
	return d
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
		p("refused seats", o.RefusedSeats), p("seed", o.Seed), p("server", partsOf(o)),
		p("faults", faultsOf(o)),
	}
}

// callsThen is a fault's calls in progress, unknown when negative.
func callsThen(n int) string {
	if n < 0 {
		return unknown
	}
	return strconv.Itoa(n)
}

// faultsOf says which faults the run injected, and how often.
func faultsOf(o Options) string {
	if len(o.Faults) == 0 {
		return "none"
	}
	s := fmt.Sprintf("%s, one every %v", strings.Join(o.Faults, ", "), o.FaultEvery)
	s += fmt.Sprintf(" (churn %d%%, burst %d connections", o.ChurnPercent, o.BurstConns)
	if o.AMIPing > 0 {
		s += fmt.Sprintf(", AMI ping every %v", o.AMIPing)
	}
	return s + ")"
}

// partsOf says where the run's server and fake PBX were.
func partsOf(o Options) string {
	if !o.external() {
		return "started by the load generator"
	}
	s := "external: seats " + o.Server + ", fake PBX " + o.PBXControl
	if o.ServerAdmin != "" {
		s += ", admin " + o.ServerAdmin
	}
	return s
}

// astctiRun is the run's notifications and counters.
func (r *Result) astctiRun() report.Run {
	run := report.Run{
		Name:           "astcti (one AMI connection)",
		Latencies:      samples(r.Latencies),
		SeatsConfirmed: r.Confirmed,
		CallsPerSecond: r.CallsPerSecond,
	}
	run.Counters = append(deliveryCounters(r.Traffic, r.Delivery),
		c("logins", r.Logins), c("logins by resume token", r.Resumes), c("login failures", sum(r.LoginFailed)),
		c("refusals told (202)", r.Refused), c("pauses sent", r.Pauses),
		c("pauses confirmed (300)", r.PausesOK), c("pauses failed (302)", r.PausesKO),
		c("keepalives", r.Keepalives),
	)
	for _, reason := range sortedKeys(r.LoginFailed) {
		run.Counters = append(run.Counters, c("login failed: "+reason, r.LoginFailed[reason]))
	}
	return run
}

// c is a counter of a run.
func c(name string, v int64) report.Param {
	return report.Param{Name: name, Value: strconv.FormatInt(v, 10)}
}

// deliveryCounters are what both approaches count of the calls.
func deliveryCounters(tr Traffic, d Delivery) []report.Param {
	return []report.Param{
		c("calls offered", tr.Offered), c("calls answered", tr.Answered),
		c("calls linked", int64(d.Linked)), c("notified", int64(d.Notified)),
		c("lost", int64(d.Lost)), c("duplicated", int64(d.Duplicated)),
		c("misdelivered", int64(d.Misdelivered)), c("wrong data", int64(d.WrongData)),
		c("re-popped to a seat logged in again", int64(d.Repopped)), c("not told, linked in an outage", int64(d.Excused)),
	}
}

// namedTable lists the calls the delivery names (lost, duplicated, with
// wrong data), each with the fault it followed, so that a defect can be
// traced; ok is false when it names none.
func (d Delivery) namedTable() (report.Table, bool) {
	t := report.Table{Title: "Calls not told right (the first of each kind)", Header: []string{"what", "call, seat, times since the start, fault"}}
	for _, g := range []struct {
		what  string
		calls []string
	}{{"lost", d.LostCalls}, {"duplicated", d.Duplicates}, {"wrong data", d.Wrong}} {
		for _, s := range g.calls {
			t.Rows = append(t.Rows, []string{g.what, s})
		}
	}
	return t, len(t.Rows) > 0
}

// faultTable is the faults of the traffic, each with the server's figures
// once it had recovered.
func (r *Result) faultTable() report.Table {
	t := report.Table{
		Title: "Faults (the server once recovered)",
		Header: []string{"fault", "at", "calls then", "recovered", "in", "what", "sessions ended", "201 lines",
			"server RSS", "server goroutines", "seats connected", "calls active"},
	}
	for _, f := range r.Faults {
		t.Rows = append(t.Rows, []string{
			f.Kind, roundDur(f.At), callsThen(f.CallsAtFault), strconv.FormatBool(f.Recovered), roundDur(f.Took), f.Detail,
			strconv.FormatInt(f.SessionsEnded, 10), strconv.FormatInt(f.QueueLeft, 10),
			mib(f.RSSBytes), strconv.Itoa(f.Goroutines), strconv.Itoa(f.SeatsConnected), strconv.Itoa(f.CallsActive),
		})
	}
	if r.CallsActiveAfter >= 0 {
		t.Rows = append(t.Rows, []string{"after the traffic", "", "", "", "", "every call ended", "", "", "", "", "", strconv.Itoa(r.CallsActiveAfter)})
	}
	return t
}

// run is the direct approach's notifications and counters.
func (dr *DirectResult) run() report.Run {
	run := report.Run{
		Name:           "direct (one AMI connection per seat)",
		Latencies:      samples(dr.Latencies),
		CallsPerSecond: dr.CallsPerSecond,
	}
	run.Counters = append(deliveryCounters(dr.Traffic, dr.Delivery),
		c("manager sessions", int64(dr.Clients)), c("sessions lost", int64(dr.ClientsLost)),
		report.Param{Name: "all logged in in", Value: roundDur(dr.LoginTook)},
		c("bytes read by the clients", dr.BytesRead), c("events read by the clients", dr.EventsRead),
	)
	return run
}

func samples(lats []latency) []report.Sample {
	s := make([]report.Sample, len(lats))
	for i, l := range lats {
		s[i] = report.Sample{At: l.at, Latency: l.took}
	}
	return s
}

// comparisonTable sets the two approaches side by side: what the same
// traffic cost the fake PBX, and how fast each told the seats.
func (r *Result) comparisonTable() report.Table {
	a, d := r.Traffic.PBX, r.Direct.Traffic.PBX
	row := func(name string, astcti, direct float64, format func(float64) string) []string {
		ratio := "-"
		if astcti > 0 {
			ratio = fmt.Sprintf("%.1f×", direct/astcti)
		}
		return []string{name, format(astcti), format(direct), ratio}
	}
	count := func(v float64) string { return strconv.FormatInt(int64(v), 10) }
	secs := func(v float64) string { return fmt.Sprintf("%.2f s", v) }
	mibs := func(v float64) string { return mib(int64(v)) }
	ms := func(v float64) string { return fmt.Sprintf("%.2f ms", v) }
	ms1000 := func(v float64) string { return ms(v * 1000) }
	t := report.Table{
		Title:  "astcti against one AMI connection per seat (the same traffic)",
		Header: []string{"measure", "astcti", "direct", "direct ÷ astcti"},
		Rows: [][]string{
			row("fake PBX CPU", a.CPUSeconds, d.CPUSeconds, secs),
			// The calls offered differ when the direct approach saturates
			// the PBX, which then places fewer: per call is the fair figure.
			row("fake PBX CPU per call answered", perCall(a.CPUSeconds, r.Traffic.Answered),
				perCall(d.CPUSeconds, r.Direct.Traffic.Answered), ms1000),
			row("fake PBX bytes written", float64(a.BytesWritten), float64(d.BytesWritten), count),
			row("fake PBX events written", float64(a.EventsWritten), float64(d.EventsWritten), count),
			row("fake PBX peak RSS", float64(a.MaxRSSBytes), float64(d.MaxRSSBytes), mibs),
			row("manager sessions", float64(a.Sessions), float64(d.Sessions), count),
			row("calls answered", float64(r.Traffic.Answered), float64(r.Direct.Traffic.Answered), count),
			row("calls notified", float64(r.Delivery.Notified), float64(r.Direct.Delivery.Notified), count),
		},
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"notification p50", 0.5}, {"notification p99", 0.99}, {"notification p99.9", 0.999}} {
		t.Rows = append(t.Rows, row(q.name, quantileMS(r.Latencies, q.q), quantileMS(r.Direct.Latencies, q.q), ms))
	}
	return t
}

// perCall is seconds per call, 0 without calls.
func perCall(seconds float64, calls int64) float64 {
	if calls == 0 {
		return 0
	}
	return seconds / float64(calls)
}

// quantileMS is the q-quantile of the latencies, in milliseconds.
func quantileMS(lats []latency, q float64) float64 {
	d := make([]time.Duration, len(lats))
	for i, l := range lats {
		d[i] = l.took
	}
	return float64(report.Quantile(d, q)) / float64(time.Millisecond)
}

func (r *Result) stormTable() report.Table {
	t := report.Table{
		Title: "Login storms",
		Header: []string{"storm", "seats", "confirmed", "server start", "all confirmed in", "complete", "refusals told",
			"server CPU", "server RSS before", "server RSS after", "server goroutines", "server seats connected"},
	}
	for _, s := range r.Storms {
		start := unknown
		if !r.Options.external() {
			start = roundDur(s.Start)
		}
		cpu, before, after := unknown, unknown, unknown
		if s.Measured {
			cpu, before, after = fmt.Sprintf("%.2f s", s.ServerCPU), mib(s.RSSBefore), mib(s.RSSAfter)
		}
		goroutines, connected := unknown, unknown
		if s.Goroutines > 0 {
			goroutines, connected = strconv.Itoa(s.Goroutines), strconv.Itoa(s.SeatsConnected)
		}
		t.Rows = append(t.Rows, []string{
			s.Name, strconv.Itoa(s.Seats), strconv.Itoa(s.Confirmed), start, roundDur(s.Took),
			strconv.FormatBool(s.Complete), strconv.FormatInt(s.Refused, 10), cpu, before, after, goroutines, connected,
		})
	}
	return t
}

// unknown is a figure the run could not measure: an external server's
// without its admin endpoints.
const unknown = "-"

func (r *Result) resourceTable() report.Table {
	server := []string{"server", unknown, unknown, unknown, unknown, unknown}
	if r.ServerKnown {
		server[1], server[2] = fmt.Sprintf("%.2f", r.ServerCPU), mib(r.Server.MaxRSSBytes)
	}
	if len(r.Storms) > 0 && r.Storms[0].Measured {
		server[3] = fmt.Sprintf("%.1f KiB", r.RSSPerSeat/1024)
	}
	if r.Goroutines > 0 {
		server[4] = strconv.Itoa(r.Goroutines)
	}
	return report.Table{
		Title:  "Resources (traffic phase)",
		Header: []string{"part", "CPU seconds", "peak RSS", "RSS per seat", "peak goroutines", "bytes written"},
		Rows: [][]string{
			server,
			{"fake PBX", fmt.Sprintf("%.2f", r.Traffic.PBX.CPUSeconds), mib(r.Traffic.PBX.MaxRSSBytes), unknown, unknown, strconv.FormatInt(r.Traffic.PBX.BytesWritten, 10)},
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
