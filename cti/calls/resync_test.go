package calls

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
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
			reqs, changes := tr.Resync(items)
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
			reqs, changes = tr.Resync(items)
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
	reqs, changes := tr.Resync(items)
	assert.Empty(t, changes)
	require.Equal(t, []VarRequest{{Uniqueid: "1", Channel: "SIP/trunk-00000001", Variable: "calldata"}}, reqs)
	assert.Equal(t, []string{"Link SIP/201 callerid=555 service=astcti-service calldata=42"}, lines(tr.GotVar(reqs[0], "42")))
	assert.Empty(t, tr.GotVar(reqs[0], "43"), "a second answer")
}

func lines(changes []Change) []string {
	var out []string
	for _, ch := range changes {
		out = append(out, expectLine(ch))
	}
	return out
}
