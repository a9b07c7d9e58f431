package fakeami

import (
	"math"
	"strings"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// incomingCall is a call arriving from outside on a trunk: a SIP/trunk-…
// channel that enters the dialplan at the call's extension and context.
// p.mu must be held.
func (p *PBX) incomingCall(call scenarios.Call) {
	from := call.Channel
	if from == "" {
		from = scenarios.DefaultChannel
	}
	tech, res, ok := strings.Cut(from, "/")
	if !ok || res == "" {
		tech, res = "SIP", from
	}
	ctx := call.Context
	if ctx == "" {
		ctx = "from-trunk"
	}
	c := p.newTechChannel(newChannelOpts{
		tech: tech, resource: res, state: stateDown,
		cidNum: call.CallerNum, cidName: call.CallerName,
		context: ctx, exten: call.Exten,
	})
	c.inbound = true
	c.digits = call.Digits
	p.processed++
	p.deviceChanged(c.device)
	p.setState(c, stateRing)
	if call.HangupAt > 0 {
		t := p.after(call.HangupAt, func() { p.callerHangsUp(c) })
		c.onGone = append(c.onGone, func() { t.cancel(p) })
	}
	p.startDialplan(c, ctx, call.Exten, 1)
}

// callerHangsUp is the caller's BYE. A bridged caller's hangup carries
// cause 16; one still waiting (ringing, queued) hangs up with no cause, as
// chan_sip reports a BYE before answer. p.mu must be held.
func (p *PBX) callerHangsUp(c *channel) {
	if c.gone {
		return
	}
	if c.bridge != nil {
		p.requestHangup(c, causeNormal, true)
		return
	}
	p.requestHangup(c, causeUnknown, false)
}

// trafficGen places random calls: a Poisson process of Rate calls per
// minute into weighted targets.
type trafficGen struct {
	p    *PBX
	cfg  scenarios.Traffic
	rng  *randSource
	next *task
	on   bool
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
	t.schedule()
}

func (t *trafficGen) stop() {
	t.on = false
	t.next.cancel(t.p)
	t.next = nil
}

func (t *trafficGen) schedule() {
	mean := float64(time.Minute) / t.cfg.Rate
	gap := time.Duration(-math.Log(1-t.rng.Float64()) * mean)
	t.next = t.p.after(gap, t.arrive)
}

func (t *trafficGen) arrive() {
	if !t.on {
		return
	}
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
