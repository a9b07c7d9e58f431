package calls

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// midcall returns the frames of i_resync_midcall before the CoreShowChannels
// answer, and the list's items (the CoreShowChannel events between its
// response and CoreShowChannelsComplete).
func midcall(t *testing.T) (before, items []*ami.Frame) {
	t.Helper()
	frames := readFrames(t, loadTrace(t, "asterisk-22.10.1", "i_resync_midcall"))
	start := -1
	for i, f := range frames {
		switch {
		case start < 0 && f.IsResponse() && f.Get("EventList") == "start" && f.ActionID() == "i-3":
			start = i
		case start >= 0 && f.Event() == "CoreShowChannelsComplete":
			return frames[:start], frames[start+1 : i]
		}
	}
	t.Fatal("i_resync_midcall: no CoreShowChannels list")
	return nil, nil
}

func TestResyncMidcall(t *testing.T) {
	before, items := midcall(t)
	require.Len(t, items, 4)
	queue := Service{Name: "Queue", Context: "astcti-queue-service", Queue: "astcti-queue", Variables: []string{"customer_id"}}
	caller := VarRequest{Uniqueid: "1795642805.1", Channel: "Local/102@astcti-queue-service-00000000;2", Variable: "customer_id"}
	link := "Link Local/207@phones callerid=600 service=astcti-queue"

	tests := []struct {
		name    string
		svc     Service
		seen    bool   // the tracker saw the call's events before the list
		hangup  string // a channel that hangs up before the Getvar answer
		value   string // the Getvar answer
		reqs    []VarRequest
		atOnce  []string // Resync's changes
		changes []string // GotVar's changes
	}{
		{name: "rebuilt", svc: queue, value: "98765", reqs: []VarRequest{caller}, changes: []string{link + " customer_id=98765"}},
		{name: "getvar failed", svc: queue, reqs: []VarRequest{caller}, changes: []string{link}},
		{name: "no variables", svc: Service{Name: "Queue", Queue: "astcti-queue"}, atOnce: []string{link}},
		{name: "not a service", svc: Service{Name: "Other", Queue: "other-queue", Variables: []string{"customer_id"}}},
		{name: "known call", svc: queue, seen: true},
		{name: "seat gone", svc: queue, hangup: "1795642805.2", value: "98765", reqs: []VarRequest{caller}},
		{name: "caller gone", svc: queue, hangup: "1795642805.1", value: "98765", reqs: []VarRequest{caller}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(newCatalog(tt.svc))
			if tt.seen {
				for _, f := range before {
					tr.Apply(f)
				}
				require.NotEmpty(t, tr.CallsOn("Local/207@phones"))
			}
			reqs, changes := tr.Resync(Listing{Channels: items})
			assert.Equal(t, tt.reqs, reqs)
			assert.Equal(t, tt.atOnce, lines(changes))
			if tt.hangup != "" {
				tr.Apply(hangup(tt.hangup, "16"))
			}
			var got []string
			for _, r := range reqs {
				got = append(got, lines(tr.GotVar(r, tt.value))...)
			}
			assert.Equal(t, tt.changes, got)
			if len(tt.changes)+len(tt.atOnce) > 0 {
				// A seat that logs in now gets the rebuilt call too.
				on := tr.CallsOn("Local/207@phones")
				require.Len(t, on, 1)
				assert.Equal(t, "1795642805.1", on[0].Call.Uniqueid)
			}
			// A second resync changes nothing.
			reqs, changes = tr.Resync(Listing{Channels: items})
			assert.Empty(t, reqs)
			assert.Empty(t, changes)
		})
	}
}

