package calls

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
)

// Frame builders for hand-made event sequences, in the 12+ dialect unless
// named otherwise. Uniqueids are short ("1", "2"), channel names as
// Asterisk makes them.

func ev(name string, kv ...string) *ami.Frame {
	f := &ami.Frame{Fields: []ami.Field{{Key: "Event", Value: name}}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func newch(name, uid, cid string) *ami.Frame {
	return ev("Newchannel", "Channel", name, "ChannelStateDesc", "Down", "CallerIDNum", cid, "CallerIDName", "Name "+cid, "Uniqueid", uid, "Linkedid", "L"+uid)
}

func state(uid, st string) *ami.Frame {
	return ev("Newstate", "ChannelStateDesc", st, "Uniqueid", uid)
}

func exten(uid, ctx, app, data string) *ami.Frame {
	return ev("Newexten", "Privilege", "dialplan,all", "Context", ctx, "Exten", "100", "Uniqueid", uid, "Application", app, "AppData", data)
}

func varset(uid, name, value string) *ami.Frame {
	return ev("VarSet", "Uniqueid", uid, "Variable", name, "Value", value)
}

func qjoin(uid, queue string) *ami.Frame {
	return ev("QueueCallerJoin", "Uniqueid", uid, "Queue", queue, "Context", "queue-ctx", "Exten", "102")
}

func dialBegin(src, dst string) *ami.Frame {
	return ev("DialBegin", "Uniqueid", src, "DestUniqueid", dst)
}

func dialEnd(src, dst, status string) *ami.Frame {
	return ev("DialEnd", "Uniqueid", src, "DestUniqueid", dst, "DialStatus", status)
}

func enter(bridge, uid string) *ami.Frame {
	return ev("BridgeEnter", "BridgeUniqueid", bridge, "Uniqueid", uid)
}

func hangup(uid, cause string) *ami.Frame {
	return ev("Hangup", "Uniqueid", uid, "Cause", cause)
}

// render writes a change compactly for table tests.
func render(ch Change) string {
	s := fmt.Sprintf("%s %s call=%s cid=%s svc=%s", ch.Kind, ch.Interface, ch.Call.Uniqueid, ch.Call.CallerIDNum, ch.Call.Service)
	for _, v := range ch.Call.Data {
		s += " " + v.Name + "=" + v.Value
	}
	return s
}

func ruleCatalog() *fakeCatalog {
	return newCatalog(
		Service{Name: "sales", Context: "sales", Variables: []string{"calldata", "Customer_ID"}},
		Service{Name: "support", Context: "queue-ctx", Queue: "support", Variables: []string{"customer_id", "order"}},
		Service{Name: "billing", Context: "queue-ctx", Queue: "billing", Variables: []string{"customer_id"}},
	)
}

// sipCall is a caller on a SIP trunk entering the non-queue service "sales"
// with calldata 42.
var sipCall = []*ami.Frame{
	newch("SIP/trunk-00000000", "1", "200"),
	exten("1", "sales", "Answer", ""),
	exten("1", "sales", "Set", "calldata=42"),
	varset("1", "calldata", "42"),
}

func seq(parts ...[]*ami.Frame) []*ami.Frame {
	var out []*ami.Frame
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func fs(frames ...*ami.Frame) []*ami.Frame { return frames }

func TestRules(t *testing.T) {
	tests := []struct {
		name   string
		frames []*ami.Frame
		want   []string
		live   int // channel objects left
	}{
		{
			name: "non-queue call answered",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"),
				dialBegin("1", "2"),
				state("2", "Ringing"),
				state("2", "Up"),
				enter("b1", "2"), enter("b1", "1"),
				hangup("2", "16"), hangup("1", "16"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42",
			},
		},
		{
			name:   "no service: nothing",
			frames: fs(newch("SIP/trunk-00000000", "1", "200"), exten("1", "elsewhere", "Answer", ""), newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"), enter("b", "2"), enter("b", "1")),
			live:   2,
		},
		{
			name: "busy phone gets nothing (DialEnd BUSY)",
			frames: seq(sipCall, fs(
				newch("SIP/209-00000001", "2", "209"), dialBegin("1", "2"), dialEnd("1", "2", "BUSY"), state("2", "Up"), hangup("2", "17"),
			)),
			live: 1,
		},
		{
			name: "busy phone gets nothing (Hangup cause 17, 1.8)",
			frames: seq(sipCall, fs(
				newch("SIP/209-00000001", "2", "209"), ev("Dial", "SubEvent", "Begin", "UniqueID", "1", "DestUniqueID", "2"), hangup("2", "17"),
			)),
			live: 1,
		},
		{
			name: "busy Local phone: Newstate Busy on its ;2 half",
			frames: seq(sipCall, fs(
				newch("Local/209@phones-00000001;1", "2", ""), newch("Local/209@phones-00000001;2", "3", ""),
				dialBegin("1", "2"), state("3", "Busy"), state("2", "Ringing"), hangup("2", "0"), hangup("3", "17"),
			)),
			live: 1,
		},
		{
			name: "rings told in dial order, whoever rings first",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), newch("SIP/202-00000002", "3", "202"),
				dialBegin("1", "2"), dialBegin("1", "3"),
				state("3", "Ringing"), state("2", "Ringing"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Ring SIP/202 call=1 cid=200 svc=sales calldata=42",
			},
			live: 3,
		},
		{
			name: "a leg cancelled before it rang is never told",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), newch("SIP/202-00000002", "3", "202"),
				dialBegin("1", "2"), dialBegin("1", "3"),
				state("2", "Ringing"), dialEnd("1", "3", "CANCEL"), hangup("3", "26"),
			)),
			want: []string{"Ring SIP/201 call=1 cid=200 svc=sales calldata=42"},
			live: 2,
		},
		{
			name: "ringing before the dial that names it (12+ Local)",
			frames: seq(sipCall, fs(
				newch("Local/201@phones-00000001;1", "2", ""), newch("Local/201@phones-00000001;2", "3", ""),
				state("2", "Ringing"), dialBegin("1", "2"),
			)),
			want: []string{"Ring Local/201@phones call=1 cid=200 svc=sales calldata=42"},
			live: 3,
		},
		{
			name: "answered without ringing: Ring before Link",
			frames: seq(sipCall, fs(
				newch("SIP/203-00000001", "2", "203"), dialBegin("1", "2"), enter("b", "2"), enter("b", "1"),
			)),
			want: []string{
				"Ring SIP/203 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/203 call=1 cid=200 svc=sales calldata=42",
			},
			live: 2,
		},
		{
			name: "the phone half of a Local member answers: Ring",
			frames: seq(sipCall, fs(
				newch("Local/203@phones-00000001;1", "2", ""), newch("Local/203@phones-00000001;2", "3", ""),
				dialBegin("1", "2"), state("3", "Up"), hangup("3", "26"), hangup("2", "26"),
			)),
			want: []string{
				"Ring Local/203@phones call=1 cid=200 svc=sales calldata=42",
				"Hangup Local/203@phones call=1 cid=200 svc=sales calldata=42",
			},
			live: 1,
		},
		{
			name: "one Link for 1.4's Link, Unlink, Link",
			frames: fs(
				ev("Newchannel", "Channel", "SIP/200-0895e728", "State", "Ring", "CallerIDNum", "200", "CallerIDName", "Demo", "Uniqueid", "1"),
				ev("Newexten", "Privilege", "call,all", "Channel", "SIP/200-0895e728", "Context", "sales", "Extension", "101", "Application", "Answer", "Uniqueid", "1"),
				ev("Newexten", "Privilege", "call,all", "Channel", "SIP/200-0895e728", "Context", "sales", "Extension", "101", "Application", "Set", "AppData", "calldata=7|customer_id=9", "Uniqueid", "1"),
				ev("Newchannel", "Channel", "SIP/201-08961110", "State", "Down", "CallerIDNum", "201", "Uniqueid", "2"),
				ev("Dial", "Source", "SIP/200-0895e728", "Destination", "SIP/201-08961110", "CallerID", "200", "SrcUniqueID", "1", "DestUniqueID", "2"),
				ev("Newstate", "Channel", "SIP/201-08961110", "State", "Ringing", "CallerID", "201", "Uniqueid", "2"),
				ev("Link", "Channel1", "SIP/200-0895e728", "Channel2", "SIP/201-08961110", "Uniqueid1", "1", "Uniqueid2", "2"),
				ev("Unlink", "Channel1", "SIP/200-0895e728", "Channel2", "SIP/201-08961110", "Uniqueid1", "1", "Uniqueid2", "2"),
				ev("Link", "Channel1", "SIP/200-0895e728", "Channel2", "SIP/201-08961110", "Uniqueid1", "1", "Uniqueid2", "2"),
				ev("Hangup", "Channel", "SIP/201-08961110", "Uniqueid", "2", "Cause", "16"),
				ev("Hangup", "Channel", "SIP/200-0895e728", "Uniqueid", "1", "Cause", "16"),
			),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=7 Customer_ID=9",
				"Link SIP/201 call=1 cid=200 svc=sales calldata=7 Customer_ID=9",
				"Hangup SIP/201 call=1 cid=200 svc=sales calldata=7 Customer_ID=9",
			},
		},
		{
			name: "one Link for 1.8's repeated Bridge",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), ev("Dial", "SubEvent", "Begin", "Channel", "SIP/trunk-00000000", "UniqueID", "1", "DestUniqueID", "2"),
				state("2", "Ringing"),
				ev("Bridge", "Bridgestate", "Link", "Uniqueid1", "1", "Uniqueid2", "2"),
				ev("Bridge", "Bridgestate", "Unlink", "Uniqueid1", "1", "Uniqueid2", "2"),
				ev("Bridge", "Bridgestate", "Link", "Uniqueid1", "1", "Uniqueid2", "2"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/201 call=1 cid=200 svc=sales calldata=42",
			},
			live: 2,
		},
		{
			name: "one Ring for AgentCalled plus DialBegin; repeated DialEnd CANCEL",
			frames: fs(
				newch("Local/102@queue-ctx-00000000;2", "1", "500"),
				varset("1", "customer_id", "98765"),
				qjoin("1", "support"),
				newch("Local/202@phones-00000001;1", "2", ""), newch("Local/202@phones-00000001;2", "3", ""),
				ev("AgentCalled", "Uniqueid", "1", "DestUniqueid", "2", "Queue", "support"),
				dialBegin("1", "2"),
				state("2", "Ringing"),
				dialEnd("1", "2", "CANCEL"), dialEnd("1", "2", "CANCEL"),
				hangup("2", "0"), hangup("3", "0"),
			),
			want: []string{
				"Ring Local/202@phones call=1 cid=500 svc=support customer_id=98765",
				"Hangup Local/202@phones call=1 cid=500 svc=support customer_id=98765",
			},
			live: 1,
		},
		{
			name: "data set before the queue is kept and filtered by the service",
			frames: fs(
				newch("SIP/trunk-00000000", "1", "700"),
				exten("1", "queue-ctx", "Set", "order=A-17"),
				varset("1", "order", "A-17"),
				varset("1", "unrelated", "x"),
				varset("1", "DIALSTATUS", ""),
				varset("1", "__CUSTOMER_ID", "4711"), // inherited, other case
				qjoin("1", "support"),
				newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
			),
			want: []string{"Ring SIP/201 call=1 cid=700 svc=support customer_id=4711 order=A-17"},
			live: 2,
		},
		{
			name: "the queue decides the service, not the context",
			frames: fs(
				newch("SIP/trunk-00000000", "1", "800"),
				exten("1", "queue-ctx", "Answer", ""),
				varset("1", "customer_id", "1"),
				qjoin("1", "billing"),
				newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
			),
			want: []string{"Ring SIP/201 call=1 cid=800 svc=billing customer_id=1"},
			live: 2,
		},
		{
			name: "the last value wins: Set, VarSet, UserEvent",
			frames: seq(sipCall, fs(
				varset("1", "calldata", "43"),
				ev("UserEvent", "Uniqueid", "1", "Channel", "SIP/trunk-00000000", "UserEvent", "AstCTI", "calldata", "44", "customer_id", "5"),
				newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
				exten("1", "sales", "Set", "calldata=45|x"), // 1.6+: one pair, the value keeps its '|'
				enter("b", "1"), enter("b", "2"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=44 Customer_ID=5",
				"Link SIP/201 call=1 cid=200 svc=sales calldata=45|x Customer_ID=5",
			},
			live: 2,
		},
		{
			name: "caller id of the ;1 half when the service ;2 half has none (1.4, 1.8)",
			frames: fs(
				newch("Local/101@sales-00000000;1", "1", ""),
				newch("Local/101@sales-00000000;2", "2", ""),
				ev("NewCallerid", "Uniqueid", "1", "CallerIDNum", "300", "CallerIDName", "Demo"),
				exten("2", "sales", "Answer", ""),
				newch("Local/202@phones-00000001;1", "3", "101"),
				dialBegin("2", "3"), state("3", "Ringing"),
			),
			want: []string{"Ring Local/202@phones call=2 cid=300 svc=sales"},
			live: 3,
		},
		{
			name: "1.4 AgentCalled: the member leg created just before",
			frames: fs(
				ev("Newchannel", "Channel", "Local/102@queue-ctx-f59d,1", "State", "Down", "CallerIDNum", "<unknown>", "Uniqueid", "1"),
				ev("Newchannel", "Channel", "Local/102@queue-ctx-f59d,2", "State", "Ring", "CallerIDNum", "<unknown>", "Uniqueid", "2"),
				ev("Newcallerid", "Channel", "Local/102@queue-ctx-f59d,1", "CallerID", "200", "CallerIDName", "Demo 1", "Uniqueid", "1"),
				ev("Newexten", "Privilege", "call,all", "Channel", "Local/102@queue-ctx-f59d,2", "Context", "queue-ctx", "Extension", "102", "Application", "Set", "AppData", "customer_id=98765", "Uniqueid", "2"),
				ev("Join", "Channel", "Local/102@queue-ctx-f59d,2", "CallerID", "200", "Queue", "support", "Uniqueid", "2"),
				ev("Newchannel", "Channel", "Local/201@phones-abe2,1", "State", "Down", "Uniqueid", "3"),
				ev("Newchannel", "Channel", "Local/201@phones-abe2,2", "State", "Ring", "Uniqueid", "4"),
				ev("AgentCalled", "AgentCalled", "Local/201@phones/n", "ChannelCalling", "Local/102@queue-ctx-f59d,2", "CallerID", "200"),
				ev("Newstate", "Channel", "Local/201@phones-abe2,1", "State", "Ringing", "CallerID", "200", "Uniqueid", "3"),
				ev("AgentConnect", "Queue", "support", "Uniqueid", "2", "Channel", "Local/201@phones-abe2,1", "BridgedChannel", "3"),
				ev("Link", "Uniqueid1", "2", "Uniqueid2", "3"),
			),
			want: []string{
				"Ring Local/201@phones call=2 cid=200 svc=support customer_id=98765",
				"Link Local/201@phones call=2 cid=200 svc=support customer_id=98765",
			},
			live: 4,
		},
		{
			name: "1.8 AgentCalled: DestinationChannel",
			frames: fs(
				newch("SIP/trunk-00000006", "1", "200"),
				ev("Join", "Channel", "SIP/trunk-00000006", "Queue", "support", "Uniqueid", "1"),
				newch("SIP/201-00000007", "2", "201"),
				ev("AgentCalled", "Queue", "support", "AgentCalled", "SIP/201", "ChannelCalling", "SIP/trunk-00000006", "DestinationChannel", "SIP/201-00000007", "Uniqueid", "1"),
				state("2", "Ringing"),
			),
			want: []string{"Ring SIP/201 call=1 cid=200 svc=support"},
			live: 2,
		},
		{
			name: "a phone rung in two rounds rings twice",
			frames: fs(
				newch("SIP/trunk-00000000", "1", "500"), qjoin("1", "support"),
				newch("SIP/202-00000001", "2", "202"), ev("AgentCalled", "Uniqueid", "1", "DestUniqueid", "2"), state("2", "Ringing"),
				ev("AgentRingNoAnswer", "Uniqueid", "1", "DestUniqueid", "2"), hangup("2", "16"),
				newch("SIP/202-00000002", "3", "202"), ev("AgentCalled", "Uniqueid", "1", "DestUniqueid", "3"), state("3", "Ringing"),
			),
			want: []string{
				"Ring SIP/202 call=1 cid=500 svc=support",
				"Hangup SIP/202 call=1 cid=500 svc=support",
				"Ring SIP/202 call=1 cid=500 svc=support",
			},
			live: 2,
		},
		{
			name: "blind transfer: the caller dials the new target, which gets Ring and Link with the data",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Up"), enter("b1", "2"), enter("b1", "1"),
				ev("BlindTransfer", "Result", "Success"),
				ev("BridgeLeave", "BridgeUniqueid", "b1", "Uniqueid", "1"),
				newch("SIP/208-00000002", "3", "208"), dialBegin("1", "3"),
				ev("BridgeLeave", "BridgeUniqueid", "b1", "Uniqueid", "2"), hangup("2", "16"),
				ev("BridgeDestroy", "BridgeUniqueid", "b1"),
				state("3", "Ringing"), state("3", "Up"), enter("b2", "3"), enter("b2", "1"),
				hangup("3", "16"), hangup("1", "16"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Ring SIP/208 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/208 call=1 cid=200 svc=sales calldata=42",
				"Hangup SIP/208 call=1 cid=200 svc=sales calldata=42",
			},
		},
		{
			name: "pickup: a channel never dialled but bridged with the caller",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
				newch("SIP/205-00000002", "3", "205"), // dials *8, never dialled for the call
				hangup("2", "26"),
				enter("b", "1"), enter("b", "3"),
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Ring SIP/205 call=1 cid=200 svc=sales calldata=42",
				"Link SIP/205 call=1 cid=200 svc=sales calldata=42",
			},
			live: 2,
		},
		{
			name: "a Local member's phone half dials the real phone: both ring",
			frames: seq(sipCall, fs(
				newch("Local/201@from-queue-00000001;1", "2", ""), newch("Local/201@from-queue-00000001;2", "3", ""),
				dialBegin("1", "2"),
				newch("PJSIP/201-00000002", "4", "201"), dialBegin("3", "4"), state("4", "Ringing"), state("2", "Ringing"),
				state("4", "Up"), enter("b2", "3"), enter("b2", "4"), state("2", "Up"), enter("b1", "1"), enter("b1", "2"),
			)),
			want: []string{ // in dial order
				"Ring Local/201@from-queue call=1 cid=200 svc=sales calldata=42",
				"Ring PJSIP/201 call=1 cid=200 svc=sales calldata=42",
				"Link PJSIP/201 call=1 cid=200 svc=sales calldata=42",
				"Link Local/201@from-queue call=1 cid=200 svc=sales calldata=42",
			},
			live: 4,
		},
		{
			name: "Shutdown drops every call and hangs up every leg told of",
			frames: seq(sipCall, fs(
				newch("SIP/201-00000001", "2", "201"), newch("SIP/202-00000002", "3", "202"),
				dialBegin("1", "2"), dialBegin("1", "3"), state("2", "Ringing"),
				ev("Shutdown", "Shutdown", "Cleanly", "Restart", "True"),
				hangup("2", "16"), // a straggler after the restart
			)),
			want: []string{
				"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
				"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42",
			},
		},
		{
			name: "a late OriginateResponse does not bring a dead channel back",
			frames: fs(
				newch("SIP/201-00000001", "1", "201"), hangup("1", "16"),
				ev("OriginateResponse", "Response", "Success", "Channel", "SIP/201-00000001", "Uniqueid", "1"),
				ev("OriginateResponse", "Response", "Failure", "Channel", "SIP/299", "Uniqueid", "<unknown>"),
				ev("OriginateResponse", "Response", "Failure", "Channel", "SIP/299", "Uniqueid", "<null>"),
			),
		},
		{
			name: "an OriginateResponse for a channel not seen creates it",
			frames: fs(
				ev("OriginateResponse", "Response", "Success", "Channel", "SIP/201-00000001", "Context", "sales", "Exten", "100", "Uniqueid", "9", "CallerIDNum", "201"),
			),
			live: 1,
		},
		{
			name: "responses and unknown events are ignored",
			frames: fs(
				&ami.Frame{Fields: []ami.Field{{Key: "Response", Value: "Success"}, {Key: "Message", Value: "Authentication accepted"}}},
				ev("DeviceStateChange", "Device", "SIP/201", "State", "INUSE"),
				ev("PeerStatus", "Peer", "SIP/206", "PeerStatus", "Unreachable"),
				&ami.Frame{},
				nil,
			),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := NewTracker(ruleCatalog())
			var got []string
			for _, f := range tc.frames {
				for _, ch := range tk.Apply(f) {
					got = append(got, render(ch))
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.live, tk.Len(), "Len()")
		})
	}
}

