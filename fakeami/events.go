package fakeami

import (
	"strconv"

	"github.com/astcti/astcti/cti/ami"
)

// emitter turns what happens in the model into the manager events of one
// dialect. Each method is one happening; a dialect that has no event for it
// does nothing. p.mu is held when they are called.
type emitter interface {
	newChannel(c *channel)
	newState(c *channel)
	newCallerID(c *channel)
	newConnectedLine(c *channel)
	newExten(c *channel, app, data string)
	varSet(c *channel, name, value string)
	// hangupRequest announces a request to hang c up: HangupRequest, or
	// SoftHangupRequest when soft; withCause false leaves Cause out, as a
	// caller's BYE does.
	hangupRequest(c *channel, cause int, withCause, soft bool)
	hangup(c *channel)
	localBridge(one, two *channel)
	dialBegin(k dialKind, caller, dest *channel, dialString string)
	dialState(k dialKind, caller, dest *channel)
	dialEnd(k dialKind, caller, dest *channel, status string)
	bridgeCreate(b *bridge)
	bridgeEnter(b *bridge, c *channel)
	bridgeBreak(b *bridge)
	bridgeLeave(b *bridge, c *channel)
	bridgeDestroy(b *bridge)
	queueJoin(qc *queueCaller)
	queueLeave(qc *queueCaller)
	queueAbandon(qc *queueCaller)
	agentCalled(qc *queueCaller, m *member, dest *channel)
	agentConnect(qc *queueCaller, m *member, dest *channel, ringTime int)
	agentComplete(qc *queueCaller, m *member, dest *channel, talk int, reason string)
	agentRingNoAnswer(qc *queueCaller, m *member, dest *channel, ringMs int)
	memberEvent(event string, m *member)
	originateResponse(o *originate, c *channel, ok bool, reason int)
	userEvent(c *channel, name string, kv []ami.Field)
	deviceStateChange(dev, state string)
	shutdown(restart bool)
}

// dialKind says who dials: the Dial application, app_queue ringing a
// member, or an AMI Originate.
type dialKind int

const (
	dialApp dialKind = iota
	dialQueue
	dialOriginate
)

func (k dialKind) String() string {
	switch k {
	case dialApp:
		return "Dial"
	case dialQueue:
		return "Queue"
	case dialOriginate:
		return "Originate"
	}
	return "dialKind(" + itoa(int(k)) + ")"
}

// ev starts an event frame.
func ev(name, privilege string) *ami.Frame {
	f := &ami.Frame{Fields: make([]ami.Field, 0, 24)}
	f.Add("Event", name)
	if privilege != "" {
		f.Add("Privilege", privilege)
	}
	return f
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolNum(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
