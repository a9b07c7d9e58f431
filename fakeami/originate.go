package fakeami

import (
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// OriginateResponse reasons (enum ast_control_frame_type as
// ast_pbx_outgoing_* reports them).
const (
	reasonFailed   = 0
	reasonNoAnswer = 3
	reasonAnswered = 4
	reasonBusy     = 5
	reasonCongest  = 8
)

// originate is one AMI Originate in progress.
type originate struct {
	p        *PBX
	actionID string
	channel  string // as requested
	context  string
	exten    string
	priority int
	app      string
	data     string
	cidNum   string
	cidName  string
	async    bool
	timeout  time.Duration
	vars     []varKV
	l        *leg
	timer    *task
	done     bool
}

// parseCallerID splits `"Name" <num>` (or `Name <num>`, or `num`).
func parseCallerID(s string) (num, name string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		num = strings.TrimSpace(s[i+1 : len(s)-1])
		name = strings.Trim(strings.TrimSpace(s[:i]), `"`)
		return num, name
	}
	if strings.Trim(s, "0123456789+*#") == "" {
		return s, ""
	}
	return "", strings.Trim(s, `"`)
}

// actionOriginate performs Originate (manager.c action_originate).
func (p *PBX) actionOriginate(s Sink, a *ami.Frame) {
	id := a.ActionID()
	name, ok := a.Lookup("Channel")
	if !ok || strings.TrimSpace(name) == "" {
		p.respond(s, id, "Error", "Channel not specified")
		return
	}
	o := &originate{
		p: p, actionID: id, channel: strings.TrimSpace(name),
		context: a.Get("Context"), exten: a.Get("Exten"),
		app: a.Get("Application"), data: a.Get("Data"),
		async:   ami.EqualFold(a.Get("Async"), "true") || a.Get("Async") == "1" || ami.EqualFold(a.Get("Async"), "yes"),
		timeout: 30 * time.Second,
	}
	if !strings.Contains(o.channel, "/") {
		p.respond(s, id, "Error", "Invalid channel")
		return
	}
	if t := a.Get("Timeout"); t != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			p.respond(s, id, "Error", "Invalid timeout")
			return
		}
		o.timeout = time.Duration(ms) * time.Millisecond
	}
	o.priority = 1
	if pr := strings.TrimSpace(a.Get("Priority")); pr != "" {
		n, err := strconv.Atoi(pr)
		if err != nil {
			n = p.findLabel(o.context, o.exten, pr)
		}
		o.priority = n
	}
	o.cidNum, o.cidName = parseCallerID(a.Get("CallerID"))
	for _, v := range a.Values("Variable") {
		sep := ","
		if p.opts.Dialect == Dialect14 {
			sep = "|"
		}
		for _, kv := range strings.Split(v, sep) {
			if k, val, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) != "" {
				o.vars = append(o.vars, varKV{strings.TrimSpace(k), val})
			}
		}
	}
	if o.app != "" {
		o.context, o.exten = "", ""
	} else if p.opts.Dialect == DialectModern && !p.extensionExistsAt(o.context, o.exten, o.priority) {
		// Asterisk 12+ checks the destination first (manager.c:
		// "Extension does not exist."); 1.4 does not.
		p.respond(s, id, "Error", "Extension does not exist.")
		return
	}
	if o.async {
		p.respond(s, id, "Success", "Originate successfully queued")
	} else if o.predict() {
		p.respond(s, id, "Success", "Originate successfully queued")
	} else {
		p.respond(s, id, "Error", "Originate failed")
	}
	o.start()
}

func (p *PBX) extensionExistsAt(context, exten string, prio int) bool {
	_, ok := p.findStep(context, exten, prio)
	return ok
}