// TestTwoCallsOneSeat: a seat with two live calls hears of both, told apart
// by the caller's uniqueid, and CallsOn gives the state of each.
func TestTwoCallsOneSeat(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	var got []Change
	apply := func(fs ...*ami.Frame) {
		for _, f := range fs {
			got = append(got, tk.Apply(f)...)
		}
	}
	apply(
		newch("SIP/trunk-00000000", "A", "1301"), varset("A", "customer_id", "1"), qjoin("A", "support"),
		newch("SIP/207-00000001", "a", "207"), dialBegin("A", "a"), state("a", "Up"), enter("ba", "a"), enter("ba", "A"),
		newch("SIP/trunk-00000002", "C", "1303"), varset("C", "customer_id", "3"), qjoin("C", "billing"),
		newch("SIP/207-00000003", "c", "207"), dialBegin("C", "c"), state("c", "Ringing"),
	)
	require.Len(t, got, 3)
	assert.Equal(t, []string{
		"Ring SIP/207 call=A cid=1301 svc=support customer_id=1",
		"Link SIP/207 call=A cid=1301 svc=support customer_id=1",
		"Ring SIP/207 call=C cid=1303 svc=billing customer_id=3",
	}, []string{render(got[0]), render(got[1]), render(got[2])})

	var now []string
	for _, ch := range tk.CallsOn("sip/207") {
		now = append(now, render(ch))
	}
	assert.Equal(t, []string{
		"Link SIP/207 call=A cid=1301 svc=support customer_id=1",
		"Ring SIP/207 call=C cid=1303 svc=billing customer_id=3",
	}, now)
	assert.Empty(t, tk.CallsOn("SIP/208"))

	apply(hangup("a", "16"))
	require.Len(t, got, 4)
	assert.Equal(t, "Hangup SIP/207 call=A cid=1301 svc=support customer_id=1", render(got[3]))
	assert.Len(t, tk.CallsOn("SIP/207"), 1)
}