// TestResyncDial rebuilds a non-queue call from Status items (BridgeID,
// Data): the caller runs Dial in the service's context.
func TestResyncDial(t *testing.T) {
	status := func(name, uid, ctx, app, data, bridge string) *ami.Frame {
		return ev("Status", "Privilege", "Call", "Channel", name, "ChannelStateDesc", "Up", "CallerIDNum", "555",
			"Context", ctx, "Exten", "100", "Uniqueid", uid, "Linkedid", "1", "Application", app, "Data", data, "BridgeID", bridge)
	}
	items := []*ami.Frame{
		status("SIP/trunk-00000001", "1", "astcti-service", "Dial", "SIP/201&SIP/202,30", "b1"),
		status("SIP/201-00000002", "2", "phones", "AppDial", "(Outgoing Line)", "b1"),
		status("SIP/202-00000003", "3", "phones", "AppDial", "(Outgoing Line)", "b2"),
	}
	tr := NewTracker(newCatalog(Service{Name: "Service", Context: "astcti-service", Variables: []string{"calldata"}}))
	reqs, changes := tr.Resync(Listing{Channels: items})
	assert.Empty(t, changes)
	require.Equal(t, []VarRequest{{Uniqueid: "1", Channel: "SIP/trunk-00000001", Variable: "calldata"}}, reqs)
	assert.Equal(t, []string{"Link SIP/201 callerid=555 service=astcti-service calldata=42"}, lines(tr.GotVar(reqs[0], "42")))
	assert.Empty(t, tr.GotVar(reqs[0], "43"), "a second answer")
}

// listing reads a recorded answer to Status (or CoreShowChannels) and
// QueueStatus, taken from real Asterisk during a live call
// (testdata/ami-lists/*.ami).
func listing(t *testing.T, file string) Listing {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(amitrace.ListsRoot(), file))
	require.NoError(t, err)
	var l Listing
	for _, f := range readFrames(t, b) {
		switch f.Event() {
		case "Status", "CoreShowChannel":
			l.Channels = append(l.Channels, f)
		case "QueueParams", "QueueMember", "QueueEntry":
			l.Queues = append(l.Queues, f)
		}
	}
	require.NotEmpty(t, l.Channels)
	return l
}

// TestResyncRecorded rebuilds calls from what real Asterisk 22.10.1 and
// 1.4.44 list during a live call: a queue call answered by
// Local/201@phones/n, a non-queue call (Dial of 201 and 202) answered by
// 201, and a queue call still waiting (its member 202 rings). 1.4's Status
// names no application: the queue call is told by its context, its
// QueueEntry or the queue its answering phone is a member of.
func TestResyncRecorded(t *testing.T) {
	queue := Service{Name: "support", Context: "astcti-queue-service", Queue: "astcti-queue", Variables: []string{"customer_id"}}
	sales := Service{Name: "sales", Context: "astcti-service", Variables: []string{"calldata"}}
	tests := []struct {
		file    string
		value   string // the Getvar answer
		changes []string
		idle    string // a seat interface that must get nothing
	}{
		{file: "asterisk-1.4.44-queue.ami", value: "98765", changes: []string{"Link Local/201@phones callerid=5550123 service=astcti-queue customer_id=98765"}},
		{file: "asterisk-1.4.44-dial.ami", value: "12345", changes: []string{"Link Local/201@phones callerid=5550123 service=astcti-service calldata=12345"}, idle: "Local/202@phones"},
		{file: "asterisk-1.4.44-waiting.ami", value: "98765", idle: "Local/202@phones"},
		{file: "asterisk-22.10.1-queue.ami", value: "98765", changes: []string{"Link Local/201@phones callerid=5550123 service=astcti-queue customer_id=98765"}},
		{file: "asterisk-22.10.1-dial.ami", value: "12345", changes: []string{"Link Local/201@phones callerid=5550123 service=astcti-service calldata=12345"}, idle: "Local/202@phones"},
		{file: "asterisk-22.10.1-waiting.ami", value: "98765", idle: "Local/202@phones"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l := listing(t, tt.file)
			assert.Equal(t, strings.Contains(tt.file, "1.4.44"), NeedsQueues(l.Channels), "NeedsQueues")
			tr := NewTracker(newCatalog(queue, sales))
			reqs, changes := tr.Resync(l)
			assert.Empty(t, changes, "Links wait for the data")
			require.Len(t, reqs, 1, "one Getvar: the service has one variable")
			var got []string
			for _, r := range reqs {
				got = append(got, lines(tr.GotVar(r, tt.value))...)
			}
			assert.Equal(t, tt.changes, got)
			if tt.idle != "" {
				assert.Empty(t, tr.CallsOn(tt.idle))
			}
			reqs, changes = tr.Resync(l)
			assert.Empty(t, reqs, "a second resync")
			assert.Empty(t, changes, "a second resync")
		})
	}
}