// predict tells whether a synchronous originate will be answered in time.
// Asterisk sends a synchronous Originate's Response once the call is
// answered or has failed, yet on the wire it comes before the call's own
// events (they are queued to the session while the action runs); the model
// decides the outcome at once from the phone's configured behaviour, so
// the Response goes out first, as in the recordings.
func (o *originate) predict() bool {
	p := o.p
	tech, res, _ := strings.Cut(o.channel, "/")
	if strings.EqualFold(tech, "Local") {
		target, _, _ := strings.Cut(res, "/")
		exten, ctx, ok := strings.Cut(target, "@")
		if !ok {
			ctx = "default"
		}
		steps, found := p.extension(ctx, exten)
		if !found {
			return false
		}
		var waited time.Duration
		for _, st := range steps {
			switch strings.ToLower(st.App) {
			case "answer":
				return waited < o.timeout
			case "wait":
				if len(st.Args) > 0 {
					waited += parseSeconds(st.Args[0])
				}
			case "busy", "congestion", "hangup", "dial", "queue":
				return false
			}
		}
		return false
	}
	ph := p.phoneFor(tech + "/" + res)
	return ph.Behaviour == scenarios.Answers && ph.AnswerAfter < o.timeout
}

// start places the call.
func (o *originate) start() {
	p := o.p
	l := p.startLeg(dialSpec{
		kind: dialOriginate, iface: o.channel, owner: o,
		cidNum: o.cidNum, cidName: o.cidName, vars: o.vars, exten: o.exten,
	})
	if l == nil {
		o.finish(nil, false, reasonFailed)
		return
	}
	o.l = l
	p.em.dialBegin(dialOriginate, nil, l.ch, l.dialString)
	p.ringLeg(l)
	if !o.done {
		o.timer = p.after(o.timeout, o.timedOut)
	}
}

// finish reports the outcome: OriginateResponse, for an async originate.
func (o *originate) finish(c *channel, ok bool, reason int) {
	if o.done {
		return
	}
	o.done = true
	o.timer.cancel(o.p)
	if o.async {
		o.p.em.originateResponse(o, c, ok, reason)
	}
}

func (o *originate) legRinging(l *leg) {
	if o.done {
		return
	}
	o.p.em.dialState(dialOriginate, nil, l.ch)
}

func (o *originate) legAnswered(l *leg) {
	p := o.p
	if o.done {
		return
	}
	c := l.ch
	p.em.dialEnd(dialOriginate, nil, c, "ANSWER")
	o.finish(c, true, reasonAnswered)
	if o.app != "" {
		p.runOriginateApp(c, o.app, o.data)
		return
	}
	if !p.extensionExistsAt(o.context, o.exten, o.priority) {
		// 1.4 does not check the destination first; the channel finds
		// nothing to run and hangs up.
		c.context, c.exten, c.priority = o.context, o.exten, o.priority
		p.destroy(c, causeUnknown)
		return
	}
	p.startDialplan(c, o.context, o.exten, o.priority)
}

func (o *originate) legFailed(l *leg, status string, cause int) {
	p := o.p
	if o.done {
		return
	}
	reason := reasonFailed
	switch status {
	case "BUSY":
		reason = reasonBusy
	case "CONGESTION":
		reason = reasonCongest
	}
	if !l.ch.gone {
		p.em.dialEnd(dialOriginate, nil, l.ch, status)
		hc := cause
		if l.ch.tech == "Local" {
			hc = causeUnknown
		}
		p.destroy(l.ch, hc)
	}
	o.finish(nil, false, reason)
}

// timedOut: the originated channel was not answered within Timeout.
func (o *originate) timedOut() {
	p := o.p
	if o.done || o.l == nil {
		return
	}
	l := o.l
	l.ended = true
	o.timer = nil
	p.hangupLeg(l, causeNoAnswer)
	o.finish(nil, false, reasonNoAnswer)
}

// runOriginateApp runs an Originate's Application on the answered channel
// (no Newexten: it is not a dialplan step), then hangs the channel up.
func (p *PBX) runOriginateApp(c *channel, app, data string) {
	c.th = &thread{ch: c, appOnly: true}
	c.app, c.appData = app, data
	args := strings.Split(data, ",")
	if p.opts.Dialect == Dialect14 {
		args = strings.Split(data, "|")
	}
	if p.runApp(c, app, args) == appNext {
		p.appOnlyDone(c)
	}
}

// appOnlyDone: the application of an originated channel returned.
func (p *PBX) appOnlyDone(c *channel) {
	if c.gone {
		return
	}
	c.th.stop()
	cause := causeNormal
	if c.tech == "Local" {
		cause = causeUnknown
	}
	p.destroy(c, cause)
}