// TestSnapshot checks every field of a Change, and that it shares nothing
// the tracker changes later.
func TestSnapshot(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	var got []Change
	for _, f := range seq(sipCall, fs(newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))) {
		got = append(got, tk.Apply(f)...)
	}
	require.Len(t, got, 1)
	want := Change{Kind: Ring, Interface: "SIP/201", Call: Call{
		Uniqueid: "1", Channel: "SIP/201-00000001", CallerIDNum: "200", CallerIDName: "Name 200",
		Context: "sales", Exten: "100", Linkedid: "L1", Service: "sales",
		Data: []Var{{Name: "calldata", Value: "42"}}, State: "Ringing",
	}}
	assert.Equal(t, want, got[0])
	tk.Apply(varset("1", "calldata", "changed"))
	assert.Equal(t, "42", got[0].Call.Data[0].Value, "a snapshot does not change")
	got[0].Call.Data[0].Value = "mine"
	links := tk.Apply(enter("b", "1"))
	links = append(links, tk.Apply(enter("b", "2"))...)
	require.Len(t, links, 1)
	assert.Equal(t, "changed", links[0].Call.Data[0].Value)
	assert.Equal(t, "Link", links[0].Kind.String())
	assert.Equal(t, "Kind(9)", Kind(9).String())
}

