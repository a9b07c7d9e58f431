package fakeami

import (
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// eventsModern speaks the events of Asterisk 12–22 (main/manager_channels.c,
// main/manager_bridges.c, apps/app_queue.c, main/stasis_channels.c), with the
// field order of the Asterisk 20 and 22 recordings.
type eventsModern struct{ p *PBX }

// chanBlock appends the channel snapshot that modern events carry
// (ast_manager_build_channel_state_string_prefix).
func chanBlock(f *ami.Frame, prefix string, c *channel) {
	f.Add(prefix+"Channel", c.name)
	f.Add(prefix+"ChannelState", strconv.Itoa(int(c.state)))
	f.Add(prefix+"ChannelStateDesc", c.state.String())
	f.Add(prefix+"CallerIDNum", cidText(c.cidNum))
	f.Add(prefix+"CallerIDName", cidText(c.cidName))
	f.Add(prefix+"ConnectedLineNum", cidText(c.connNum))
	f.Add(prefix+"ConnectedLineName", cidText(c.connName))
	f.Add(prefix+"Language", "en")
	f.Add(prefix+"AccountCode", "")
	f.Add(prefix+"Context", c.context)
	f.Add(prefix+"Exten", c.exten)
	f.Add(prefix+"Priority", strconv.Itoa(c.priority))
	f.Add(prefix+"Uniqueid", c.uniqueid)
	f.Add(prefix+"Linkedid", c.linkedid)
}

func (e *eventsModern) chanEvent(name, priv string, c *channel) *ami.Frame {
	f := ev(name, priv)
	chanBlock(f, "", c)
	return f
}

func (e *eventsModern) newChannel(c *channel) {
	e.p.broadcast(e.chanEvent("Newchannel", "call,all", c))
}

func (e *eventsModern) newState(c *channel) {
	e.p.broadcast(e.chanEvent("Newstate", "call,all", c))
}

func (e *eventsModern) newCallerID(c *channel) {
	f := e.chanEvent("NewCallerid", "call,all", c)
	f.Add("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
	e.p.broadcast(f)
}

func (e *eventsModern) newConnectedLine(c *channel) {
	e.p.broadcast(e.chanEvent("NewConnectedLine", "call,all", c))
}

func (e *eventsModern) newExten(c *channel, app, data string) {
	f := e.chanEvent("Newexten", "dialplan,all", c)
	f.Add("Extension", c.exten).Add("Application", app).Add("AppData", data)
	e.p.broadcast(f)
}

func (e *eventsModern) varSet(c *channel, name, value string) {
	f := e.chanEvent("VarSet", "dialplan,all", c)
	f.Add("Variable", name).Add("Value", value)
	e.p.broadcast(f)
}

func (e *eventsModern) hangupRequest(c *channel, cause int, withCause, soft bool) {
	name := "HangupRequest"
	if soft {
		name = "SoftHangupRequest"
	}
	f := e.chanEvent(name, "call,all", c)
	if withCause {
		f.Add("Cause", strconv.Itoa(cause))
	}
	e.p.broadcast(f)
}

func (e *eventsModern) hangup(c *channel) {
	f := e.chanEvent("Hangup", "call,all", c)
	f.Add("Cause", strconv.Itoa(c.hangupCause)).Add("Cause-txt", causeText(c.hangupCause))
	e.p.broadcast(f)
}

func (e *eventsModern) localBridge(one, two *channel) {
	f := ev("LocalBridge", "call,all")
	chanBlock(f, "LocalOne", one)
	chanBlock(f, "LocalTwo", two)
	// Local/x@ctx/n asks chan_local not to optimize itself away.
	opt := "Yes"
	if l := one.leg; l != nil && strings.HasSuffix(l.iface, "/n") {
		opt = "No"
	}
	f.Add("Context", two.context).Add("Exten", two.exten).Add("LocalOptimization", opt)
	e.p.broadcast(f)
}

func (e *eventsModern) dialFrame(name string, k dialKind, caller, dest *channel) *ami.Frame {
	f := ev(name, "call,all")
	if caller != nil && k != dialOriginate {
		chanBlock(f, "", caller)
	}
	chanBlock(f, "Dest", dest)
	return f
}

func (e *eventsModern) dialBegin(k dialKind, caller, dest *channel, dialString string) {
	f := e.dialFrame("DialBegin", k, caller, dest)
	f.Add("DialString", dialString)
	e.p.broadcast(f)
}

func (e *eventsModern) dialState(k dialKind, caller, dest *channel) {
	f := e.dialFrame("DialState", k, caller, dest)
	f.Add("DialStatus", "RINGING")
	e.p.broadcast(f)
}

func (e *eventsModern) dialEnd(k dialKind, caller, dest *channel, status string) {
	f := e.dialFrame("DialEnd", k, caller, dest)
	f.Add("DialStatus", status)
	e.p.broadcast(f)
}

func bridgeBlock(f *ami.Frame, b *bridge) {
	f.Add("BridgeUniqueid", b.id)
	f.Add("BridgeType", "basic")
	f.Add("BridgeTechnology", b.tech)
	f.Add("BridgeCreator", "<unknown>")
	f.Add("BridgeName", "<unknown>")
	f.Add("BridgeNumChannels", strconv.Itoa(len(b.chans)))
	f.Add("BridgeVideoSourceMode", "none")
}

func (e *eventsModern) bridgeCreate(b *bridge) {
	f := ev("BridgeCreate", "call,all")
	bridgeBlock(f, b)
	e.p.broadcast(f)
}

func (e *eventsModern) bridgeEnter(b *bridge, c *channel) {
	f := ev("BridgeEnter", "call,all")
	bridgeBlock(f, b)
	chanBlock(f, "", c)
	e.p.broadcast(f)
}

func (e *eventsModern) bridgeBreak(*bridge) {}

func (e *eventsModern) bridgeLeave(b *bridge, c *channel) {
	f := ev("BridgeLeave", "call,all")
	bridgeBlock(f, b)
	chanBlock(f, "", c)
	e.p.broadcast(f)
}

func (e *eventsModern) bridgeDestroy(b *bridge) {
	f := ev("BridgeDestroy", "call,all")
	bridgeBlock(f, b)
	e.p.broadcast(f)
}

func (e *eventsModern) queueJoin(qc *queueCaller) {
	f := e.chanEvent("QueueCallerJoin", "agent,all", qc.ch)
	f.Add("Queue", qc.q.name()).Add("Position", itoa(qc.pos)).Add("Count", itoa(len(qc.q.callers)))
	e.p.broadcast(f)
}

func (e *eventsModern) queueLeave(qc *queueCaller) {
	f := e.chanEvent("QueueCallerLeave", "agent,all", qc.ch)
	f.Add("Queue", qc.q.name()).Add("Position", itoa(qc.pos)).Add("Count", itoa(len(qc.q.callers)))
	e.p.broadcast(f)
}

func (e *eventsModern) queueAbandon(qc *queueCaller) {
	f := e.chanEvent("QueueCallerAbandon", "agent,all", qc.ch)
	f.Add("Queue", qc.q.name()).Add("Position", itoa(qc.pos)).
		Add("OriginalPosition", itoa(qc.origPos)).
		Add("HoldTime", itoa(seconds(e.p.now().Sub(qc.joined))))
	e.p.broadcast(f)
}

func (e *eventsModern) agentFrame(name string, qc *queueCaller, m *member, dest *channel) *ami.Frame {
	f := ev(name, "agent,all")
	chanBlock(f, "", qc.ch)
	if dest != nil {
		chanBlock(f, "Dest", dest)
	}
	f.Add("Queue", qc.q.name()).Add("Interface", m.iface).Add("MemberName", m.displayName())
	return f
}

func (e *eventsModern) agentCalled(qc *queueCaller, m *member, dest *channel) {
	e.p.broadcast(e.agentFrame("AgentCalled", qc, m, dest))
}

func (e *eventsModern) agentConnect(qc *queueCaller, m *member, dest *channel, ringTime int) {
	f := e.agentFrame("AgentConnect", qc, m, dest)
	f.Add("HoldTime", itoa(qc.holdTime)).Add("RingTime", itoa(ringTime))
	e.p.broadcast(f)
}

func (e *eventsModern) agentComplete(qc *queueCaller, m *member, dest *channel, talk int, reason string) {
	f := e.agentFrame("AgentComplete", qc, m, dest)
	f.Add("HoldTime", itoa(qc.holdTime)).Add("TalkTime", itoa(talk)).Add("Reason", reason)
	e.p.broadcast(f)
}

func (e *eventsModern) agentRingNoAnswer(qc *queueCaller, m *member, dest *channel, ringMs int) {
	f := e.agentFrame("AgentRingNoAnswer", qc, m, dest)
	f.Add("RingTime", itoa(ringMs))
	e.p.broadcast(f)
}

// memberBlock appends app_queue's queue_member_blob fields.
func memberBlock(f *ami.Frame, m *member) {
	f.Add("Queue", m.q.name())
	f.Add("MemberName", m.displayName())
	f.Add("Interface", m.iface)
	f.Add("StateInterface", m.stateIface)
	f.Add("Membership", m.membership())
	f.Add("Penalty", itoa(m.penalty))
	f.Add("CallsTaken", itoa(m.calls))
	f.Add("LastCall", unixOrZero(m.lastCall))
	f.Add("LastPause", unixOrZero(m.lastPause))
	f.Add("LoginTime", unixOrZero(m.loginTime))
	f.Add("InCall", boolNum(m.inCall))
	f.Add("Status", itoa(m.status))
	f.Add("Paused", boolNum(m.paused))
	f.Add("PausedReason", m.reason)
	f.Add("Ringinuse", boolNum(m.q.cfg.RingInUse))
	f.Add("Wrapuptime", itoa(seconds(m.q.cfg.WrapupTime)))
}

func (e *eventsModern) memberEvent(event string, m *member) {
	if event == "QueueMemberPaused" {
		event = "QueueMemberPause"
	}
	f := ev(event, "agent,all")
	memberBlock(f, m)
	e.p.broadcast(f)
}

func (e *eventsModern) originateResponse(o *originate, c *channel, ok bool, reason int) {
	f := ev("OriginateResponse", "call,all")
	if o.actionID != "" {
		f.Add("ActionID", o.actionID)
	}
	f.Add("Response", map[bool]string{true: "Success", false: "Failure"}[ok])
	if ok && c != nil {
		f.Add("Channel", c.name)
	} else {
		f.Add("Channel", o.channel)
	}
	if o.app != "" {
		f.Add("Application", o.app).Add("Data", o.data)
	} else {
		f.Add("Context", o.context).Add("Exten", o.exten)
	}
	f.Add("Reason", itoa(reason))
	if ok && c != nil {
		f.Add("Uniqueid", c.uniqueid)
	} else {
		f.Add("Uniqueid", "<unknown>")
	}
	f.Add("CallerIDNum", cidText(o.cidNum)).Add("CallerIDName", cidText(o.cidName))
	e.p.broadcast(f)
}

func (e *eventsModern) userEvent(c *channel, name string, kv []ami.Field) {
	f := e.chanEvent("UserEvent", "user,all", c)
	f.Add("UserEvent", name)
	f.Fields = append(f.Fields, kv...)
	e.p.broadcast(f)
}

func (e *eventsModern) deviceStateChange(dev, state string) {
	f := ev("DeviceStateChange", "call,all")
	f.Add("Device", dev).Add("State", state)
	e.p.broadcast(f)
}

func (e *eventsModern) shutdown(restart bool) {
	f := ev("Shutdown", "system,all")
	f.Add("Shutdown", "Cleanly").Add("Restart", map[bool]string{true: "True", false: "False"}[restart])
	e.p.broadcast(f)
}
