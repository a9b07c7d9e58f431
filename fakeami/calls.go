package fakeami

import (
	"strings"

	"github.com/astcti/astcti/scenarios"
)

// incomingCall is a call arriving from outside on a trunk: a SIP/trunk-…
// channel that enters the dialplan at the call's extension and context.
// During a shutdown the call is refused: it never arrives. p.mu must be
// held.
func (p *PBX) incomingCall(call scenarios.Call) {
	if p.shuttingDown {
		p.log.Debug("call refused during a shutdown", "from", call.CallerNum, "to", call.Exten+"@"+call.Context)
		return
	}
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
	p.callsStarted.Add(1)
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
