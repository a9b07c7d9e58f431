package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// The faults a run can inject during its traffic (Options.Faults), each
// as a call centre meets it. They are injected in the order given, one
// every Options.FaultEvery, round and round.
const (
	// FaultAMIDrop cuts the server's AMI link: both sockets closed.
	FaultAMIDrop = "ami-drop"
	// FaultAMIStall stalls the AMI link without closing it: nothing more
	// is relayed either way, and the server must notice by its keepalive
	// Ping (Options.AMIPing), reconnect and resync.
	FaultAMIStall = "ami-stall"
	// FaultPBXRestart restarts the fake PBX (its control API's POST
	// /restart, as Asterisk's `core restart now`): every call hangs up,
	// the dynamic members are forgotten, every manager session is closed.
	FaultPBXRestart = "pbx-restart"
	// FaultChurn logs Options.ChurnPercent of the seats out (their
	// connections closed) and lets them log in again.
	FaultChurn = "churn"
	// FaultBadSnapshot writes an invalid configuration snapshot, newest of
	// all, into the server's configuration directory: the server must
	// refuse it and keep the one in force.
	FaultBadSnapshot = "bad-snapshot"
	// FaultBurst opens Options.BurstConns connections that never log in,
	// holds them for burstHold (at most half of Options.FaultEvery), then
	// closes them.
	FaultBurst = "burst"
)

// Faults lists every fault, in the order of the soak's rotation.
var Faults = []string{FaultAMIDrop, FaultChurn, FaultBadSnapshot, FaultBurst, FaultAMIStall, FaultPBXRestart}

// Bounds of the faults.
const (
	// faultRecovery bounds the wait for the server to recover from a fault.
	faultRecovery = 2 * time.Minute
	// burstHold is how long a burst's connections stay open.
	burstHold = 5 * time.Second
	// burstSource is the loopback address a burst connects from: one
	// client, as an attacker is, apart from the seats' addresses.
	burstSource = 9
	// refusedLines bounds the server's refusal log lines kept.
	refusedLines = 64
)

// FaultRecord is one fault and the server after it had recovered.
type FaultRecord struct {
	Kind      string        `json:"kind"`      // one of Faults, or "baseline" before the first
	At        time.Duration `json:"at_ns"`     // since the run's start
	Recovered bool          `json:"recovered"` // the server recovered within faultRecovery
	Took      time.Duration `json:"took_ns"`   // from the fault to its recovery
	Detail    string        `json:"detail"`    // what was done and seen
	// SessionsEnded counts the seat sessions that ended during the fault
	// and its recovery, other than those the fault closed itself: the
	// server must tell the seats nothing wrong.
	SessionsEnded int64 `json:"sessions_ended"`
	// QueueLeft counts the 201 lines (membership removed) in that time.
	QueueLeft int64 `json:"queue_left"`
	// CallsAtFault is the server's calls in progress as the fault was
	// injected (its /metrics), for the faults that break the AMI link: a
	// link broken mid-call. -1 when unknown.
	CallsAtFault int `json:"calls_at_fault"`
	// The server once recovered, from its /metrics and /proc.
	RSSBytes       int64 `json:"rss_bytes"`
	Goroutines     int   `json:"goroutines"`
	SeatsConnected int   `json:"seats_connected"`
	CallsActive    int   `json:"calls_active"`
}

// outage is a time in which a fault makes a call's screen pop optional:
// a call the PBX linked in it need not pop, but must not pop twice. seats,
// when not nil, limits it to the calls answered at those seats.
type outage struct {
	from, to int64 // unix nanoseconds
	seats    map[int]bool
	kind     string // the fault's, to name it beside the calls it touched
}

// excused reports whether a call linked at at (unix nanoseconds) at seat
// need not have popped.
func excused(outs []outage, seat int, at int64) bool {
	for _, o := range outs {
		if at >= o.from && at <= o.to && (o.seats == nil || o.seats[seat]) {
			return true
		}
	}
	return false
}

