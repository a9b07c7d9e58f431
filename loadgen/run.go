package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/loadgen/report"
)

// The fake PBX's manager account for the server.
const (
	amiUser   = "astcti"
	amiSecret = "loadgen"
)

// Bounds of a run's phases.
const (
	stopGrace   = 20 * time.Second // a part's clean stop: the server removes every member
	noticeGrace = 2 * time.Second  // the last Link lines after the last link
	sampleEvery = 250 * time.Millisecond
)

// Storm is one login storm: every seat logging in at once.
type Storm struct {
	Name      string        `json:"name"`       // "cold start" or "restart"
	Seats     int           `json:"seats"`      // seats that had to log in
	Confirmed int           `json:"confirmed"`  // seats confirmed in all their queues at the end
	Refused   int64         `json:"refused"`    // 202 lines read during the storm
	Start     time.Duration `json:"start_ns"`   // the server process's start to its ready line; 0 for an external server
	Took      time.Duration `json:"took_ns"`    // its ready line (an external server: the first seat's dial) to every seat confirmed (or the timeout)
	Complete  bool          `json:"complete"`   // every seat was confirmed
	RSSBefore int64         `json:"rss_before"` // the server's RSS at its ready line, before any seat
	RSSAfter  int64         `json:"rss_after"`  // and with every seat confirmed
	// ServerCPU is the server's CPU seconds from its start to the storm's
	// end: what the logins cost it (password checks, QueueAdds). Of an
	// external server, it is those of the storm only.
	ServerCPU float64 `json:"server_cpu_seconds"`
	// Measured says that the server's CPU and RSS figures were measured;
	// they are unknown for an external server without its admin endpoints.
	Measured bool `json:"server_measured"`
	// Goroutines and SeatsConnected are the server's, from its /metrics at
	// the storm's end; 0 when unknown.
	Goroutines     int `json:"server_goroutines"`
	SeatsConnected int `json:"server_seats_connected"`
}

// Result is what a run measured.
type Result struct {
	Options        Options
	Started        time.Time
	Ended          time.Time
	Storms         []Storm
	Delivery       Delivery
	Latencies      []latency
	Confirmed      []report.Point // seats confirmed over time
	CallsPerSecond []report.Point // calls offered a second, over time
	// Server is the server process during the traffic phase, and its peak
	// memory over the whole first process.
	Server     procStat
	ServerCPU  float64 // CPU seconds of the traffic phase
	RSSPerSeat float64 // the cold storm's RSS growth per seat, bytes
	// ServerKnown says that Server, ServerCPU and RSSPerSeat were
	// measured: from /proc for a server the load generator started, from
	// its /metrics for an external one (none without its admin endpoints).
	ServerKnown bool
	// Goroutines is the server's peak of goroutines during the traffic,
	// from its /metrics; 0 when unknown.
	Goroutines  int
	Traffic     Traffic // the traffic phase at the fake PBX
	Logins      int64
	Resumes     int64 // logins by resume token (RESUME) instead of password
	LoginFailed map[string]int64
	Refused     int64 // 202 lines read
	SeatsTold   int64 // sessions that read at least one 202
	Pauses      int64
	PausesOK    int64
	PausesKO    int64
	Keepalives  int64
	// Direct is the comparison's run, with Options.CompareDirect.
	Direct *DirectResult
	// Faults are the faults injected during the traffic (Options.Faults),
	// after a baseline, each with the server's figures once it recovered.
	Faults []FaultRecord
	// CallsActiveAfter is the server's astcti_calls_active once the
	// traffic's calls ended: 0, or the calls it kept of calls that ended
	// (during an outage, say); -1 when unknown.
	CallsActiveAfter int
}

// Run runs a load: a fake PBX and a server started as processes of their
// own (or, with opts.Server and opts.PBXControl, running already),
// opts.Seats seats logging in at once, traffic for opts.Duration, then,
// with opts.Restart, a restart of the server and the seats' second storm.
// It returns what it measured; an error means the run could not be made,
// not that a figure is bad.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Seed == 0 {
		opts.Seed = time.Now().UnixNano()%1_000_000 + 1
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	raiseFileLimit(opts.Seats + opts.BurstConns/2) // two descriptors a seat, one a burst connection here
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "astcti-loadgen-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	r := &runner{opts: opts, dir: dir, w: world{seats: opts.Seats, queues: opts.Queues, refused: opts.RefusedSeats}, res: &Result{Options: opts}}
	return r.res, r.run(ctx)
}