// TestResyncSharedContext: on Asterisk 1.4 two queue services in one
// context are told apart by the caller's QueueEntry, or by the queue whose
// members include the phone that answered; with nothing to tell them apart
// the call is not rebuilt (rather than popped with the wrong service).
func TestResyncSharedContext(t *testing.T) {
	a := Service{Name: "a", Context: "shared", Queue: "qa"}
	b := Service{Name: "b", Context: "shared", Queue: "qb"}
	status := func(name, uid, ctx, link string) *ami.Frame {
		f := ev("Status", "Privilege", "Call", "Channel", name, "CallerID", "555", "CallerIDNum", "555", "CallerIDName", "C", "Account", "", "State", "Up")
		if ctx != "" {
			f.Add("Context", ctx).Add("Extension", "100").Add("Priority", "3").Add("Seconds", "4")
		}
		if link != "" {
			f.Add("Link", link)
		}
		return f.Add("Uniqueid", uid)
	}
	answered := []*ami.Frame{
		status("SIP/trunk-0a1b", "1", "shared", "SIP/201-0c2d"),
		status("SIP/201-0c2d", "2", "", "SIP/trunk-0a1b"),
	}
	member := func(q, iface string) *ami.Frame {
		return ev("QueueMember", "Queue", q, "Name", iface, "Location", iface, "Membership", "dynamic", "Penalty", "0", "CallsTaken", "0", "LastCall", "0", "Status", "2", "Paused", "0")
	}
	tests := []struct {
		name   string
		chans  []*ami.Frame
		queues []*ami.Frame
		want   []string
	}{
		{name: "member of qb", chans: answered, queues: []*ami.Frame{member("qa", "SIP/202"), member("qb", "SIP/201")}, want: []string{"Link SIP/201 callerid=555 service=qb"}},
		{name: "member of both", chans: answered, queues: []*ami.Frame{member("qa", "SIP/201"), member("qb", "SIP/201")}},
		{name: "no queue information", chans: answered},
		{name: "waiting in qa", chans: []*ami.Frame{status("SIP/trunk-0a1b", "1", "shared", "")},
			queues: []*ami.Frame{ev("QueueEntry", "Queue", "qa", "Position", "1", "Channel", "SIP/trunk-0a1b", "CallerID", "555", "CallerIDName", "C", "Wait", "3")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(newCatalog(a, b))
			reqs, changes := tr.Resync(Listing{Channels: tt.chans, Queues: tt.queues})
			assert.Empty(t, reqs)
			assert.Equal(t, tt.want, lines(changes))
		})
	}
	// The waiting caller was rebuilt in qa: when qa's member answers, it
	// pops with qa's service.
	tr := NewTracker(newCatalog(a, b))
	tr.Resync(Listing{Channels: tests[3].chans, Queues: tests[3].queues})
	tr.Apply(ev("Newchannel", "Channel", "SIP/202-0e3f", "State", "Down", "CallerIDNum", "", "Uniqueid", "3"))
	tr.Apply(ev("AgentCalled", "AgentCalled", "SIP/202", "AgentName", "SIP/202", "ChannelCalling", "SIP/trunk-0a1b", "CallerID", "555"))
	tr.Apply(ev("Newstate", "Channel", "SIP/202-0e3f", "State", "Ringing", "CallerID", "", "Uniqueid", "3"))
	got := lines(tr.Apply(ev("Link", "Channel1", "SIP/trunk-0a1b", "Channel2", "SIP/202-0e3f", "Uniqueid1", "1", "Uniqueid2", "3")))
	assert.Equal(t, []string{"Link SIP/202 callerid=555 service=qa"}, got)
}

