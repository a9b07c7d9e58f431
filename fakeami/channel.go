package fakeami

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// chanState is an Asterisk channel state (ast_channel_state).
type chanState int

const (
	stateDown    chanState = 0
	stateRing    chanState = 4
	stateRinging chanState = 5
	stateUp      chanState = 6
	stateBusy    chanState = 7
)

func (s chanState) String() string {
	switch s {
	case stateDown:
		return "Down"
	case stateRing:
		return "Ring"
	case stateRinging:
		return "Ringing"
	case stateUp:
		return "Up"
	case stateBusy:
		return "Busy"
	}
	return "Unknown"
}

// Hangup causes (Q.850), as Asterisk names them in Cause-txt.
const (
	causeUnknown           = 0
	causeUnallocated       = 1
	causeNormal            = 16
	causeBusy              = 17
	causeNoAnswer          = 19
	causeUnavailable       = 20
	causeAnsweredElsewhere = 26
)

func causeText(c int) string {
	switch c {
	case causeUnknown:
		return "Unknown"
	case causeUnallocated:
		return "Unallocated (unassigned) number"
	case causeNormal:
		return "Normal Clearing"
	case causeBusy:
		return "User busy"
	case 18:
		return "No user responding"
	case causeNoAnswer:
		return "User alerting, no answer"
	case causeUnavailable:
		return "Subscriber absent"
	case 21:
		return "Call Rejected"
	case causeAnsweredElsewhere:
		return "Answered elsewhere"
	case 34:
		return "Circuit/channel congestion"
	}
	return "Unknown"
}

// channel is one Asterisk channel.
type channel struct {
	name     string
	uniqueid string
	linkedid string
	tech     string // SIP, Local, PJSIP …
	device   string // SIP/201, Local/201@phones: what device state and queue members name
	resource string // 201, 201@phones
	half     int    // 1 or 2 for a Local channel, else 0
	partner  *channel

	state             chanState
	cidNum, cidName   string
	connNum, connName string
	context, exten    string
	priority          int
	app, appData      string // application running now, for CoreShowChannels and Status
	vars              varList
	created, answered time.Time
	hangupCause       int
	gone              bool
	softHangup        bool // a hangup has been requested
	bridge            *bridge
	th                *thread   // dialplan thread, when the channel runs dialplan
	leg               *leg      // when the channel was dialled (Dial, Queue, Originate)
	phone             *phoneSim // when the channel is a simulated phone
	caller            *queueCaller
	ringingSent       bool   // 1.4: ringing already indicated to the caller side
	inbound           bool   // a call that came in from outside (in use from the start)
	digits            string // DTMF the caller will key in (Read)
	onGone            []func()
	nameKey, devKey   string // name in lower case, device in upper case: the chanTable's keys
}

// varList is an ordered set of variables. Names compare case-insensitively
// for builtin variables in Asterisk; we keep them case-sensitive like user
// variables, which is what the dialplan uses.
type varList []varKV

type varKV struct{ name, value string }

func (v *varList) set(name, value string) {
	for i := range *v {
		if (*v)[i].name == name {
			(*v)[i].value = value
			return
		}
	}
	*v = append(*v, varKV{name, value})
}

func (v varList) get(name string) (string, bool) {
	for _, kv := range v {
		if kv.name == name {
			return kv.value, true
		}
	}
	return "", false
}

// deviceOf returns the device of a dial string or queue interface:
// "SIP/201" for "SIP/201", "SIP/trunk" for "SIP/trunk/0612345678",
// "Local/201@phones" for "Local/201@phones/n".
func deviceOf(iface string) string {
	tech, res, ok := strings.Cut(iface, "/")
	if !ok {
		return iface
	}
	res, _, _ = strings.Cut(res, "/")
	return tech + "/" + res
}

// newChannelOpts are the parameters of a channel being created.
type newChannelOpts struct {
	tech, resource  string
	state           chanState
	cidNum, cidName string
	context, exten  string
	linkedid        string // "" = its own uniqueid
	quiet           bool   // do not emit Newchannel yet
}

