package fakeami

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// trafficGen places random calls: a Poisson process of Rate calls per
// minute into weighted targets. One timer task is armed at a time, for the
// next arrival, whatever the rate.
//
// Each arrival is due a random gap after the one before it was due, not
// after the moment it ran: a timer fires late (the clock's wake-up, the
// PBX's lock), and counting the gaps from then would lower the rate by
// that lateness once per call — at 500 calls/s, a fraction of a
// millisecond a call cost a quarter of the calls.
type trafficGen struct {
	p      *PBX
	cfg    scenarios.Traffic
	rng    *randSource
	next   *task
	due    time.Time // when the next arrival is due
	on     bool
	placed int64 // calls placed so far
}

func newTraffic(p *PBX, cfg *scenarios.Traffic, seed int64) *trafficGen {
	if cfg.Seed != 0 {
		seed = cfg.Seed
	}
	return &trafficGen{p: p, cfg: *cfg, rng: newRandSource(seed)}
}

func (t *trafficGen) start() {
	if t.on || t.cfg.Rate <= 0 || len(t.cfg.Targets) == 0 {
		return
	}
	t.on = true
	t.due = t.p.now()
	t.schedule()
}

// maxTrafficLag is how far behind its arrivals the traffic may fall: a
// PBX that cannot keep up skips the calls it is later than this for
// instead of placing them all in one burst. GET /traffic's placed count
// shows the calls that were placed.
const maxTrafficLag = time.Second

func (t *trafficGen) stop() {
	t.on = false
	t.next.cancel(t.p)
	t.next = nil
}

func (t *trafficGen) schedule() {
	mean := float64(time.Minute) / t.cfg.Rate
	gap := time.Duration(-math.Log(1-t.rng.Float64()) * mean)
	now := t.p.now()
	t.due = t.due.Add(gap)
	if now.Sub(t.due) > maxTrafficLag {
		t.due = now
	}
	t.next = t.p.after(t.due.Sub(now), t.arrive)
}

func (t *trafficGen) arrive() {
	if !t.on {
		return
	}
	t.placed++
	t.p.incomingCall(t.call())
	t.schedule()
}

// call draws one call.
func (t *trafficGen) call() scenarios.Call {
	total := 0
	for _, tg := range t.cfg.Targets {
		total += max(tg.Weight, 1)
	}
	pick := t.rng.IntN(total)
	target := t.cfg.Targets[0]
	for _, tg := range t.cfg.Targets {
		pick -= max(tg.Weight, 1)
		if pick < 0 {
			target = tg
			break
		}
	}
	num := t.cfg.FromNum
	if t.cfg.ToNum > t.cfg.FromNum {
		num += t.rng.IntN(t.cfg.ToNum - t.cfg.FromNum + 1)
	}
	hold := t.cfg.MinHold
	if t.cfg.MaxHold > t.cfg.MinHold {
		hold += time.Duration(t.rng.Int64N(int64(t.cfg.MaxHold - t.cfg.MinHold)))
	}
	return scenarios.Call{
		CallerNum: itoa(num), CallerName: "Caller " + itoa(num),
		Exten: target.Exten, Context: target.Context, HangupAt: hold, Channel: t.cfg.Channel,
	}
}

// TrafficStatus is the steady traffic of a PBX, as GET /traffic shows it.
type TrafficStatus struct {
	On            bool     `json:"on"`              // placing calls now
	Line          string   `json:"line"`            // the traffic line, as a scenario writes it; "" if there never was one
	RatePerSecond float64  `json:"rate_per_second"` // mean calls per second
	Targets       []string `json:"targets"`         // extension@context*weight
	Placed        int64    `json:"placed"`          // calls this traffic has placed
}

// Traffic returns the PBX's steady traffic: the last one started, even if
// it has been stopped since. It is safe to call from any goroutine.
func (p *PBX) Traffic() TrafficStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.traffic
	if t == nil {
		return TrafficStatus{Targets: []string{}}
	}
	st := TrafficStatus{On: t.on, Line: trafficLine(&t.cfg), RatePerSecond: t.cfg.Rate / 60,
		Targets: make([]string, 0, len(t.cfg.Targets)), Placed: t.placed}
	for _, tg := range t.cfg.Targets {
		st.Targets = append(st.Targets, targetText(tg))
	}
	return st
}

// StopTraffic stops the steady traffic, if any; calls already placed go
// on. It reports whether traffic was running. It is safe to call from any
// goroutine.
func (p *PBX) StopTraffic() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.traffic == nil || !p.traffic.on {
		return false
	}
	p.traffic.stop()
	return true
}

// trafficLine writes t in the syntax of a scenario's traffic file, so that
// posting it again starts the same traffic.
func trafficLine(t *scenarios.Traffic) string {
	var b strings.Builder
	b.WriteString("rate ")
	b.WriteString(strconv.FormatFloat(t.Rate/60, 'g', -1, 64))
	b.WriteString("/s to")
	for _, tg := range t.Targets {
		b.WriteString(" ")
		b.WriteString(targetText(tg))
	}
	b.WriteString(" from " + itoa(t.FromNum))
	if t.ToNum != t.FromNum {
		b.WriteString("-" + itoa(t.ToNum))
	}
	b.WriteString(" patience " + t.MinHold.String())
	if t.MaxHold != t.MinHold {
		b.WriteString("-" + t.MaxHold.String())
	}
	if t.Channel != "" && t.Channel != scenarios.DefaultChannel {
		b.WriteString(" via " + t.Channel)
	}
	if t.Seed != 0 {
		b.WriteString(" seed " + strconv.FormatInt(t.Seed, 10))
	}
	return b.String()
}

func targetText(tg scenarios.Target) string {
	s := tg.Exten + "@" + tg.Context
	if tg.Weight > 1 {
		s += "*" + itoa(tg.Weight)
	}
	return s
}