// TestSetCatalog: after a reload, a live call keeps its service and data;
// calls that enter a service later find it in the new catalog.
func TestSetCatalog(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range sipCall {
		tk.Apply(f)
	}
	tk.SetCatalog(newCatalog(Service{Name: "sales v2", Context: "sales", Variables: []string{"other"}}))
	var got []string
	for _, f := range fs(
		newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
		newch("SIP/trunk-00000002", "3", "300"), exten("3", "sales", "Set", "other=x"), exten("3", "sales", "Answer", ""),
		newch("SIP/202-00000003", "4", "202"), dialBegin("3", "4"), state("4", "Ringing"),
	) {
		for _, ch := range tk.Apply(f) {
			got = append(got, render(ch))
		}
	}
	assert.Equal(t, []string{
		"Ring SIP/201 call=1 cid=200 svc=sales calldata=42",
		"Ring SIP/202 call=3 cid=300 svc=sales v2 other=x",
	}, got)
}

// TestReset forgets everything and hangs up every leg told of.
func TestReset(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range seq(sipCall, fs(
		newch("SIP/201-00000001", "2", "201"), newch("SIP/202-00000002", "3", "202"),
		dialBegin("1", "2"), dialBegin("1", "3"), state("2", "Ringing"), enter("b", "1"),
	)) {
		tk.Apply(f)
	}
	require.Equal(t, 3, tk.Len())
	var got []string
	for _, ch := range tk.Reset() {
		got = append(got, render(ch))
	}
	assert.Equal(t, []string{"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42"}, got)
	assert.Zero(t, tk.Len())
	assert.Empty(t, tk.CallsOn("SIP/201"))
	assert.Empty(t, tk.Apply(hangup("2", "16")))
	assert.Empty(t, tk.bridges)
	assert.Empty(t, tk.Reset())
}