// runner is one run of Run; its methods are its phases.
type runner struct {
	opts Options
	dir  string
	w    world
	res  *Result

	pbx      *pbxPart
	server   atomic.Pointer[child]   // nil while the server is restarted, and for an external one
	scraper  atomic.Pointer[scraper] // of the server's /metrics; nil while unknown
	seatAddr string
	fleet    *fleet
	// inTraffic is true during the traffic phase, when the sampler keeps
	// the server's peak of goroutines.
	inTraffic atomic.Bool

	seriesMu sync.Mutex
	ctl      *control                  // of the fake PBX in use, for the sampler; under seriesMu
	cps      *[]report.Point           // the calls-per-second series of the approach in use; under seriesMu
	notices  atomic.Pointer[noticeLog] // of the approach in use, for the progress

	// The faults' (faults.go): the AMI relay when they break the link,
	// the server's refusals read from its log, and the outages.
	proxy     *amiProxy
	serverLog logWatch
	faultMu   sync.Mutex
	outages   []outage // under faultMu
}

func (r *runner) run(ctx context.Context) error {
	r.res.Started = time.Now()
	defer func() { r.res.Ended = time.Now() }()
	if r.opts.external() {
		if err := r.connectExternal(ctx); err != nil {
			return err
		}
	} else {
		if err := r.writeConfig(ctx); err != nil {
			return err
		}
		if err := r.startPBX(ctx); err != nil {
			return err
		}
		defer func() { r.pbx.child.stop(stopGrace) }()
		if r.opts.needsProxy() {
			p, err := startAMIProxy(r.pbx.ready.AMI)
			if err != nil {
				return fmt.Errorf("loadgen: the AMI relay: %w", err)
			}
			r.proxy = p
			defer p.close()
		}
		addr, err := freePort()
		if err != nil {
			return err
		}
		r.seatAddr = addr
	}
	r.fleet = newFleet(r.w, r.seatAddr, r.opts.Resume)
	r.use(r.pbx, &r.fleet.notices, &r.res.CallsPerSecond)
	seatsCtx, stopSeats := context.WithCancel(ctx)
	defer func() {
		stopSeats()
		r.fleet.wait()
	}()
	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() {
		stopBackground()
		bg.Wait()
	}()
	bg.Go(func() { r.fleet.keepalive(bgCtx, r.opts.Keepalive) })
	bg.Go(func() { r.sample(bgCtx) })

	if err := r.storm(ctx, "cold start", func() { r.fleet.start(seatsCtx) }); err != nil {
		return err
	}
	if err := r.traffic(ctx); err != nil {
		r.stopServer()
		return err
	}
	if r.opts.Restart {
		if err := r.restart(ctx); err != nil {
			return err
		}
	}
	r.countFleet()
	stopSeats()
	r.fleet.wait()
	if err := r.stopServer(); err != nil {
		return err
	}
	if r.opts.CompareDirect {
		return r.compareDirect(ctx)
	}
	return nil
}

// writeConfig writes the server's configuration snapshot.
func (r *runner) writeConfig(ctx context.Context) error {
	m, err := r.w.model()
	if err != nil {
		return err
	}
	if _, err := config.WriteSnapshot(ctx, filepath.Join(r.dir, "config"), m); err != nil {
		return fmt.Errorf("loadgen: the server's configuration: %w", err)
	}
	return nil
}