// nearestFault names the last outage that began no later than at (unix
// nanoseconds), and where at falls in it, for the calls a Delivery names:
// a defect after a fault is traced to it. start is the run's start.
func nearestFault(outs []outage, at int64, start time.Time) string {
	var last *outage
	for i := range outs {
		if o := &outs[i]; o.from <= at && (last == nil || o.from > last.from) {
			last = o
		}
	}
	if last == nil {
		return "before any fault"
	}
	span := fmt.Sprintf("%s from %v to %v", last.kind, time.Duration(last.from-start.UnixNano()), time.Duration(last.to-start.UnixNano()))
	if at <= last.to {
		return "in " + span
	}
	return fmt.Sprintf("%v after %s", time.Duration(at-last.to), span)
}

// faultKnown reports whether kind is a fault.
func faultKnown(kind string) bool { return slices.Contains(Faults, kind) }

// ParseFaults reads a comma-separated list of faults; "all" is every one.
func ParseFaults(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if s == "all" {
		return slices.Clone(Faults), nil
	}
	var kinds []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !faultKnown(k) {
			return nil, fmt.Errorf("fault %q: not one of %s (or all)", k, strings.Join(Faults, ", "))
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// needsProxy reports whether the run's faults break the AMI link.
func (o *Options) needsProxy() bool {
	return slices.Contains(o.Faults, FaultAMIDrop) || slices.Contains(o.Faults, FaultAMIStall)
}

// faultLoop injects the run's faults, one every FaultEvery from the
// traffic's start, until stop is closed, each followed to its recovery.
// The first record is the baseline, before the first fault.
func (r *runner) faultLoop(ctx context.Context, stop <-chan struct{}) {
	r.recordFault(ctx, FaultRecord{Kind: "baseline", At: time.Since(r.res.Started), Recovered: true, CallsAtFault: -1}, 0, 0)
	t := time.NewTicker(r.opts.FaultEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		r.inject(ctx, r.opts.Faults[i%len(r.opts.Faults)])
	}
}

// inject makes one fault and waits for the server to recover from it.
func (r *runner) inject(ctx context.Context, kind string) {
	started := time.Now()
	rec := FaultRecord{Kind: kind, At: started.Sub(r.res.Started), CallsAtFault: -1}
	ended, left := r.fleet.counts.ended.Load(), r.fleet.counts.left.Load()
	var (
		closedHere int64 // sessions the fault ended on purpose
		err        error
	)
	switch kind {
	case FaultAMIDrop, FaultAMIStall, FaultPBXRestart:
		rec.Detail, err = r.breakLink(ctx, kind, started, &rec.CallsAtFault)
	case FaultChurn:
		closedHere, rec.Detail, err = r.churn(ctx, started)
	case FaultBadSnapshot:
		rec.Detail, err = r.badSnapshot(ctx)
	case FaultBurst:
		rec.Detail, err = r.burst(ctx)
	}
	rec.Took = time.Since(started)
	rec.Recovered = err == nil
	if err != nil {
		rec.Detail = strings.TrimSpace(rec.Detail + "; " + err.Error())
	}
	r.recordFault(ctx, rec, r.fleet.counts.ended.Load()-ended-closedHere, r.fleet.counts.left.Load()-left)
}

// recordFault completes rec with the server's figures now and keeps it.
func (r *runner) recordFault(ctx context.Context, rec FaultRecord, sessionsEnded, left int64) {
	rec.SessionsEnded, rec.QueueLeft = sessionsEnded, left
	st := r.measureServer(ctx)
	rec.RSSBytes, rec.Goroutines, rec.SeatsConnected = st.RSSBytes, st.Goroutines, st.SeatsConnected
	if s := r.scraper.Load(); s != nil {
		if m, err := s.scrape(ctx); err == nil {
			rec.CallsActive = m.CallsActive
		}
	}
	r.faultMu.Lock()
	r.res.Faults = append(r.res.Faults, rec)
	r.faultMu.Unlock()
}

// addOutage keeps the outage of a fault of kind from from to now.
func (r *runner) addOutage(kind string, from time.Time, seats map[int]bool) {
	r.faultMu.Lock()
	r.outages = append(r.outages, outage{from: from.UnixNano(), to: time.Now().UnixNano(), seats: seats, kind: kind})
	r.faultMu.Unlock()
}

// breakLink drops or stalls the server's AMI link, or restarts the fake
// PBX, and waits until the server has a new link in use (its /metrics:
// astcti_ami_link_up 1 after one more reconnect), then, after a restart,
// until the PBX has every membership again. The calls linked in that time
// need not pop.
func (r *runner) breakLink(ctx context.Context, kind string, started time.Time, callsAtFault *int) (string, error) {
	s := r.scraper.Load()
	if s == nil {
		return "", errors.New("the server's /metrics are unknown")
	}
	before, err := s.scrape(ctx)
	if err != nil {
		return "", err
	}
	if !before.HasLink {
		return "", errors.New("the server's /metrics have no astcti_ami_link_up")
	}
	*callsAtFault = before.CallsActive
	var detail string
	var stalled []*proxyLink
	switch kind {
	case FaultAMIDrop:
		detail = fmt.Sprintf("dropped %d AMI link(s)", r.proxy.drop())
	case FaultAMIStall:
		stalled = r.proxy.stall()
		detail = fmt.Sprintf("stalled %d AMI link(s)", len(stalled))
	case FaultPBXRestart:
		if err := r.pbx.ctl.do(ctx, "POST", "/restart", "", nil); err != nil {
			return "", err
		}
		detail = "restarted the fake PBX"
	}
	defer func() {
		for _, l := range stalled {
			l.close()
		}
	}()
	defer r.addOutage(kind, started, nil)
	err = r.pollRecovery(ctx, func() (bool, error) {
		m, err := s.scrape(ctx)
		if err != nil {
			return false, nil // the server may be busy: try again
		}
		return m.LinkUp && m.Reconnects > before.Reconnects, nil
	})
	if err != nil {
		return detail, fmt.Errorf("no new AMI link in use: %w", err)
	}
	detail += fmt.Sprintf("; new link in use after %v", time.Since(started).Round(time.Millisecond))
	if kind == FaultPBXRestart {
		want := r.w.seats * r.w.queues
		err = r.pollRecovery(ctx, func() (bool, error) {
			n, err := r.pbx.ctl.members(ctx)
			return err == nil && n >= want, nil
		})
		if err != nil {
			return detail, fmt.Errorf("the PBX's %d memberships not all back: %w", want, err)
		}
		detail += fmt.Sprintf("; %d memberships back", want)
	}
	return detail, nil
}

// pollRecovery polls done until it says so, an error, or faultRecovery.
func (r *runner) pollRecovery(ctx context.Context, done func() (bool, error)) error {
	limit := time.Now().Add(faultRecovery)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(limit) {
			return fmt.Errorf("not within %v", faultRecovery)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// churn closes the connections of ChurnPercent of the logged-in seats and
// waits until every seat is confirmed again. The calls linked meanwhile
// at those seats need not pop.
func (r *runner) churn(ctx context.Context, started time.Time) (int64, string, error) {
	f := r.fleet
	want := max(1, len(f.seats)*r.opts.ChurnPercent/100)
	rng := rand.New(rand.NewPCG(uint64(r.opts.Seed), uint64(started.UnixNano())))
	seats := make(map[int]bool, want)
	for _, i := range rng.Perm(len(f.seats)) {
		if len(seats) == want {
			break
		}
		if f.seats[i].conn.Load() != nil {
			seats[i] = true
		}
	}
	var closed int64
	for i := range seats {
		if c := f.seats[i].conn.Load(); c != nil {
			c.Close()
			closed++
		}
	}
	defer r.addOutage(FaultChurn, started, seats)
	err := r.pollRecovery(ctx, func() (bool, error) {
		return int(f.confirmed.Load()) == r.w.seats, nil
	})
	detail := fmt.Sprintf("closed %d seats' connections", closed)
	if err != nil {
		return closed, detail, fmt.Errorf("not every seat confirmed again (%d of %d): %w", f.confirmed.Load(), r.w.seats, err)
	}
	return closed, detail + "; every seat confirmed again", nil
}

// badSnapshotText is an invalid snapshot: XML cut short, as a copy that
// failed half-way leaves it.
const badSnapshotText = "<?xml version=\"1.0\"?>\n<astcti>\n  <operator name=\"lg00000\" password=\"loadgen\"\n"

// badSnapshot writes an invalid snapshot into the server's configuration
// directory, newest of all, and waits for the server to say that it
// refused it (its log); every seat must stay logged in and confirmed.
func (r *runner) badSnapshot(ctx context.Context) (string, error) {
	dir := filepath.Join(r.dir, "config")
	name := config.SnapshotName(".xml")
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(badSnapshotText), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return "", err
	}
	detail := "wrote " + name
	err := r.pollRecovery(ctx, func() (bool, error) { return r.serverLog.refused(name), nil })
	if err != nil {
		return detail, fmt.Errorf("the server did not say it refused it: %w", err)
	}
	detail += "; refused by the server"
	if c := int(r.fleet.confirmed.Load()); c != r.w.seats {
		return detail, fmt.Errorf("%d of %d seats confirmed after it", c, r.w.seats)
	}
	return detail, nil
}

// burst opens BurstConns connections that never log in from one loopback
// address, holds them for burstHold, closes them, and waits until the
// server holds no more connections than sessions. Whatever limits the
// server sets (a login timeout, caps per address) only change how many
// are accepted and how many it closes first; both are reported.
func (r *runner) burst(ctx context.Context) (string, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if host, _, err := net.SplitHostPort(r.seatAddr); err == nil && host == "127.0.0.1" {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, burstSource)}
	}
	var (
		mu       sync.Mutex
		conns    []net.Conn
		refused  atomic.Int64
		byServer atomic.Int64 // closed by the server before the burst's end
		readers  sync.WaitGroup
		dials    sync.WaitGroup
		closing  atomic.Bool
	)
	slots := make(chan struct{}, 64)
	for range r.opts.BurstConns {
		slots <- struct{}{}
		dials.Go(func() {
			defer func() { <-slots }()
			c, err := d.DialContext(ctx, "tcp", r.seatAddr)
			if err != nil {
				refused.Add(1)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			readers.Go(func() {
				io.Copy(io.Discard, io.LimitReader(c, 64<<10)) // the greeting, what a limit says
				if !closing.Load() {
					byServer.Add(1)
				}
			})
		})
	}
	dials.Wait()
	hold := min(burstHold, r.opts.FaultEvery/2)
	select {
	case <-ctx.Done():
	case <-time.After(hold):
	}
	closing.Store(true)
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	opened := len(conns)
	mu.Unlock()
	readers.Wait()
	detail := fmt.Sprintf("%d opened, %d not accepted, %d closed by the server within %v",
		opened, refused.Load(), byServer.Load(), hold)
	s := r.scraper.Load()
	if s == nil {
		return detail, nil
	}
	err := r.pollRecovery(ctx, func() (bool, error) {
		m, err := s.scrape(ctx)
		return err == nil && int64(m.SeatsConnected) <= r.fleet.loggedIn.Load(), nil
	})
	if err != nil {
		return detail, fmt.Errorf("the server still holds the burst's connections: %w", err)
	}
	return detail, nil
}

// logWatch reads the server's log as it is written, keeping the lines
// that say a configuration was refused. It is safe to use from any
// goroutine.
type logWatch struct {
	mu      sync.Mutex
	partial []byte   // the last line, not ended yet; bounded
	lines   []string // refusals, the last refusedLines
}

// Write takes a chunk of the log.
func (w *logWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := w.partial[:i]
		if bytes.Contains(line, []byte("configuration refused")) {
			if len(w.lines) == refusedLines {
				w.lines = w.lines[1:]
			}
			w.lines = append(w.lines, string(line))
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 { // a line that long is no refusal
		w.partial = w.partial[:0]
	}
	return len(b), nil
}

// refused reports whether a refusal naming file was logged.
func (w *logWatch) refused(file string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, file) {
			return true
		}
	}
	return false
}
