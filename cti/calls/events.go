package calls

import (
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// event is an AMI event the tracker reads.
type event uint8

const (
	evNone event = iota
	evNewchannel
	evNewcallerid
	evNewstate
	evNewexten
	evVarSet
	evUserEvent
	evJoin
	evDial
	evDialBegin
	evDialEnd
	evAgentCalled
	evAgentConnect
	evLink
	evBridge
	evBridgeEnter
	evBridgeLeave
	evBridgeDestroy
	evLocalBridge
	evHangup
	evOriginateResponse
	evShutdown
	evRename
	evCoreShowChannel
)

// eventNames maps the names of every generation to the tracker's events.
var eventNames = []struct {
	name string
	ev   event
}{
	{"Newchannel", evNewchannel},
	{"Newcallerid", evNewcallerid}, // 1.4 Newcallerid, 1.6+ NewCallerid
	{"Newstate", evNewstate},
	{"Newexten", evNewexten},
	{"VarSet", evVarSet},
	{"UserEvent", evUserEvent},
	{"Join", evJoin},            // 1.4–11
	{"QueueCallerJoin", evJoin}, // 12+
	{"Dial", evDial},            // 1.4; 1.6–11 with SubEvent
	{"DialBegin", evDialBegin},  // 12+
	{"DialEnd", evDialEnd},      // 12+
	{"AgentCalled", evAgentCalled},
	{"AgentConnect", evAgentConnect},
	{"Link", evLink},     // 1.4
	{"Bridge", evBridge}, // 1.6–11
	{"BridgeEnter", evBridgeEnter},
	{"BridgeLeave", evBridgeLeave},
	{"BridgeDestroy", evBridgeDestroy},
	{"LocalBridge", evLocalBridge},
	{"Hangup", evHangup},
	{"OriginateResponse", evOriginateResponse},
	{"Shutdown", evShutdown},
	{"Rename", evRename},
	{"CoreShowChannel", evCoreShowChannel},
}

var eventTable [24][]int // by name length: indexes into eventNames

func init() {
	for i, e := range eventNames {
		eventTable[len(e.name)] = append(eventTable[len(e.name)], i)
	}
}

// lookupEvent returns the tracker's event for an AMI event name, compared
// without regard to case, or evNone.
func lookupEvent(name string) event {
	if len(name) < len(eventTable) {
		for _, i := range eventTable[len(name)] {
			if ami.EqualFold(name, eventNames[i].name) {
				return eventNames[i].ev
			}
		}
	}
	// 1.4 names a user event "UserEvent<name>" (apps/app_userevent.c).
	if len(name) > len("UserEvent") && ami.EqualFold(name[:len("UserEvent")], "UserEvent") {
		return evUserEvent
	}
	return evNone
}

// Channel states as Asterisk writes them (main/channel.c ast_state2str).
const (
	stateDown    = "Down"
	stateRsrvd   = "Rsrvd"
	stateOffHook = "OffHook"
	stateDialing = "Dialing"
	stateRing    = "Ring"
	stateRinging = "Ringing"
	stateUp      = "Up"
	stateBusy    = "Busy"
	stateDialOff = "Dialing Offhook"
	statePreRing = "Pre-ring"
	stateUnknown = "Unknown"
)

var states = [...]string{stateDown, stateRsrvd, stateOffHook, stateDialing, stateRing, stateRinging, stateUp, stateBusy, stateDialOff, statePreRing, stateUnknown}

// internState returns the constant for a state text, so that channels do
// not keep the frames they were seen in. Unexpected text is kept, cut short.
func internState(s string) string {
	for _, st := range states {
		if len(st) == len(s) && ami.EqualFold(st, s) {
			return st
		}
	}
	if s == "" {
		return ""
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Clone(s)
}