// connectExternal makes the run use the fake PBX and the server that run
// already, once each answers: the control API, the seat port (one connect,
// closed at once) and, when given, the server's /metrics.
func (r *runner) connectExternal(ctx context.Context) error {
	ctl := newControl(r.opts.PBXControl)
	if _, err := ctl.stats(ctx); err != nil {
		return fmt.Errorf("loadgen: the external fake PBX: %w", err)
	}
	r.pbx = &pbxPart{ctl: ctl, links: linkLog{c: ctl}}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", r.opts.Server)
	if err != nil {
		return fmt.Errorf("loadgen: the external server: %w", err)
	}
	c.Close()
	r.seatAddr = r.opts.Server
	if r.opts.ServerAdmin == "" {
		return nil
	}
	s := newScraper(r.opts.ServerAdmin)
	if _, err := s.scrape(ctx); err != nil {
		return fmt.Errorf("loadgen: the external server's admin endpoints: %w", err)
	}
	r.scraper.Store(s)
	return nil
}

func (r *runner) startPBX(ctx context.Context) error {
	p, err := r.startPBXPart(ctx, false)
	if err != nil {
		return err
	}
	r.pbx = p
	return nil
}

// use makes p, notices and cps the fake PBX, notices and calls-per-second
// series that the sampler and the progress follow.
func (r *runner) use(p *pbxPart, notices *noticeLog, cps *[]report.Point) {
	r.seriesMu.Lock()
	r.ctl, r.cps = p.ctl, cps
	r.seriesMu.Unlock()
	r.notices.Store(notices)
}

// pbxPart is a running fake PBX: its process, addresses, control API and
// the links read from it.
type pbxPart struct {
	child *child
	ready pbxReady
	ctl   *control
	links linkLog
}

// startPBXPart starts a fake PBX with the run's scenario; with static
// members, its queues have every phone as a member from the start (for
// the direct approach, which has no server to add them).
func (r *runner) startPBXPart(ctx context.Context, static bool) (*pbxPart, error) {
	spec := pbxSpec{
		Dialect: r.opts.Dialect, Username: amiUser, Secret: amiSecret, Seed: r.opts.Seed,
		Scenario: r.w.scenario(r.opts.Strategy, r.opts.AnswerAfter, r.opts.Talk, static), LogLevel: r.opts.LogLevel,
	}
	p := &pbxPart{}
	c, err := startChild(ctx, r.dir, partPBX, spec, &p.ready, r.opts.Log)
	if err != nil {
		return nil, err
	}
	p.child, p.ctl = c, newControl(p.ready.Control)
	p.links = linkLog{c: p.ctl}
	return p, nil
}

// startServer starts a server process on the run's seat address and
// returns when it accepts seats.
func (r *runner) startServer(ctx context.Context) error {
	spec := serverSpec{
		AMI: r.pbx.ready.AMI, Username: amiUser, Secret: amiSecret,
		ConfigDir: filepath.Join(r.dir, "config"), Listen: r.seatAddr, AdminListen: "127.0.0.1:0",
		Keepalive: 3 * r.opts.Keepalive, LogLevel: r.opts.LogLevel, AMIPing: r.opts.AMIPing,
	}
	if r.proxy != nil {
		spec.AMI = r.proxy.addr()
	}
	var ready serverReady
	c, err := startChild(ctx, r.dir, partServer, spec, &ready, io.MultiWriter(r.opts.Log, &r.serverLog))
	if err != nil {
		return err
	}
	r.server.Store(c)
	if ready.Admin != "" {
		r.scraper.Store(newScraper("http://" + ready.Admin))
	}
	return nil
}

// stopServer stops the server the run started, if it runs.
func (r *runner) stopServer() error {
	c := r.server.Swap(nil)
	if c == nil {
		return nil
	}
	r.scraper.Store(nil)
	err := c.stop(stopGrace)
	if err != nil {
		return fmt.Errorf("loadgen: the server: %w", err)
	}
	return nil
}