// newUniqueid returns the next uniqueid: creation time in epoch seconds,
// a dot, and a counter that starts at 0 with the PBX (main/channel.c
// __ast_channel_alloc_ap). p.mu must be held.
func (p *PBX) newUniqueid() string {
	id := strconv.FormatInt(p.now().Unix(), 10) + "." + strconv.Itoa(p.uidSeq)
	p.uidSeq++
	return id
}

// nextSuffix returns the next channel name suffix: 8 hex digits from one
// counter (chan_sip, chan_pjsip and modern chan_local), or 4 random hex
// digits for a 1.4 Local channel (chan_local.c local_alloc). p.mu must be held.
func (p *PBX) nextSuffix(local14 bool) string {
	if local14 {
		return fmt.Sprintf("%04x", p.rng.IntN(0x10000))
	}
	s := fmt.Sprintf("%08x", p.chanSeq)
	p.chanSeq++
	return s
}

// addChannel creates a channel and announces it. p.mu must be held.
func (p *PBX) addChannel(o newChannelOpts, name string) *channel {
	c := &channel{
		name:     name,
		uniqueid: p.newUniqueid(),
		tech:     o.tech,
		resource: o.resource,
		device:   o.tech + "/" + o.resource,
		state:    o.state,
		cidNum:   o.cidNum,
		cidName:  o.cidName,
		context:  o.context,
		exten:    o.exten,
		priority: 1,
		created:  p.now(),
	}
	c.linkedid = o.linkedid
	if c.linkedid == "" {
		c.linkedid = c.uniqueid
	}
	p.chans.add(c)
	if !o.quiet {
		p.em.newChannel(c)
	}
	return c
}

// newTechChannel creates a channel of a device technology (SIP, PJSIP …)
// named tech/resource-XXXXXXXX. p.mu must be held.
func (p *PBX) newTechChannel(o newChannelOpts) *channel {
	name := o.tech + "/" + o.resource + "-" + p.nextSuffix(false)
	return p.addChannel(o, name)
}

// newLocalPair creates the two halves of a Local channel to exten@context.
// Half 1 is the one that is dialled, half 2 runs the dialplan.
// p.mu must be held.
func (p *PBX) newLocalPair(exten, context, linkedid string) (one, two *channel) {
	res := exten + "@" + context
	var n1, n2 string
	if p.opts.Dialect == Dialect14 {
		base := "Local/" + res + "-" + p.nextSuffix(true)
		n1, n2 = base+",1", base+",2"
	} else {
		base := "Local/" + res + "-" + p.nextSuffix(false)
		n1, n2 = base+";1", base+";2"
	}
	o := newChannelOpts{tech: "Local", resource: res, context: context, exten: exten, linkedid: linkedid}
	o.state = stateDown
	one = p.addChannel(o, n1)
	if linkedid == "" {
		o.linkedid = one.uniqueid
	}
	o.state = stateRing
	two = p.addChannel(o, n2)
	one.half, two.half = 1, 2
	one.partner, two.partner = two, one
	p.deviceChanged(one.device)
	return one, two
}

// setState changes a channel's state and announces it. p.mu must be held.
func (p *PBX) setState(c *channel, s chanState) {
	if c.gone || c.state == s {
		return
	}
	c.state = s
	if s == stateUp && c.answered.IsZero() {
		c.answered = p.now()
	}
	p.em.newState(c)
	p.deviceChanged(c.device)
}

// setVar sets a channel variable and, in the modern dialect, announces it
// with VarSet. p.mu must be held.
func (p *PBX) setVar(c *channel, name, value string) {
	if c == nil {
		p.globals.set(name, value)
		return
	}
	c.vars.set(name, value)
	p.em.varSet(c, name, value)
}

// channelByName finds a live channel by its full name, case-insensitively
// as ast_channel_get_by_name does. p.mu must be held.
func (p *PBX) channelByName(name string) *channel { return p.chans.named(name) }

