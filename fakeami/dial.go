package fakeami

import (
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// leg is one outgoing channel being rung on behalf of Dial(), app_queue or
// an Originate: a SIP phone's channel or the ;1 half of a Local channel.
type leg struct {
	owner      legOwner
	kind       dialKind
	caller     *channel // nil for an Originate
	ch         *channel
	iface      string // as dialled: SIP/201, Local/201@phones/n
	dialString string // as DialBegin shows it
	m          *member
	started    time.Time
	ringing    bool
	answered   bool
	ended      bool // the owner is done with it (answered, failed, cancelled)
}

// legOwner is told how a leg progresses.
type legOwner interface {
	legRinging(l *leg)
	legAnswered(l *leg)
	// legFailed: the leg will not be answered (BUSY, CHANUNAVAIL, or
	// CANCEL when its channel went away). The channel may still exist.
	legFailed(l *leg, status string, cause int)
}

// gone is called when the leg's channel hangs up.
func (l *leg) gone() {
	if l.ended || l.answered {
		return
	}
	l.ended = true
	l.owner.legFailed(l, "CHANUNAVAIL", l.ch.hangupCause)
}

// phoneSim plays one SIP phone that was rung: it rings, answers, talks and
// hangs up as its scenarios.Phone says.
type phoneSim struct {
	p     *PBX
	ch    *channel
	ph    scenarios.Phone
	tasks []*task
}

func (s *phoneSim) stop() {
	for _, t := range s.tasks {
		t.cancel(s.p)
	}
	s.tasks = nil
}

func (s *phoneSim) after(d time.Duration, f func()) {
	s.tasks = append(s.tasks, s.p.after(d, f))
}

// phoneFor returns how the phone dialled as iface behaves
// (scenarios.Scenario.PhoneFor). p.mu must be held.
func (p *PBX) phoneFor(iface string) scenarios.Phone {
	return (&scenarios.Scenario{Phones: p.phones}).PhoneFor(iface)
}

// phoneCallerID is the caller id a phone's own channel carries: its number
// and, as the recorded sip.conf has it, "Operator <number>".
func phoneCallerID(resource string) (num, name string) {
	if _, err := strconv.Atoi(resource); err == nil {
		return resource, "Operator " + resource
	}
	return resource, resource
}

// dialSpec is what a caller asks to ring.
type dialSpec struct {
	kind     dialKind
	caller   *channel // nil for Originate
	iface    string
	owner    legOwner
	m        *member
	cidNum   string // caller id to present (Originate)
	cidName  string
	vars     []varKV // variables set on the new channel (Originate)
	exten    string  // the Originate's destination extension, if any
	linkedid string
}

// startLeg creates the channel for one interface and starts ringing it.
// It returns nil when no channel could be made (unreachable phone, bad
// interface, a PBX shutting down); the owner is then not called. p.mu
// must be held.
func (p *PBX) startLeg(sp dialSpec) *leg {
	if p.shuttingDown {
		return nil
	}
	iface := strings.TrimSpace(sp.iface)
	tech, res, ok := strings.Cut(iface, "/")
	if !ok || res == "" {
		return nil
	}
	l := &leg{owner: sp.owner, kind: sp.kind, caller: sp.caller, iface: iface, m: sp.m, started: p.now()}
	linkedid := sp.linkedid
	if sp.caller != nil {
		linkedid = sp.caller.linkedid
	}
	if strings.EqualFold(tech, "Local") {
		return p.startLocalLeg(l, res, sp, linkedid)
	}
	ph := p.phoneFor(iface)
	if ph.Behaviour == scenarios.Unreachable {
		return nil
	}
	peer, _, _ := strings.Cut(res, "/") // SIP/trunk/0612345678 is peer trunk
	num, name := phoneCallerID(peer)
	c := p.newTechChannel(newChannelOpts{
		tech: tech, resource: peer, state: stateDown,
		cidNum: num, cidName: name, context: p.opts.PhoneContext, exten: "s",
		linkedid: linkedid,
	})
	l.ch = c
	c.leg = l
	l.dialString = res
	if sp.kind == dialQueue {
		l.dialString = iface
	}
	if sp.kind == dialOriginate {
		c.exten = ""
		p.pseudoStep(c, "AppDial2")
		for _, v := range sp.vars {
			p.setVar(c, v.name, v.value)
		}
		c.connNum, c.connName = c.cidNum, c.cidName
		if sp.cidNum != "" || sp.cidName != "" {
			c.connNum, c.connName = sp.cidNum, sp.cidName
		}
		p.em.newConnectedLine(c)
	} else {
		c.exten = ""
		p.setVar(c, "DIALEDPEERNUMBER", res)
		if sp.kind == dialApp {
			p.connectTo(c, sp.caller)
		}
	}
	p.deviceChanged(c.device)
	c.phone = &phoneSim{p: p, ch: c, ph: ph}
	return l
}

// connectTo shows dest as being called by caller: AppDial pseudo step and
// NewConnectedLine (modern app_dial / app_queue).
func (p *PBX) connectTo(dest, caller *channel) {
	dest.exten = caller.exten
	dest.connNum, dest.connName = caller.cidNum, caller.cidName
	app := "AppDial"
	if dest.leg != nil && dest.leg.kind == dialQueue {
		app = "AppQueue"
	}
	p.pseudoStep(dest, app)
	p.em.newConnectedLine(dest)
}

// ringLeg lets the far end of a leg go: the phone starts to ring, or the
// Local channel's ;2 starts its dialplan. Call it once the owner has
// announced the leg (DialBegin). p.mu must be held.
func (p *PBX) ringLeg(l *leg) {
	c := l.ch
	if c.phone != nil {
		p.simulatePhone(c.phone, l)
		return
	}
	if c.half == 1 {
		two := c.partner
		p.soon(func() { p.localCall(two) })
	}
}

func (p *PBX) simulatePhone(s *phoneSim, l *leg) {
	c := s.ch
	switch s.ph.Behaviour {
	case scenarios.Busy:
		s.after(0, func() {
			if c.gone || l.ended {
				return
			}
			l.ended = true
			if l.kind == dialQueue && l.caller != nil {
				// app_queue takes the busy answer as it takes a ringing
				// one: the member's channel now shows the caller
				c.exten = l.caller.exten
				c.connNum, c.connName = l.caller.cidNum, l.caller.cidName
			}
			l.owner.legFailed(l, "BUSY", causeBusy)
		})
	case scenarios.NeverAnswers:
		s.after(0, func() { p.phoneRings(l) })
	default:
		if !s.ph.NoRinging {
			s.after(0, func() { p.phoneRings(l) })
		}
		s.after(s.ph.AnswerAfter, func() { p.phoneAnswers(l) })
	}
}

func (p *PBX) phoneRings(l *leg) {
	c := l.ch
	if c.gone || l.ended {
		return
	}
	if l.kind == dialQueue && l.caller != nil {
		c.exten = l.caller.exten
		c.connNum, c.connName = l.caller.cidNum, l.caller.cidName
	}
	p.setState(c, stateRinging)
	if l.kind == dialQueue && l.caller != nil {
		p.pseudoStep(c, "AppQueue")
		p.em.newConnectedLine(c)
	}
	l.ringing = true
	l.owner.legRinging(l)
}

func (p *PBX) phoneAnswers(l *leg) {
	c := l.ch
	if c.gone || l.ended {
		return
	}
	p.setState(c, stateUp)
	l.answered = true
	l.ended = true
	if talk := c.phone.ph.TalkFor; talk > 0 {
		c.phone.after(talk, func() { p.requestHangup(c, causeNormal, true) })
	}
	l.owner.legAnswered(l)
}

// answer answers a channel; answering the ;2 half of a Local channel
// answers its ;1 half too, which is how the one who dialled it learns.
// p.mu must be held.
func (p *PBX) answer(c *channel) {
	if c.state == stateUp {
		return
	}
	p.setState(c, stateUp)
	if c.half == 2 && c.partner != nil {
		one := c.partner
		p.soon(func() {
			if one.gone || one.state == stateUp {
				return
			}
			p.setState(one, stateUp)
			if l := one.leg; l != nil && !l.ended {
				l.answered, l.ended = true, true
				l.owner.legAnswered(l)
			}
		})
	}
}

// indicateRinging is Ringing(): the ;1 half of a Local channel shows it.
func (p *PBX) indicateRinging(c *channel) {
	if c.half != 2 || c.partner == nil {
		return
	}
	one := c.partner
	if one.gone || one.state == stateUp {
		return
	}
	p.setState(one, stateRinging)
	if l := one.leg; l != nil && !l.ended && !l.ringing {
		l.ringing = true
		l.owner.legRinging(l)
	}
}

// indicateBusy is Busy(): whoever dialled the Local channel gets BUSY.
func (p *PBX) indicateBusy(c *channel, cause int) {
	c.hangupCause = cause
	if c.half != 2 || c.partner == nil {
		return
	}
	one := c.partner
	if l := one.leg; l != nil && !l.ended && !l.answered {
		l.ended = true
		status := "BUSY"
		if cause != causeBusy {
			status = "CONGESTION"
		}
		l.owner.legFailed(l, status, cause)
	}
}

// hangupLeg hangs up a leg's channel that its owner gave up on.
// p.mu must be held.
func (p *PBX) hangupLeg(l *leg, cause int) {
	l.ended = true
	if !l.ch.gone {
		p.destroy(l.ch, cause)
	}
}

// dialOp is one running Dial().
type dialOp struct {
	p        *PBX
	caller   *channel
	legs     []*leg
	timer    *task
	opts     string
	done     bool
	answered *leg
	busy     bool
}

// dialApp runs Dial(iface&iface…,timeout,options). p.mu must be held.
func (p *PBX) dialApp(c *channel, args []string) appResult {
	ifaces, timeout, opts := "", time.Duration(0), ""
	if len(args) > 0 {
		ifaces = args[0]
	}
	if len(args) > 1 {
		timeout = parseSeconds(args[1])
	}
	if len(args) > 2 {
		opts = args[2]
	}
	d := &dialOp{p: p, caller: c, opts: opts}
	for _, v := range []string{"DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME"} {
		p.setVar(c, v, "")
	}
	for _, iface := range strings.Split(ifaces, "&") {
		if strings.TrimSpace(iface) == "" {
			continue
		}
		l := p.startLeg(dialSpec{kind: dialApp, caller: c, iface: iface, owner: d})
		if l != nil {
			d.legs = append(d.legs, l)
		}
	}
	if len(d.legs) == 0 {
		p.setVar(c, "DIALSTATUS", "CHANUNAVAIL")
		return appNext
	}
	for _, l := range d.legs {
		p.em.dialBegin(dialApp, c, l.ch, l.dialString)
		if len(d.legs) == 1 && p.opts.Dialect == DialectModern {
			// Dialling one destination, app_dial shows the caller its
			// connected line at once; with several, when one answers.
			c.connNum, c.connName = l.ch.cidNum, l.ch.cidName
			p.em.newConnectedLine(c)
		}
		if p.opts.Dialect == Dialect14 && l.ch.half == 1 {
			// 1.4 app_dial shows the callee leg as called by the
			// caller's extension (app_dial.c, ast_set_callerid).
			l.ch.cidNum, l.ch.cidName = c.exten, ""
			p.em.newCallerID(l.ch)
		}
		p.ringLeg(l)
	}
	if timeout > 0 {
		d.timer = p.after(timeout, d.timeout)
	}
	c.th.interrupt = d.interrupt
	return appAsync
}

func (d *dialOp) legRinging(l *leg) {
	p := d.p
	if d.done {
		return
	}
	p.em.dialState(dialApp, d.caller, l.ch)
	if p.opts.Dialect == Dialect14 && !d.caller.ringingSent {
		// 1.4 passes the first ringing on to the caller, even an answered
		// one; a Local caller's ;1 half shows it as Newstate Ringing.
		d.caller.ringingSent = true
		if d.caller.half == 2 && d.caller.partner != nil && !d.caller.partner.gone {
			p.setState(d.caller.partner, stateRinging)
		}
	}
}

func (d *dialOp) legAnswered(l *leg) {
	p := d.p
	if d.done {
		return
	}
	d.done = true
	d.answered = l
	d.timer.cancel(p)
	c := d.caller
	if c.connNum != l.ch.cidNum || c.connName != l.ch.cidName {
		c.connNum, c.connName = l.ch.cidNum, l.ch.cidName
		p.em.newConnectedLine(c)
	}
	d.cancelOthers(l, p.cancelCause())
	p.setVar(c, "DIALSTATUS", "ANSWER")
	p.setVar(c, "DIALEDPEERNAME", l.ch.name)
	p.setVar(c, "DIALEDPEERNUMBER", l.ch.resource)
	l.ch.exten = ""
	p.em.dialEnd(dialApp, c, l.ch, "ANSWER")
	tech := ""
	if c.tech != "Local" && l.ch.tech != "Local" {
		tech = "native_rtp"
	}
	c.th.interrupt = nil
	p.bridgeAnswered(c, l.ch, tech, strings.Contains(d.opts, "g"))
}

// bridgeAnswered bridges a caller running Dial() with the leg that
// answered, and disposes of whoever is left when the bridge ends.
func (p *PBX) bridgeAnswered(c, dest *channel, tech string, continueAfter bool) {
	p.pseudoStep(dest, "AppDial")
	b := p.bridgeCall(c, dest, tech)
	b.afterEnd = func(left *channel, peerCause int) {
		if left == c {
			if continueAfter {
				p.setVar(c, "DIALSTATUS", "ANSWER")
				p.resume(c)
				return
			}
			p.setVar(c, "DIALSTATUS", "ANSWER")
			c.th.stop()
			cause := causeNormal
			if p.opts.Dialect == Dialect14 {
				cause = peerCause
			}
			p.softHangupChan(c, causeNormal, cause)
			return
		}
		// the caller hung up: the callee is hung up too.
		p.softHangupChan(left, causeNormal, causeNormal)
	}
}

// noAnswerCause is the cause a leg rung too long hangs up with: 16 for a
// SIP phone in Asterisk 20 (b1_nonqueue_noanswer), 0 for a Local channel
// (asterisk-22.10.1 b1_nonqueue_noanswer) and in 1.4.
func (p *PBX) noAnswerCause(l *leg) int {
	if p.opts.Dialect == Dialect14 || l.ch.tech == "Local" {
		return causeUnknown
	}
	return causeNormal
}

// callerGoneCause is the cause the legs still ringing hang up with when
// the caller hangs up: 16 in Asterisk 22 (b2_nonqueue_caller_hangup), 0 in
// 1.4.
func (p *PBX) callerGoneCause() int {
	if p.opts.Dialect == Dialect14 {
		return causeUnknown
	}
	return causeNormal
}

// cancelCause is the cause a leg that lost the race hangs up with.
func (p *PBX) cancelCause() int {
	if p.opts.Dialect == Dialect14 {
		return causeUnknown
	}
	return causeAnsweredElsewhere
}

func (d *dialOp) cancelOthers(keep *leg, cause int) {
	for _, o := range d.legs {
		if o == keep || o.ended {
			continue
		}
		o.ended = true
		d.p.em.dialEnd(dialApp, d.caller, o.ch, "CANCEL")
		d.p.hangupLeg(o, cause)
	}
}

func (d *dialOp) legFailed(l *leg, status string, cause int) {
	p := d.p
	if d.done {
		return
	}
	l.ended = true
	if status == "BUSY" {
		d.busy = true
	}
	p.em.dialEnd(dialApp, d.caller, l.ch, status)
	if !l.ch.gone {
		hc := cause
		if l.ch.tech == "Local" {
			hc = causeUnknown
		}
		p.destroy(l.ch, hc)
	}
	for _, o := range d.legs {
		if !o.ended {
			return
		}
	}
	d.finish(status, cause)
}

// finish returns from Dial() without an answer.
func (d *dialOp) finish(status string, cause int) {
	p := d.p
	d.done = true
	d.timer.cancel(p)
	if d.busy {
		status = "BUSY"
		d.caller.hangupCause = causeBusy
	}
	p.setVar(d.caller, "DIALSTATUS", status)
	p.resume(d.caller)
}

// timeout: nobody answered within Dial()'s timeout.
func (d *dialOp) timeout() {
	p := d.p
	if d.done {
		return
	}
	d.done = true
	var ringing []*leg
	for _, l := range d.legs {
		if !l.ended {
			l.ended = true
			ringing = append(ringing, l)
			p.em.dialEnd(dialApp, d.caller, l.ch, "NOANSWER")
		}
	}
	for _, l := range ringing {
		p.hangupLeg(l, p.noAnswerCause(l))
	}
	p.setVar(d.caller, "DIALSTATUS", "NOANSWER")
	p.resume(d.caller)
}

// interrupt: the caller hangs up while Dial() rings.
func (d *dialOp) interrupt(cause int) {
	p := d.p
	if d.done {
		return
	}
	d.done = true
	d.timer.cancel(p)
	for _, l := range d.legs {
		if !l.ended {
			l.ended = true
			p.em.dialEnd(dialApp, d.caller, l.ch, "CANCEL")
			p.hangupLeg(l, p.callerGoneCause())
		}
	}
	p.setVar(d.caller, "DIALSTATUS", "CANCEL")
}

// localCall is the ;2 half of a Local channel being called: it takes the
// caller id of its ;1 half and runs the dialplan at exten@context; when
// that extension does not exist, both halves hang up. p.mu must be held.
func (p *PBX) localCall(two *channel) {
	one := two.partner
	if two.gone || one == nil || one.gone {
		return
	}
	if !p.extensionExists(two.context, two.exten) {
		p.destroy(two, causeUnknown)
		return
	}
	if two.cidNum == "" && two.cidName == "" {
		two.cidNum, two.cidName = one.cidNum, one.cidName
	}
	if two.connNum == "" && two.connName == "" {
		two.connNum, two.connName = one.connNum, one.connName
	}
	if p.opts.Dialect == DialectModern {
		if l := one.leg; l != nil && l.kind != dialOriginate {
			p.setVar(two, "DIALEDPEERNUMBER", one.resource)
		}
		p.em.newCallerID(two)
		p.em.newConnectedLine(two)
		p.em.localBridge(one, two)
	}
	p.startDialplan(two, two.context, two.exten, 1)
}