// TestRetain ends the calls whose channels the PBX no longer lists, after
// the AMI link was down.
func TestRetain(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range seq(sipCall, fs(
		newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Up"), enter("b", "2"), enter("b", "1"),
		newch("SIP/trunk-00000002", "3", "300"), exten("3", "sales", "Answer", ""),
		newch("SIP/202-00000003", "4", "202"), dialBegin("3", "4"), state("4", "Ringing"),
	)) {
		tk.Apply(f)
	}
	var got []string
	for _, ch := range tk.Retain(map[string]bool{"3": true, "4": true, "99": true}, tk.Mark()) {
		got = append(got, render(ch))
	}
	assert.Equal(t, []string{"Hangup SIP/201 call=1 cid=200 svc=sales calldata=42"}, got)
	assert.Equal(t, 2, tk.Len())
	assert.Empty(t, tk.bridges, "the ended call's bridge")
	require.Len(t, tk.CallsOn("SIP/202"), 1)
	assert.Empty(t, tk.Retain(map[string]bool{"3": true, "4": true}, tk.Mark()))
}

func TestStats(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range fs(
		&ami.Frame{Fields: []ami.Field{{Key: "Response", Value: "Success"}}},
		ev("DeviceStateChange"),
		ev("Newchannel", "Channel", "SIP/201-00000001"), // no Uniqueid
		ev("Hangup", "Uniqueid", "404"),
		newch("SIP/201-00000001", "1", "201"),
	) {
		tk.Apply(f)
	}
	assert.Equal(t, Stats{Frames: 5, Ignored: 2, Unknown: 1, Malformed: 1, Channels: 1}, tk.Stats())
}