// storm starts a server (unless it is external) and measures the login
// storm: the seats already dialling (a restart) or started by begin once
// it is ready (a cold start), until every one is confirmed in all its
// queues.
func (r *runner) storm(ctx context.Context, name string, begin func()) error {
	launched := time.Now()
	refusedBefore := r.fleet.counts.refused.Load()
	external := r.opts.external()
	if !external {
		if err := r.startServer(ctx); err != nil {
			return err
		}
	}
	ready := time.Now()
	st := Storm{Name: name, Seats: r.w.seats}
	if !external {
		st.Start = ready.Sub(launched)
	}
	before := r.measureServer(ctx)
	if external {
		ready = time.Now() // the storm is timed from the first seat's dial
	}
	if begin != nil {
		begin()
	}
	st.Complete = r.waitConfirmed(ctx, "login storm ("+name+")", ready)
	st.Took = time.Since(ready)
	st.Confirmed = int(r.fleet.confirmed.Load())
	st.Refused = r.fleet.counts.refused.Load() - refusedBefore
	after := r.measureServer(ctx)
	st.Measured = before.Known && after.Known
	st.RSSBefore, st.RSSAfter, st.ServerCPU = before.RSSBytes, after.RSSBytes, after.CPUSeconds
	if external { // since its start is not the run's
		st.ServerCPU -= before.CPUSeconds
	}
	st.Goroutines, st.SeatsConnected = after.Goroutines, after.SeatsConnected
	r.res.Storms = append(r.res.Storms, st)
	return ctx.Err()
}

// serverStat is the server at one moment, as far as the load generator
// can tell.
type serverStat struct {
	procStat
	Known          bool // procStat was measured: from /proc of the child, or from /metrics
	Goroutines     int  // from /metrics; 0 when unknown
	SeatsConnected int  // from /metrics
}

// measureServer reads the server's figures: the CPU seconds and memory of
// a child from /proc, else from its /metrics (of an external server), and
// its goroutines from its /metrics. A figure it cannot read is unknown.
// It blocks for a scrape at most (scrapeTimeout).
func (r *runner) measureServer(ctx context.Context) serverStat {
	var st serverStat
	if c := r.server.Load(); c != nil {
		if ps, err := readProcStat(c.pid()); err == nil {
			st.procStat, st.Known = ps, true
		}
	}
	if s := r.scraper.Load(); s != nil {
		if m, err := s.scrape(ctx); err == nil {
			st.Goroutines, st.SeatsConnected = m.Goroutines, m.SeatsConnected
			if !st.Known && m.HasProcess {
				st.CPUSeconds, st.RSSBytes, st.MaxRSSBytes = m.CPUSeconds, m.RSSBytes, m.RSSBytes
				st.Known = true
			}
		}
	}
	return st
}

// waitConfirmed waits until every seat is confirmed, or the storm's
// timeout, and reports whether they all were.
func (r *runner) waitConfirmed(ctx context.Context, phase string, since time.Time) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	limit := time.After(r.opts.StormTimeout)
	lastProgress := time.Time{}
	for int(r.fleet.confirmed.Load()) < r.w.seats {
		select {
		case <-ctx.Done():
			return false
		case <-limit:
			return false
		case now := <-t.C:
			if now.Sub(lastProgress) >= time.Second {
				lastProgress = now
				r.progress(phase, now.Sub(since), 0, nil, 0)
			}
		}
	}
	return true
}

// traffic runs the calls for the run's duration through the seats and
// the server, and counts what was delivered.
func (r *runner) traffic(ctx context.Context) error {
	if r.opts.Rate == 0 || r.opts.Duration == 0 {
		return nil
	}
	// An external fake PBX may keep the links of earlier runs.
	if err := r.pbx.links.skip(ctx); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	serverBefore := r.measureServer(ctx)
	r.inTraffic.Store(true)
	pauseCtx, stopPauses := context.WithCancel(ctx)
	pausesDone := make(chan struct{})
	go func() {
		defer close(pausesDone)
		r.fleet.pauses(pauseCtx, r.opts.PauseRate, r.opts.PauseHold, r.opts.Seed)
	}()
	stopFaults, faultsDone := make(chan struct{}), make(chan struct{})
	if len(r.opts.Faults) > 0 {
		go func() {
			defer close(faultsDone)
			r.faultLoop(ctx, stopFaults)
		}()
	} else {
		close(faultsDone)
	}
	tr, err := r.calls(ctx, r.pbx, "", func() {
		stopPauses()
		close(stopFaults)
		<-faultsDone // a fault under way is followed to its recovery
	})
	stopPauses()
	<-pausesDone
	r.inTraffic.Store(false)
	if err != nil {
		return err
	}
	serverAfter := r.measureServer(ctx)
	r.res.Traffic = tr
	r.res.ServerKnown = serverBefore.Known && serverAfter.Known
	r.res.ServerCPU = serverAfter.CPUSeconds - serverBefore.CPUSeconds
	r.seriesMu.Lock()
	serverAfter.MaxRSSBytes = max(serverAfter.MaxRSSBytes, r.res.Server.MaxRSSBytes)
	r.res.Server = serverAfter.procStat
	r.res.Goroutines = max(r.res.Goroutines, serverAfter.Goroutines)
	r.seriesMu.Unlock()
	r.faultMu.Lock()
	outs := slices.Clone(r.outages)
	r.faultMu.Unlock()
	r.res.Delivery, r.res.Latencies = verify(r.w, r.pbx.links.links, r.fleet.notices.take(), r.res.Started, outs)
	r.res.CallsActiveAfter = -1
	if s := r.scraper.Load(); s != nil {
		if m, err := s.scrape(ctx); err == nil && m.HasLink {
			r.res.CallsActiveAfter = m.CallsActive
		}
	}
	return nil
}