// destroy hangs up c: it leaves its bridge, is announced with Hangup and
// forgotten, and everything that waited on it is told. cause is the
// channel's hangup cause. p.mu must be held.
func (p *PBX) destroy(c *channel, cause int) {
	if c.gone {
		return
	}
	c.softHangup = true
	if c.th != nil {
		c.th.stop()
	}
	if c.phone != nil {
		c.phone.stop()
	}
	if b := c.bridge; b != nil {
		p.leaveBridge(b, c)
	}
	c.hangupCause = cause
	c.gone = true
	if c.inbound {
		p.callsEnded.Add(1)
	}
	p.em.hangup(c)
	p.chans.remove(c)
	p.deviceChanged(c.device)
	hooks := c.onGone
	c.onGone = nil
	for _, f := range hooks {
		f()
	}
	if l := c.leg; l != nil {
		l.gone()
	}
	p.localPartnerGone(c)
}

// requestHangup asks a channel to hang up, as a BYE from the far end or an
// AMI Hangup does: HangupRequest (modern), then whatever the channel was
// doing is interrupted and the channel hangs up. p.mu must be held.
func (p *PBX) requestHangup(c *channel, cause int, emitCause bool) {
	if c.gone || c.softHangup {
		return
	}
	c.softHangup = true
	p.em.hangupRequest(c, cause, emitCause, false)
	p.interrupt(c, cause)
}

// softHangup is a hangup the PBX itself decides (end of a bridge, end of an
// application): SoftHangupRequest (modern), then the channel hangs up.
// p.mu must be held.
func (p *PBX) softHangupChan(c *channel, reqCause, cause int) {
	if c.gone {
		return
	}
	c.softHangup = true
	p.em.hangupRequest(c, reqCause, true, true)
	p.interrupt(c, cause)
}

// interrupt ends what c is doing because it must hang up, then hangs it up.
// p.mu must be held.
func (p *PBX) interrupt(c *channel, cause int) {
	if c.gone {
		return
	}
	switch {
	case c.th != nil && c.th.interrupt != nil:
		// the running application tidies up (cancels its dial legs,
		// leaves its queue) and then hangs the channel up.
		f := c.th.interrupt
		c.th.interrupt = nil
		f(cause)
		if !c.gone {
			p.destroy(c, cause)
		}
	case c.bridge != nil:
		p.bridgeHangup(c, cause)
	case c.leg != nil && !c.leg.answered && !c.leg.ended:
		c.leg.ended = true
		c.leg.owner.legFailed(c.leg, "CANCEL", cause)
		p.destroy(c, cause)
	default:
		p.destroy(c, cause)
	}
}

// deviceState returns the state Asterisk would give a device now.
// p.mu must be held.
func (p *PBX) deviceState(dev string) string {
	if ph := p.phones[dev]; ph != nil && ph.Behaviour == scenarios.Unreachable {
		return "UNAVAILABLE"
	}
	ringing, up := false, false
	for _, c := range p.chans.onDevice(strings.ToUpper(dev)) {
		if c.tech == "Local" || c.inbound {
			up = true // a Local device is in use while any of its channels exists
			continue
		}
		if c.state == stateUp {
			up = true
		} else {
			ringing = true
		}
	}
	switch {
	case up && ringing:
		return "RINGINUSE"
	case up:
		return "INUSE"
	case ringing:
		return "RINGING"
	}
	return "NOT_INUSE"
}

// deviceChanged recomputes a device's state and, when it changed, announces
// it and updates the queue members that watch it. p.mu must be held.
func (p *PBX) deviceChanged(dev string) {
	if p.devStates == nil {
		p.devStates = make(map[string]string)
	}
	key := strings.ToUpper(dev)
	st := p.deviceState(dev)
	old, seen := p.devStates[key]
	if !seen {
		old = "NOT_INUSE"
	}
	if st == old {
		return
	}
	p.devStates[key] = st
	p.em.deviceStateChange(dev, st)
	p.membersDeviceChanged(dev, st)
}

// devStatus maps a device state to a queue member Status number
// (enum ast_device_state).
func devStatus(st string) int {
	switch st {
	case "NOT_INUSE":
		return 1
	case "INUSE":
		return 2
	case "BUSY":
		return 3
	case "INVALID":
		return 4
	case "UNAVAILABLE":
		return 5
	case "RINGING":
		return 6
	case "RINGINUSE":
		return 7
	case "ONHOLD":
		return 8
	}
	return 0
}