// TestCallsOnMidCall replays i_resync_midcall up to the screen pop: a seat
// logging in then is told of the call it is in.
func TestCallsOnMidCall(t *testing.T) {
	tk := NewTracker(traceCatalog())
	for _, f := range readFrames(t, loadTrace(t, "asterisk-22.10.1", "i_resync_midcall")) {
		if chs := tk.Apply(f); len(chs) > 0 && chs[0].Kind == Link {
			break
		}
	}
	got := tk.CallsOn("Local/207@phones/n")
	require.Len(t, got, 1)
	assert.Equal(t, Link, got[0].Kind)
	assert.Equal(t, "600", got[0].Call.CallerIDNum)
	assert.Equal(t, "astcti-queue", got[0].Call.Queue)
	assert.Equal(t, []Var{{Name: "customer_id", Value: "98765"}}, got[0].Call.Data)
	assert.True(t, strings.HasPrefix(got[0].Call.Channel, "Local/207@phones-"))
}

// TestNoAllocs: events that change nothing allocate nothing. The hub feeds
// the tracker every event of the PBX, most of them noise.
func TestNoAllocs(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range seq(sipCall, fs(
		newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Up"), enter("b", "2"), enter("b", "1"),
	)) {
		tk.Apply(f)
	}
	tests := []struct {
		name string
		f    *ami.Frame
	}{
		{"DeviceStateChange", ev("DeviceStateChange", "Device", "SIP/201", "State", "INUSE")},
		{"QueueMemberStatus", ev("QueueMemberStatus", "Queue", "support", "Interface", "SIP/201", "Status", "2")},
		{"VarSet undeclared", varset("1", "DIALSTATUS", "ANSWER")},
		{"VarSet on a phone leg", varset("2", "RTPAUDIOQOS", "ssrc=1;themssrc=2")},
		{"VarSet same value", varset("1", "calldata", "42")},
		{"Newexten same place", exten("2", "phones-in", "Wait", "5")},
		{"Newstate again", state("2", "Up")},
		{"DialEnd", dialEnd("1", "2", "ANSWER")},
		{"BridgeEnter again", enter("b", "2")},
		{"Link again", ev("Bridge", "Bridgestate", "Link", "Uniqueid1", "1", "Uniqueid2", "2")},
		{"Hangup unknown", hangup("404", "16")},
		{"response", &ami.Frame{Fields: []ami.Field{{Key: "Response", Value: "Success"}, {Key: "ActionID", Value: "1"}}}},
	}
	tk.Apply(exten("2", "phones-in", "Wait", "5"))
	for _, tc := range tests {
		if n := testing.AllocsPerRun(100, func() { tk.Apply(tc.f) }); n != 0 {
			t.Errorf("Apply(%s) allocates %v times, want 0", tc.name, n)
		}
	}
}
