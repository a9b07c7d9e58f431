package fakeami

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// emittable lists every event and response the fake can send, per
// dialect. TestShapesOfEverything makes the fake send each of them and
// holds each to the recordings' field order, so that the shape check of the
// conformance test covers all of them, not only those the recorded flows
// happen to produce.
var emittable = map[Dialect][]string{
	Dialect14: {
		"Newchannel", "Newstate", "Newcallerid", "Newexten", "Hangup", "Dial", "Link", "Unlink",
		"Join", "Leave", "AgentCalled", "AgentConnect", "AgentComplete",
		"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPaused", "QueueMemberStatus",
		"OriginateResponse", "UserEvent", "Shutdown",
		"QueueParams", "QueueMember", "QueueEntry", "QueueStatusComplete", "Status", "StatusComplete",
		"Response:Success", "Response:Error", "Response:Follows", "Response:Pong",
	},
	DialectModern: {
		"Newchannel", "Newstate", "NewCallerid", "NewConnectedLine", "Newexten", "VarSet",
		"HangupRequest", "SoftHangupRequest", "Hangup", "LocalBridge",
		"DialBegin", "DialState", "DialEnd",
		"BridgeCreate", "BridgeEnter", "BridgeLeave", "BridgeDestroy",
		"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
		"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
		"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus",
		"OriginateResponse", "UserEvent", "DeviceStateChange", "Shutdown",
		"QueueParams", "QueueMember", "QueueEntry", "QueueStatusComplete",
		"QueueSummary", "QueueSummaryComplete", "CoreShowChannel", "CoreShowChannelsComplete",
		"ListDialplan", "ShowDialPlanComplete",
		"Status", "StatusComplete",
		"Response:Success", "Response:Error",
	},
}

func TestShapesOfEverything(t *testing.T) {
	all := tracedShapes(t)
	bothDialects(t, func(t *testing.T, d Dialect) {
		sc, err := scenarios.Merge(scenarios.Demo(), parseScenario(t, basePBX))
		require.NoError(t, err)
		tp := newTestPBX(t, d, sc)
		direct := &recorder{}
		do := func(action string, kv ...string) {
			tp.Do(direct, ami.NewAction(action, append([]string{"ActionID", "x"}, kv...)...))
		}
		call := func(exten string, hangupAt time.Duration, digits string) {
			require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{{
				CallerNum: "200", CallerName: "Demo 1", Exten: exten, Context: "from-trunk",
				HangupAt: hangupAt, Digits: digits,
			}}}))
		}
		// Queue members, SIP and Local, paused and not.
		do("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/202", "MemberName", "Operator 202")
		do("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/209", "MemberName", "Operator 209")
		do("QueueAdd", "Queue", "astcti-queue-2", "Interface", "SIP/201", "Paused", "true", "Reason", "x")
		do("QueuePause", "Interface", "SIP/201", "Paused", "false")
		// A queued caller that nobody answers: ring, busy, no answer,
		// lists while it waits, then it gives up.
		call("102", 40*time.Second, "")
		tp.advance(time.Second)
		do("QueueStatus")
		do("QueueSummary")
		do("CoreShowChannels")
		do("Status")
		do("CoreStatus")
		tp.advance(time.Minute)
		do("QueueRemove", "Queue", "astcti-queue", "Interface", "SIP/202")
		do("QueueRemove", "Queue", "astcti-queue", "Interface", "SIP/209")
		// A queue call answered by a Local phone, with data keyed in.
		do("QueueAdd", "Queue", "astcti-queue", "Interface", "Local/201@phones/n")
		call("105", 0, "4711#17#")
		tp.advance(4 * time.Second)
		do("Status") // while bridged
		tp.advance(time.Minute)
		// Calls without a queue: answered, not answered, busy, abandoned.
		call("101", 0, "")
		tp.advance(time.Minute)
		call("103", 0, "")
		tp.advance(time.Minute)
		call("104", 0, "")
		tp.advance(time.Minute)
		call("101", time.Second, "")
		tp.advance(time.Minute)
		// Originates of every outcome, Local and SIP, sync and async.
		for _, ch := range []string{"SIP/204", "SIP/299", "SIP/202", "SIP/209", "Local/203@phones", "Local/999@phones"} {
			do("Originate", "Channel", ch, "Context", "phones-out", "Exten", "204", "Priority", "1",
				"CallerID", `"Op" <2000>`, "Timeout", "5000", "Async", "true", "Variable", "astcti_origin=x")
			do("Originate", "Channel", ch, "Application", "Wait", "Data", "1", "Timeout", "5000")
			tp.advance(time.Minute)
		}
		// Channel actions, errors, commands.
		call("102", 0, "")
		tp.advance(time.Second)
		ch := tp.State().Channels[0].Name
		do("Getvar", "Channel", ch, "Variable", "customer_id")
		do("Setvar", "Channel", ch, "Variable", "x", "Value", "1")
		do("Status", "Channel", ch)
		do("Hangup", "Channel", ch)
		do("Command", "Command", "core show version")
		do("Command", "Command", "no such thing")
		do("Command", "Command", "dialplan show astcti-service")
		do("Command", "Command", "dialplan show nosuchcontext")
		do("ShowDialPlan", "Context", "astcti-queue-service")
		do("ShowDialPlan", "Context", "nosuchcontext")
		do("CoreSettings")
		do("Getvar", "Variable", "EPOCH")
		do("UserEvent", "UserEvent", "AstCTIDoctor", "Probe", "1")
		do("Ping")
		do("NoSuchAction")
		do("QueueAdd", "Queue", "nosuchqueue", "Interface", "SIP/201")
		tp.advance(time.Minute)
		// A restart during a connected queue call.
		do("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/201")
		call("102", 0, "")
		tp.advance(5 * time.Second)
		tp.Shutdown()

		frames := append(tp.rec.all(), direct.all()...)
		checkShapes(t, all[generation(d)], frames)
		seen := map[string]bool{}
		for _, f := range frames {
			seen[shapeKey(f)] = true
		}
		var missing, extra []string
		want := map[string]bool{}
		for _, k := range emittable[d] {
			want[k] = true
			if !seen[k] {
				missing = append(missing, k)
			}
		}
		for k := range seen {
			if !want[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		t.Logf("%d kinds of frames, %d frames", len(seen), len(frames))
		assert.Empty(t, missing, "events the battery did not make the fake send")
		assert.Empty(t, extra, "events the fake sent that emittable does not list")
	})
}
