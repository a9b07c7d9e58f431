package fakeami

import (
	"github.com/astcti/astcti/cti/ami"
)

// events14 speaks the events of Asterisk 1.4 (channel.c, pbx.c, app_dial.c,
// app_queue.c, channels/chan_local.c of the 1.4 branch), with the field
// order of the 1.4.44 recordings.
type events14 struct{ p *PBX }

// cid14 is a caller id number or name as 1.4's Newstate and Link show it.
func cid14(s string) string { return cidText(s) }

func (e *events14) newChannel(c *channel) {
	f := ev("Newchannel", "call,all")
	f.Add("Channel", c.name).Add("State", c.state.String()).
		Add("CallerIDNum", cidText(c.cidNum)).Add("CallerIDName", cidText(c.cidName)).
		Add("Uniqueid", c.uniqueid)
	e.p.broadcast(f)
}

func (e *events14) newState(c *channel) {
	f := ev("Newstate", "call,all")
	f.Add("Channel", c.name).Add("State", c.state.String()).
		Add("CallerID", cid14(c.cidNum)).Add("CallerIDName", cid14(c.cidName)).
		Add("Uniqueid", c.uniqueid)
	e.p.broadcast(f)
}

// newCallerID is 1.4's Newcallerid; an empty caller id shows as
// "<Unknown>" there (channel.c ast_set_callerid → report_new_callerid).
func (e *events14) newCallerID(c *channel) {
	unk := func(s string) string {
		if s == "" {
			return "<Unknown>"
		}
		return s
	}
	f := ev("Newcallerid", "call,all")
	f.Add("Channel", c.name).Add("CallerID", unk(c.cidNum)).Add("CallerIDName", unk(c.cidName)).
		Add("Uniqueid", c.uniqueid).Add("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
	e.p.broadcast(f)
}

func (e *events14) newConnectedLine(*channel) {}

func (e *events14) newExten(c *channel, app, data string) {
	f := ev("Newexten", "call,all")
	f.Add("Channel", c.name).Add("Context", c.context).Add("Extension", c.exten).
		Add("Priority", itoa(c.priority)).Add("Application", app).Add("AppData", data).
		Add("Uniqueid", c.uniqueid)
	e.p.broadcast(f)
}

// varSet: 1.4 has no VarSet event; a Set() shows only in its Newexten.
func (e *events14) varSet(*channel, string, string) {}

// hangupRequest: 1.4 has no HangupRequest or SoftHangupRequest event.
func (e *events14) hangupRequest(*channel, int, bool, bool) {}

func (e *events14) hangup(c *channel) {
	f := ev("Hangup", "call,all")
	f.Add("Channel", c.name).Add("Uniqueid", c.uniqueid).
		Add("Cause", itoa(c.hangupCause)).Add("Cause-txt", causeText(c.hangupCause))
	e.p.broadcast(f)
}

func (e *events14) localBridge(*channel, *channel) {}

// dialBegin is 1.4's Dial event, sent by app_dial only: members rung by
// app_queue and originated channels get none.
func (e *events14) dialBegin(k dialKind, caller, dest *channel, _ string) {
	if k != dialApp || caller == nil {
		return
	}
	f := ev("Dial", "call,all")
	f.Add("Source", caller.name).Add("Destination", dest.name).
		Add("CallerID", cid14(caller.cidNum)).Add("CallerIDName", cid14(caller.cidName)).
		Add("SrcUniqueID", caller.uniqueid).Add("DestUniqueID", dest.uniqueid)
	e.p.broadcast(f)
}

func (e *events14) dialState(dialKind, *channel, *channel)       {}
func (e *events14) dialEnd(dialKind, *channel, *channel, string) {}

func (e *events14) link(name string, b *bridge) {
	if len(b.pair) < 2 {
		return
	}
	a, z := b.pair[0], b.pair[1]
	f := ev(name, "call,all")
	f.Add("Channel1", a.name).Add("Channel2", z.name).
		Add("Uniqueid1", a.uniqueid).Add("Uniqueid2", z.uniqueid).
		Add("CallerID1", cid14(a.cidNum)).Add("CallerID2", cid14(z.cidNum))
	e.p.broadcast(f)
}

func (e *events14) bridgeCreate(*bridge) {}

// bridgeEnter: once both parties are in, 1.4 sends Link, Unlink, Link: the
// bridge is set up, torn down for the native bridge attempt, and set up
// again (channel.c ast_channel_bridge).
func (e *events14) bridgeEnter(b *bridge, _ *channel) {
	if len(b.chans) != 2 {
		return
	}
	e.link("Link", b)
	e.link("Unlink", b)
	e.link("Link", b)
}

// bridgeBreak: the final Unlink, when one party leaves.
func (e *events14) bridgeBreak(b *bridge)         { e.link("Unlink", b) }
func (e *events14) bridgeLeave(*bridge, *channel) {}
func (e *events14) bridgeDestroy(*bridge)         {}

func (e *events14) queueJoin(qc *queueCaller) {
	f := ev("Join", "call,all")
	f.Add("Channel", qc.ch.name).Add("CallerID", cid14(qc.ch.cidNum)).
		Add("CallerIDName", cid14(qc.ch.cidName)).Add("Queue", qc.q.name()).
		Add("Position", itoa(qc.pos)).Add("Count", itoa(len(qc.q.callers))).
		Add("Uniqueid", qc.ch.uniqueid)
	e.p.broadcast(f)
}

func (e *events14) queueLeave(qc *queueCaller) {
	f := ev("Leave", "call,all")
	f.Add("Channel", qc.ch.name).Add("Queue", qc.q.name()).
		Add("Count", itoa(len(qc.q.callers))).Add("Uniqueid", qc.ch.uniqueid)
	e.p.broadcast(f)
}

// queueAbandon: 1.4 reports an abandoned caller with Leave only.
func (e *events14) queueAbandon(*queueCaller) {}

// agentCalled is sent because the recorded queues set eventwhencalled.
func (e *events14) agentCalled(qc *queueCaller, m *member, _ *channel) {
	f := ev("AgentCalled", "agent,all")
	f.Add("AgentCalled", m.iface).Add("AgentName", m.displayName()).
		Add("ChannelCalling", qc.ch.name).
		Add("CallerID", cid14(qc.ch.cidNum)).Add("CallerIDName", cid14(qc.ch.cidName)).
		Add("Context", qc.ch.context).Add("Extension", qc.ch.exten).
		Add("Priority", itoa(qc.ch.priority))
	e.p.broadcast(f)
}

func (e *events14) agentConnect(qc *queueCaller, m *member, dest *channel, _ int) {
	f := ev("AgentConnect", "agent,all")
	f.Add("Queue", qc.q.name()).Add("Uniqueid", qc.ch.uniqueid).Add("Channel", dest.name).
		Add("Member", m.iface).Add("MemberName", m.displayName()).
		Add("Holdtime", itoa(qc.holdTime)).Add("BridgedChannel", dest.uniqueid)
	e.p.broadcast(f)
}

func (e *events14) agentComplete(qc *queueCaller, m *member, dest *channel, talk int, reason string) {
	f := ev("AgentComplete", "agent,all")
	f.Add("Queue", qc.q.name()).Add("Uniqueid", qc.ch.uniqueid).Add("Channel", dest.name).
		Add("Member", m.iface).Add("MemberName", m.displayName()).
		Add("HoldTime", itoa(qc.holdTime)).Add("TalkTime", itoa(talk)).Add("Reason", reason)
	e.p.broadcast(f)
}

// agentRingNoAnswer: 1.4 has no such event.
func (e *events14) agentRingNoAnswer(*queueCaller, *member, *channel, int) {}

func (e *events14) memberEvent(event string, m *member) {
	if event == "QueueMemberPause" {
		event = "QueueMemberPaused"
	}
	f := ev(event, "agent,all")
	f.Add("Queue", m.q.name()).Add("Location", m.iface).Add("MemberName", m.displayName())
	switch event {
	case "QueueMemberRemoved":
	case "QueueMemberPaused":
		f.Add("Paused", boolNum(m.paused))
	default:
		f.Add("Membership", m.membership()).Add("Penalty", itoa(m.penalty)).
			Add("CallsTaken", itoa(m.calls)).Add("LastCall", unixOrZero(m.lastCall)).
			Add("Status", itoa(m.status)).Add("Paused", boolNum(m.paused))
	}
	e.p.broadcast(f)
}

func (e *events14) originateResponse(o *originate, c *channel, ok bool, reason int) {
	f := ev("OriginateResponse", "call,all")
	if o.actionID != "" {
		f.Add("ActionID", o.actionID)
	}
	f.Add("Response", map[bool]string{true: "Success", false: "Failure"}[ok])
	if c != nil && ok {
		f.Add("Channel", c.name)
	} else {
		f.Add("Channel", o.channel)
	}
	f.Add("Context", o.context).Add("Exten", o.exten).Add("Reason", itoa(reason))
	if c != nil && ok {
		f.Add("Uniqueid", c.uniqueid)
	} else {
		f.Add("Uniqueid", "<null>")
	}
	f.Add("CallerID", cidText(o.cidNum)).Add("CallerIDNum", cidText(o.cidNum)).
		Add("CallerIDName", cidText(o.cidName))
	e.p.broadcast(f)
}

func (e *events14) userEvent(_ *channel, name string, kv []ami.Field) {
	f := ev("UserEvent", "user,all")
	f.Add("UserEvent", name)
	f.Fields = append(f.Fields, kv...)
	e.p.broadcast(f)
}

// deviceStateChange: 1.4 has no DeviceStateChange event.
func (e *events14) deviceStateChange(string, string) {}

func (e *events14) shutdown(restart bool) {
	f := ev("Shutdown", "system,all")
	f.Add("Shutdown", "Cleanly").Add("Restart", map[bool]string{true: "True", false: "False"}[restart])
	e.p.broadcast(f)
}
