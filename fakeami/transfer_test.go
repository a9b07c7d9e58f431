package fakeami

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/scenarios"
)

// transferPBX plays the blind_transfer library scenario up to the moment
// 207 has answered, and returns 207's channel and the caller's.
func transferPBX(t *testing.T, d Dialect) (tp *testPBX, member, caller ChannelSnapshot) {
	t.Helper()
	sc, err := scenarios.Load("blind_transfer")
	require.NoError(t, err)
	m, err := scenarios.Merge(scenarios.Demo(), sc)
	require.NoError(t, err)
	tp = newTestPBX(t, d, m)
	tp.do("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/207")
	tp.advance(7 * time.Second) // the call came at 1 s, 207 answered at 3 s
	for _, c := range tp.State().Channels {
		switch {
		case strings.HasPrefix(c.Name, "SIP/207-"):
			member = c
		case strings.HasPrefix(c.Name, "SIP/trunk-"):
			caller = c
		}
	}
	require.Equal(t, caller.Name, member.BridgedWith, "207 talks to the caller")
	return tp, member, caller
}

// TestBlindTransfer holds the AMI BlindTransfer action to the order of
// 22.10.1 k_blind_transfer.
func TestBlindTransfer(t *testing.T) {
	tp, member, caller := transferPBX(t, DialectModern)
	tp.rec.reset()
	got := tp.do("BlindTransfer", "Channel", member.Name, "Context", "astcti-internal", "Exten", "208", "ActionID", "k-3")
	require.Len(t, got, 1)
	assert.Equal(t, "Success", got[0].Response())
	assert.Equal(t, "Transfer succeeded", got[0].Get("Message"))

	var order []string
	for _, f := range tp.rec.all() {
		name := f.Event()
		switch name {
		case "VarSet":
			name += " " + f.Get("Variable") + " " + f.Get("Channel")
		case "Newexten", "BridgeLeave", "Hangup", "DialBegin", "Unhold":
			name += " " + f.Get("Channel")
		case "DeviceStateChange", "QueueMemberStatus", "NewConnectedLine", "Newchannel":
			continue
		}
		order = append(order, name)
	}
	i := 0
	for _, want := range []string{
		"Unhold " + member.Name,
		"VarSet BLINDTRANSFER " + caller.Name,
		"VarSet BLINDTRANSFER " + member.Name,
		"VarSet BRIDGEPEER " + member.Name,
		"BlindTransfer",
		"VarSet BRIDGEPEER " + caller.Name,
		"Newexten " + caller.Name,
		"BridgeLeave " + caller.Name,
		"DialBegin " + caller.Name,
		"BridgeLeave " + member.Name,
		"Hangup " + member.Name,
		"AgentComplete",
		"BridgeDestroy",
	} {
		for i < len(order) && order[i] != want {
			i++
		}
		require.Less(t, i, len(order), "no %q in order after the earlier ones:\n%s", want, strings.Join(order, "\n"))
	}

	bt := tp.rec.find("BlindTransfer")
	require.Len(t, bt, 1)
	for k, v := range map[string]string{
		"Result": "Success", "TransfererChannel": member.Name, "TransfereeChannel": caller.Name,
		"TransfereeUniqueid": caller.Uniqueid, "IsExternal": "Yes", "Context": "astcti-internal", "Extension": "208",
	} {
		assert.Equal(t, v, bt[0].Get(k), "BlindTransfer %s", k)
	}
	ne := tp.rec.find("Newexten", "Channel", caller.Name)
	require.NotEmpty(t, ne)
	assert.Equal(t, []string{"astcti-internal", "208", "1", "Queue"},
		[]string{ne[0].Get("Context"), ne[0].Get("Exten"), ne[0].Get("Priority"), ne[0].Get("Application")},
		"the caller's Newexten shows the new place and the stale application")
	assert.Len(t, tp.rec.find("Newexten", "Channel", caller.Name, "Application", "Dial"), 0, "no Newexten for the first step after a transfer")
	ac := tp.rec.find("AgentComplete")
	require.Len(t, ac, 1)
	assert.Equal(t, "transfer", ac[0].Get("Reason"))
	db := tp.rec.find("DialBegin", "Channel", caller.Name)
	require.Len(t, db, 1)
	assert.True(t, strings.HasPrefix(db[0].Get("DestChannel"), "SIP/208-"), db[0].Get("DestChannel"))
	assert.Equal(t, caller.Uniqueid, db[0].Get("Uniqueid"), "the caller keeps its uniqueid")
	assert.Equal(t, caller.Linkedid, db[0].Get("DestLinkedid"), "208's leg joins the call")

	// 208 answers after 2 s and talks 10 s; then everything hangs up.
	tp.advance(3 * time.Second)
	st := tp.State()
	var with string
	for _, c := range st.Channels {
		if c.Name == caller.Name {
			with = c.BridgedWith
		}
	}
	assert.True(t, strings.HasPrefix(with, "SIP/208-"), "the caller talks to 208: %q", with)
	tp.advance(20 * time.Second)
	assert.Empty(t, tp.State().Channels)
}

