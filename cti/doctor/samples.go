package doctor

import (
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// sample is an event astcti reads, as the PBX would send it for a call of
// a configured service, to hold the eventfilter lines to.
type sample struct {
	Label    string // "Newexten in astcti-service", "VarSet calldata"
	Required bool   // astcti misses calls or data without it
	Frame    *ami.Frame
}

// sampleEvents builds the events astcti reads for the configured
// services, with the fields and field order of the recorded traces of each
// generation (testdata/ami-traces: asterisk-1.4.44, asterisk-1.8.32.3,
// asterisk-22.10.1). Required ones are those without which astcti misses
// calls, their data, queue members or originate results; the others make
// it better (caller id changes, busy phones, PBX restarts).
func sampleEvents(g generation, services []config.Service) []sample {
	b := &sampler{g: g}
	queue, nonQueue, outbound := false, false, false
	for _, s := range services {
		if !s.Enabled {
			continue
		}
		switch {
		case s.Type == config.Outbound:
			outbound = true
			continue
		case s.IsQueue:
			queue = true
		default:
			nonQueue = true
		}
		b.add("Newexten in "+s.Context, true, b.newexten(s.Context, "Answer", ""))
		for _, v := range s.Variables {
			switch g {
			case gen14:
				b.add("Newexten Set("+v+"=…) in "+s.Context, true, b.newexten(s.Context, "Set", v+"=1234"))
			default:
				b.add("VarSet "+v, true, b.chanEvent("VarSet", "dialplan,all", s.Context, "Variable", v, "Value", "1234"))
			}
			b.add("UserEvent with "+v, false, b.userEvent(s.Context, v))
		}
		if s.IsQueue {
			if g == gen12 {
				b.add("QueueCallerJoin "+s.Queue, true, b.chanEvent("QueueCallerJoin", "agent,all", s.Context, "Queue", s.Queue, "Position", "1", "Count", "1"))
			} else {
				b.add("Join "+s.Queue, true, b.join(s.Context, s.Queue))
			}
			b.add("AgentCalled "+s.Queue, true, b.agent("AgentCalled", s.Context, s.Queue))
			b.add("AgentConnect "+s.Queue, true, b.agent("AgentConnect", s.Context, s.Queue))
		}
	}
	if queue || nonQueue {
		b.add("Newchannel", true, b.chanEvent("Newchannel", "call,all", "from-trunk"))
		b.add("Newstate", true, b.chanEvent("Newstate", "call,all", "phones"))
		b.add("Hangup", true, b.chanEvent("Hangup", "call,all", "phones", "Cause", "16", "Cause-txt", "Normal Clearing"))
		b.add("Newcallerid", false, b.newCallerID())
		b.addDialAndBridge(nonQueue)
	}
	if queue {
		for _, e := range []string{"QueueMemberAdded", "QueueMemberRemoved", b.pauseEvent()} {
			b.add(e, true, b.member(e))
		}
	}
	if outbound {
		b.add("OriginateResponse", true, b.originateResponse())
	}
	if g != gen14 {
		b.add("FullyBooted", false, b.system("FullyBooted", "Status", "Fully Booted"))
	}
	b.add("Shutdown", false, b.system("Shutdown", "Shutdown", "Cleanly", "Restart", "False"))
	return b.out
}

type sampler struct {
	g   generation
	out []sample
}

func (b *sampler) add(label string, required bool, f *ami.Frame) {
	b.out = append(b.out, sample{Label: label, Required: required, Frame: f})
}

func event(name, privilege string, kv ...string) *ami.Frame {
	f := &ami.Frame{}
	f.Add("Event", name)
	if privilege != "" {
		f.Add("Privilege", privilege)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

// chanEvent is an event about one channel, with the channel fields of
// the generation, then kv.
func (b *sampler) chanEvent(name, privilege, context string, kv ...string) *ami.Frame {
	ch := "SIP/trunk-00000001"
	if context == "phones" {
		ch = "SIP/201-00000002"
	}
	var f *ami.Frame
	switch b.g {
	case gen12:
		f = event(name, privilege, "Channel", ch, "ChannelState", "6", "ChannelStateDesc", "Up",
			"CallerIDNum", "5550123", "CallerIDName", "Customer", "ConnectedLineNum", "<unknown>", "ConnectedLineName", "<unknown>",
			"Language", "en", "AccountCode", "", "Context", context, "Exten", "101", "Priority", "1",
			"Uniqueid", "1796286000.1", "Linkedid", "1796286000.1")
	case gen18:
		f = event(name, privilege, "Channel", ch, "ChannelState", "6", "ChannelStateDesc", "Up",
			"CallerIDNum", "5550123", "CallerIDName", "Customer", "AccountCode", "", "Exten", "101", "Context", context,
			"Uniqueid", "1796286000.1")
	default:
		f = event(name, privilege, "Channel", ch, "State", "Up", "CallerIDNum", "5550123", "CallerIDName", "Customer",
			"Uniqueid", "1796286000.1")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func (b *sampler) newexten(context, app, data string) *ami.Frame {
	switch b.g {
	case gen12:
		return b.chanEvent("Newexten", "dialplan,all", context, "Extension", "101", "Application", app, "AppData", data)
	case gen18:
		return event("Newexten", "dialplan,all", "Channel", "SIP/trunk-00000001", "Context", context, "Extension", "101",
			"Priority", "1", "Application", app, "AppData", data, "Uniqueid", "1796286000.1")
	}
	return event("Newexten", "call,all", "Channel", "SIP/trunk-00000001", "Context", context, "Extension", "101",
		"Priority", "1", "Application", app, "AppData", data, "Uniqueid", "1796286000.1")
}

func (b *sampler) userEvent(context, variable string) *ami.Frame {
	if b.g == gen14 {
		return event("UserEventAstCTI", "user,all", variable, "1234")
	}
	return b.chanEvent("UserEvent", "user,all", context, "UserEvent", "AstCTI", variable, "1234")
}

func (b *sampler) join(context, queue string) *ami.Frame {
	return event("Join", "call,all", "Channel", "SIP/trunk-00000001", "CallerIDNum", "5550123", "CallerIDName", "Customer",
		"Queue", queue, "Position", "1", "Count", "1", "Uniqueid", "1796286000.1")
}

func (b *sampler) agent(name, context, queue string) *ami.Frame {
	if b.g == gen12 {
		f := b.chanEvent(name, "agent,all", context)
		f.Add("DestChannel", "SIP/201-00000002").Add("DestUniqueid", "1796286000.2").
			Add("Queue", queue).Add("Interface", "SIP/201").Add("MemberName", "Operator 201")
		return f
	}
	if name == "AgentCalled" {
		return event(name, "agent,all", "Queue", queue, "AgentCalled", "SIP/201", "AgentName", "Operator 201",
			"ChannelCalling", "SIP/trunk-00000001", "DestinationChannel", "SIP/201-00000002",
			"CallerIDNum", "5550123", "CallerIDName", "Customer", "Context", context, "Extension", "101", "Priority", "3",
			"Uniqueid", "1796286000.1")
	}
	return event(name, "agent,all", "Queue", queue, "Uniqueid", "1796286000.1", "Channel", "SIP/201-00000002",
		"Member", "SIP/201", "MemberName", "Operator 201", "Holdtime", "3", "BridgedChannel", "1796286000.2", "Ringtime", "2")
}

func (b *sampler) newCallerID() *ami.Frame {
	if b.g == gen14 {
		return event("Newcallerid", "call,all", "Channel", "SIP/201-00000002", "CallerID", "5550123", "CallerIDName", "Customer",
			"Uniqueid", "1796286000.2", "CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
	}
	return b.chanEvent("NewCallerid", "call,all", "phones", "CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
}

func (b *sampler) addDialAndBridge(nonQueue bool) {
	switch b.g {
	case gen12:
		dest := func(name string, kv ...string) *ami.Frame {
			f := b.chanEvent(name, "call,all", "from-trunk")
			f.Add("DestChannel", "SIP/201-00000002").Add("DestChannelState", "5").Add("DestChannelStateDesc", "Ringing").
				Add("DestContext", "phones").Add("DestExten", "101").Add("DestUniqueid", "1796286000.2").Add("DestLinkedid", "1796286000.1")
			for i := 0; i+1 < len(kv); i += 2 {
				f.Add(kv[i], kv[i+1])
			}
			return f
		}
		b.add("DialBegin", nonQueue, dest("DialBegin", "DialString", "SIP/201"))
		b.add("DialEnd of a busy phone", false, dest("DialEnd", "DialStatus", "BUSY"))
		bridge := func(name string) *ami.Frame {
			f := event(name, "call,all", "BridgeUniqueid", "c7132bef-8c39-49b0-be79-13bc5fa256f4", "BridgeType", "basic",
				"BridgeTechnology", "simple_bridge", "BridgeCreator", "<unknown>", "BridgeName", "<unknown>",
				"BridgeNumChannels", "1", "BridgeVideoSourceMode", "none")
			if name != "BridgeDestroy" {
				c := b.chanEvent("", "", "phones")
				f.Fields = append(f.Fields, c.Fields[1:]...)
			}
			return f
		}
		b.add("BridgeEnter", true, bridge("BridgeEnter"))
		b.add("BridgeLeave", true, bridge("BridgeLeave"))
		b.add("BridgeDestroy", false, bridge("BridgeDestroy"))
		b.add("LocalBridge", false, event("LocalBridge", "call,all", "LocalOneChannel", "Local/201@phones-00000001;1",
			"LocalTwoChannel", "Local/201@phones-00000001;2", "Context", "phones", "Exten", "201", "LocalOptimization", "No"))
	case gen18:
		b.add("Dial", true, event("Dial", "call,all", "SubEvent", "Begin", "Channel", "SIP/trunk-00000001",
			"Destination", "SIP/201-00000002", "CallerIDNum", "5550123", "CallerIDName", "Customer",
			"UniqueID", "1796286000.1", "DestUniqueID", "1796286000.2", "Dialstring", "201"))
		b.add("Bridge", true, event("Bridge", "call,all", "Bridgestate", "Link", "Bridgetype", "core",
			"Channel1", "SIP/trunk-00000001", "Channel2", "SIP/201-00000002", "Uniqueid1", "1796286000.1",
			"Uniqueid2", "1796286000.2", "CallerID1", "5550123", "CallerID2", "201"))
	default:
		b.add("Dial", true, event("Dial", "call,all", "Source", "SIP/trunk-00000001", "Destination", "SIP/201-00000002",
			"CallerID", "5550123", "CallerIDName", "Customer", "SrcUniqueID", "1796286000.1", "DestUniqueID", "1796286000.2"))
		b.add("Link", true, event("Link", "call,all", "Channel1", "SIP/trunk-00000001", "Channel2", "SIP/201-00000002",
			"Uniqueid1", "1796286000.1", "Uniqueid2", "1796286000.2", "CallerID1", "5550123", "CallerID2", "201"))
	}
}

func (b *sampler) pauseEvent() string {
	if b.g == gen12 {
		return "QueueMemberPause"
	}
	return "QueueMemberPaused"
}

func (b *sampler) member(name string) *ami.Frame {
	if b.g == gen12 {
		return event(name, "agent,all", "Queue", "astcti-queue", "MemberName", "Operator 201", "Interface", "SIP/201",
			"StateInterface", "SIP/201", "Membership", "dynamic", "Penalty", "0", "CallsTaken", "0", "LastCall", "0",
			"Status", "1", "Paused", "0")
	}
	return event(name, "agent,all", "Queue", "astcti-queue", "Location", "SIP/201", "MemberName", "Operator 201",
		"Membership", "dynamic", "Penalty", "0", "CallsTaken", "0", "LastCall", "0", "Status", "1", "Paused", "0")
}

func (b *sampler) originateResponse() *ami.Frame {
	return event("OriginateResponse", "call,all", "ActionID", "astcti-1a2b3c-7", "Response", "Success",
		"Channel", "SIP/201-00000002", "Context", "from-operators", "Exten", "5550123", "Reason", "4",
		"Uniqueid", "1796286000.2", "CallerIDNum", "201", "CallerIDName", "Operator 201")
}

func (b *sampler) system(name string, kv ...string) *ami.Frame {
	return event(name, "system,all", kv...)
}