// Traffic is what one approach's traffic phase measured at the fake PBX.
type Traffic struct {
	Offered  int64   `json:"offered"`  // calls placed
	Answered int64   `json:"answered"` // calls connected to a phone
	PBX      PBXCost `json:"pbx"`
}

// PBXCost is what the traffic cost the fake PBX: the figures the design
// claims one shared AMI connection keeps small.
type PBXCost struct {
	CPUSeconds    float64 `json:"cpu_seconds"`    // of the traffic phase
	BytesWritten  int64   `json:"bytes_written"`  // to the manager sessions, in the phase
	EventsWritten int64   `json:"events_written"` // events written, one per session reached
	MaxRSSBytes   int64   `json:"max_rss_bytes"`  // the process's peak
	Sessions      int     `json:"sessions"`       // manager sessions logged in
}

// calls places the run's traffic at the fake PBX p for the run's duration,
// stops it (and calls stopped, when set, as it ends), waits for the calls
// to end and for the last notifications. phase prefixes the progress's
// phases.
func (r *runner) calls(ctx context.Context, p *pbxPart, phase string, stopped func()) (Traffic, error) {
	var tr Traffic
	before, err := p.ctl.stats(ctx)
	if err != nil {
		return tr, err
	}
	line := r.w.traffic(r.opts.Rate, r.opts.DirectPercent, r.opts.patience(), r.opts.Seed)
	if err := p.ctl.startTraffic(ctx, line); err != nil {
		return tr, fmt.Errorf("loadgen: start the traffic (%s): %w", line, err)
	}
	if err := r.follow(ctx, p, phase+"traffic", r.opts.Duration, nil); err != nil {
		return tr, err
	}
	if stopped != nil {
		stopped()
	}
	if err := p.ctl.stopTraffic(ctx); err != nil {
		return tr, err
	}
	drained := func(s fakeami.Stats) bool { return s.CallsEnded >= s.CallsStarted }
	if err := r.follow(ctx, p, phase+"draining", r.opts.patience(), drained); err != nil {
		return tr, err
	}
	if err := r.follow(ctx, p, phase+"last notifications", noticeGrace, nil); err != nil {
		return tr, err
	}
	after, err := p.ctl.stats(ctx)
	if err != nil {
		return tr, err
	}
	tr.Offered = after.CallsStarted - before.CallsStarted
	tr.Answered = after.CallsAnswered - before.CallsAnswered
	tr.PBX = PBXCost{
		CPUSeconds:    after.CPUSeconds - before.CPUSeconds,
		BytesWritten:  after.BytesWritten - before.BytesWritten,
		EventsWritten: after.EventsWritten - before.EventsWritten,
		MaxRSSBytes:   after.MaxRSSBytes,
		Sessions:      after.Sessions,
	}
	return tr, nil
}