// TestResync18 rebuilds a queue call from the lists of Asterisk 1.6–11,
// written as 1.8's main/manager.c writes them (no 1.8 PBX is at hand):
// CoreShowChannel names the application and the bridged channel's
// BridgedUniqueID; Status names no application, and its BridgedUniqueid
// and the queue's members tell the call.
func TestResync18(t *testing.T) {
	queue := Service{Name: "support", Context: "astcti-queue-service", Queue: "astcti-queue", Variables: []string{"customer_id"}}
	show := func(name, uid, ctx, app, data, bname, buid string) *ami.Frame {
		return ev("CoreShowChannel", "Channel", name, "UniqueID", uid, "Context", ctx, "Extension", "102", "Priority", "3",
			"ChannelState", "6", "ChannelStateDesc", "Up", "Application", app, "ApplicationData", data, "CallerIDnum", "5550123",
			"Duration", "00:00:04", "AccountCode", "", "BridgedChannel", bname, "BridgedUniqueID", buid)
	}
	status := func(name, uid, ctx, bname, buid string) *ami.Frame {
		f := ev("Status", "Privilege", "Call", "Channel", name, "CallerIDNum", "5550123", "CallerIDName", "Live",
			"Accountcode", "", "ChannelState", "6", "ChannelStateDesc", "Up")
		if ctx != "" {
			f.Add("Context", ctx).Add("Extension", "102").Add("Priority", "3").Add("Seconds", "4")
		}
		if bname != "" {
			f.Add("BridgedChannel", bname).Add("BridgedUniqueid", buid)
		}
		return f.Add("Uniqueid", uid)
	}
	const caller, member = "Local/102@astcti-queue-service-00000000;2", "Local/201@phones-00000001;1"
	tests := []struct {
		name string
		l    Listing
	}{
		{name: "CoreShowChannels", l: Listing{Channels: []*ami.Frame{
			show("Local/201@phones-00000001;2", "1.4", "phones", "Wait", "5", "", ""),
			show(member, "1.3", "phones", "AppQueue", "(Outgoing Line)", caller, "1.2"),
			show(caller, "1.2", "astcti-queue-service", "Queue", "astcti-queue,t,,,60", member, "1.3"),
			show("Local/102@astcti-queue-service-00000000;1", "1.1", "astcti-queue-service", "Wait", "30", "", ""),
		}}},
		{name: "Status", l: Listing{
			Channels: []*ami.Frame{
				status("Local/201@phones-00000001;2", "1.4", "phones", "", ""),
				status(member, "1.3", "", caller, "1.2"),
				status(caller, "1.2", "astcti-queue-service", member, "1.3"),
				status("Local/102@astcti-queue-service-00000000;1", "1.1", "", "", ""),
			},
			Queues: []*ami.Frame{ev("QueueMember", "Queue", "astcti-queue", "Name", "Local/201@phones/n", "Location", "Local/201@phones/n")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(newCatalog(queue))
			reqs, _ := tr.Resync(tt.l)
			require.Equal(t, []VarRequest{{Uniqueid: "1.2", Channel: caller, Variable: "customer_id"}}, reqs)
			assert.Equal(t, []string{"Link Local/201@phones callerid=5550123 service=astcti-queue customer_id=98765"}, lines(tr.GotVar(reqs[0], "98765")))
		})
	}
}

func lines(changes []Change) []string {
	var out []string
	for _, ch := range changes {
		out = append(out, expectLine(ch))
	}
	return out
}
