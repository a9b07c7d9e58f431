package fakeami

import "strings"

// Local channels (chan_local, core_local in Asterisk 12+): dialling
// Local/201@phones makes a pair of channels. Half 1 is what the caller
// rings; half 2 runs the dialplan at 201@phones, and what it does (Ringing,
// Answer, Busy, Hangup) is what the caller sees on half 1. The recorded
// 1.4 and 22 PBXs use Local channels as phones; the model supports them the
// same way, so a scenario can describe a phone by dialplan.

// startLocalLeg creates the Local pair for one leg. res is what follows
// "Local/": exten@context[/options]. p.mu must be held.
func (p *PBX) startLocalLeg(l *leg, res string, sp dialSpec, linkedid string) *leg {
	target, _, _ := strings.Cut(res, "/")
	exten, ctx, ok := strings.Cut(target, "@")
	if !ok || ctx == "" {
		ctx = "default"
	}
	one, two := p.newLocalPair(exten, ctx, linkedid)
	l.ch = one
	one.leg = l
	l.dialString = target
	if sp.kind == dialQueue {
		l.dialString = l.iface
	}
	modern := p.opts.Dialect == DialectModern
	switch sp.kind {
	case dialOriginate:
		one.cidNum, one.cidName = sp.cidNum, sp.cidName
		two.cidNum, two.cidName = sp.cidNum, sp.cidName
		if modern {
			p.pseudoStep(one, "AppDial2")
		}
		for _, v := range sp.vars {
			p.setVar(one, v.name, v.value)
		}
		if modern {
			if sp.cidNum != "" || sp.cidName != "" {
				p.em.newCallerID(one)
			}
			one.connNum, one.connName = one.cidNum, one.cidName
			p.em.newConnectedLine(one)
		} else {
			// 1.4 sets the originate caller id on the channel once, and
			// once more for an originate to an extension
			// (__ast_request_and_dial and ast_pbx_outgoing_exten).
			p.em.newCallerID(one)
			if sp.exten != "" && (sp.cidNum != "" || sp.cidName != "") {
				p.em.newCallerID(one)
			}
		}
	case dialQueue:
		one.cidNum, one.cidName = sp.caller.cidNum, sp.caller.cidName
		two.cidNum, two.cidName = sp.caller.cidNum, sp.caller.cidName
		if modern {
			one.exten = exten
			p.pseudoStep(one, "AppQueue")
			p.em.newCallerID(one)
			p.setVar(one, "DIALEDPEERNUMBER", res)
		}
	default:
		two.cidNum, two.cidName = sp.caller.cidNum, sp.caller.cidName
		if modern {
			one.cidNum, one.cidName = sp.caller.exten, sp.caller.cidName
			p.setVar(one, "DIALEDPEERNUMBER", target)
			one.exten = sp.caller.exten
			one.connNum, one.connName = sp.caller.cidNum, sp.caller.cidName
			p.pseudoStep(one, "AppDial")
			p.em.newCallerID(one)
			p.em.newConnectedLine(one)
		} else {
			one.cidNum, one.cidName = sp.caller.cidNum, sp.caller.cidName
		}
	}
	return l
}

// localPartnerGone passes the hangup of one half of a Local channel on to
// the other half. In 1.4 the cause travels from half 2 to half 1 only
// (chan_local.c local_hangup); in modern Asterisk both ways.
// p.mu must be held.
func (p *PBX) localPartnerGone(c *channel) {
	o := c.partner
	if o == nil || o.gone {
		return
	}
	cause := c.hangupCause
	if p.opts.Dialect == Dialect14 && c.half == 1 {
		cause = causeUnknown
	}
	if o.hangupCause != 0 && o.half == 2 {
		cause = o.hangupCause // e.g. Busy() set it
	}
	if !o.softHangup {
		o.softHangup = true
		p.em.hangupRequest(o, cause, true, false)
	}
	p.interrupt(o, cause)
}