// follow polls the fake PBX's links for d, or until done says so of its
// stats, telling the progress.
func (r *runner) follow(ctx context.Context, p *pbxPart, phase string, d time.Duration, done func(fakeami.Stats) bool) error {
	start := time.Now()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		if err := p.links.poll(ctx); err != nil {
			return fmt.Errorf("loadgen: follow the calls: %w", err)
		}
		st, err := p.ctl.stats(ctx)
		if err != nil {
			return err
		}
		elapsed := time.Since(start)
		r.progress(phase, elapsed, d, &st, len(p.links.links))
		if elapsed >= d || (done != nil && done(st)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// restart stops the server and starts a new one on the same address: the
// seats, told "900 OK server shutdown", dial again until it answers.
func (r *runner) restart(ctx context.Context) error {
	if err := r.stopServer(); err != nil {
		return err
	}
	return r.storm(ctx, "restart", nil)
}

func (r *runner) progress(phase string, elapsed, total time.Duration, st *fakeami.Stats, linked int) {
	if r.opts.Progress == nil {
		return
	}
	p := Progress{
		Phase: phase, Elapsed: elapsed, Total: total, Seats: r.w.seats,
		Confirmed: int(r.fleet.confirmed.Load()), Linked: linked,
	}
	if st != nil {
		p.Offered = st.CallsStarted
	}
	if l := r.notices.Load(); l != nil {
		p.Notified = l.len()
	}
	r.opts.Progress(p)
}

// sample keeps the series: seats confirmed, and calls offered a second.
func (r *runner) sample(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	var (
		last      *control // the fake PBX of lastCalls
		lastCalls int64
		lastAt    time.Time
	)
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			at := now.Sub(r.res.Started)
			r.seriesMu.Lock()
			r.res.Confirmed = append(r.res.Confirmed, report.Point{At: at, Value: float64(r.fleet.confirmed.Load())})
			ctl := r.ctl
			r.seriesMu.Unlock()
			if n%4 != 3 {
				continue
			}
			st, err := ctl.stats(ctx)
			if err != nil {
				continue
			}
			if ctl == last { // a new fake PBX counts from 0: its first sample is the base
				rate := float64(st.CallsStarted-lastCalls) / now.Sub(lastAt).Seconds()
				r.seriesMu.Lock()
				*r.cps = append(*r.cps, report.Point{At: at, Value: rate})
				r.seriesMu.Unlock()
			}
			last, lastCalls, lastAt = ctl, st.CallsStarted, now
			r.trackServer(ctx)
		}
	}
}

// trackServer keeps the server's peak RSS (the kernel's high-water mark
// of a child; the largest RSS sampled of an external server) and, during
// the traffic, its peak of goroutines.
func (r *runner) trackServer(ctx context.Context) {
	st := r.measureServer(ctx)
	traffic := r.inTraffic.Load()
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	if st.Known {
		r.res.Server.MaxRSSBytes = max(r.res.Server.MaxRSSBytes, st.MaxRSSBytes)
	}
	if traffic {
		r.res.Goroutines = max(r.res.Goroutines, st.Goroutines)
	}
}

// countFleet copies the fleet's counters into the result.
func (r *runner) countFleet() {
	c := &r.fleet.counts
	r.res.Logins, r.res.Resumes = c.logins.Load(), c.resumes.Load()
	r.res.Refused, r.res.SeatsTold = c.refused.Load(), c.seatsTold.Load()
	r.res.Pauses, r.res.PausesOK, r.res.PausesKO = c.pauseSent.Load(), c.pauseOK.Load(), c.pauseKO.Load()
	r.res.Keepalives = c.keepalives.Load()
	r.fleet.failMu.Lock()
	r.res.LoginFailed = make(map[string]int64, len(r.fleet.failures))
	for k, v := range r.fleet.failures {
		r.res.LoginFailed[k] = v
	}
	r.fleet.failMu.Unlock()
	if len(r.res.Storms) > 0 && r.res.Storms[0].Measured {
		s := r.res.Storms[0]
		r.res.RSSPerSeat = float64(s.RSSAfter-s.RSSBefore) / float64(max(s.Confirmed, 1))
	}
}

// freePort returns a loopback address with a port free now, for a server
// that must listen on the same address again after a restart.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