func TestBlindTransferErrors(t *testing.T) {
	tp, member, _ := transferPBX(t, DialectModern)
	tests := []struct {
		kv   []string
		want string
	}{
		{[]string{"Exten", "208"}, "No channel specified"},
		{[]string{"Channel", member.Name}, "No extension specified"},
		{[]string{"Channel", "SIP/999-00000099", "Exten", "208"}, "Channel specified does not exist"},
	}
	for _, tc := range tests {
		got := tp.do("BlindTransfer", tc.kv...)
		require.Len(t, got, 1)
		assert.Equal(t, "Error", got[0].Response(), "%v", tc.kv)
		assert.Equal(t, tc.want, got[0].Get("Message"), "%v", tc.kv)
	}
	// A channel that talks to nobody cannot transfer.
	tp.advance(30 * time.Second)
	tp.do("Originate", "Channel", "SIP/203", "Application", "Wait", "Data", "5")
	var lone string
	for _, c := range tp.State().Channels {
		lone = c.Name
	}
	require.NotEmpty(t, lone)
	got := tp.do("BlindTransfer", "Channel", lone, "Exten", "208", "Context", "astcti-internal")
	assert.Equal(t, "Transfer invalid", got[0].Get("Message"))
	assert.ErrorIs(t, tp.Transfer(lone, "astcti-internal", "208"), ErrTransfer)
	assert.ErrorIs(t, tp.Transfer("SIP/nosuch-1", "astcti-internal", "208"), ErrTransfer)
}

// TestTransfer14 checks the 1.4 dialect: no BlindTransfer action, and the
// same call flow in 1.4's events through Transfer.
func TestTransfer14(t *testing.T) {
	tp, member, caller := transferPBX(t, Dialect14)
	got := tp.do("BlindTransfer", "Channel", member.Name, "Context", "astcti-internal", "Exten", "208")
	assert.Equal(t, "Invalid/unknown command", got[0].Get("Message"))
	tp.rec.reset()
	require.NoError(t, tp.Transfer(member.Name, "astcti-internal", "208"))
	assert.Len(t, tp.rec.find("BlindTransfer"), 0)
	assert.Len(t, tp.rec.find("Unlink", "Channel1", caller.Name, "Channel2", member.Name), 1)
	assert.Len(t, tp.rec.find("Hangup", "Channel", member.Name), 1)
	assert.Len(t, tp.rec.find("AgentComplete", "Reason", "transfer"), 1)
	dial := tp.rec.find("Dial", "Source", caller.Name)
	require.Len(t, dial, 1)
	assert.True(t, strings.HasPrefix(dial[0].Get("Destination"), "SIP/208-"))
	tp.advance(3 * time.Second)
	assert.NotEmpty(t, tp.rec.find("Link", "Channel1", caller.Name))
	tp.advance(20 * time.Second)
	assert.Empty(t, tp.State().Channels)
}
