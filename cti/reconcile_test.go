package cti_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
)

func amiFrame(kv ...string) *ami.Frame {
	f := &ami.Frame{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

// TestReconcileAgesOutLostChannels: a call whose Hangup never came (the
// tracker holds channels the PBX no longer has) is ended by the periodic
// reconciliation with the PBX's CoreShowChannels: its seat hears Hangup,
// no ghost call stays on it, and the channels are counted as aged out.
// Channels created after a list was asked for are not touched by it.
func TestReconcileAgesOutLostChannels(t *testing.T) {
	defer cti.SetReconcileEvery(200 * time.Millisecond)()
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config(), Admin: true})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	alice.Sync()
	base := srv.TrackerLen()

	// A call of the sales service ringing alice's phone, which the PBX
	// never had (or whose Hangups were lost).
	require.True(t, srv.InjectAMI(
		amiFrame("Event", "Newchannel", "Channel", "SIP/trunk-0000beef", "CallerIDNum", "4711", "Uniqueid", "ghost.1"),
		amiFrame("Event", "Newexten", "Privilege", "dialplan,all", "Channel", "SIP/trunk-0000beef", "Context", "astcti-service",
			"Exten", "100", "Uniqueid", "ghost.1", "Application", "Answer"),
		amiFrame("Event", "Newchannel", "Channel", "SIP/201-0000bef0", "Uniqueid", "ghost.2"),
		amiFrame("Event", "DialBegin", "Uniqueid", "ghost.1", "DestUniqueid", "ghost.2"),
		amiFrame("Event", "Newstate", "ChannelStateDesc", "Ringing", "Uniqueid", "ghost.2"),
	))
	alice.Expect(`^<event id="CallerId"><call><uniqueid>ghost\.1</uniqueid>.*<calleridnum>4711</calleridnum>`)
	alice.Expect(`^<event id="Hangup"><call><uniqueid>ghost\.1</uniqueid>`)
	ctitest.WaitFor(t, "the lost channels to be aged out", func() error {
		n := srv.TrackerLen()
		return ctitest.Check(n == base, "%d channels tracked, want %d", n, base)
	})
	fam := ctitest.Scrape(t, srv.AdminURL()+"/metrics")
	aged, ok := fam.Value("astcti_tracker_dropped_total", "reason", "aged_out")
	assert.True(t, ok)
	assert.GreaterOrEqual(t, aged, 2.0, "channels aged out")
	rec, _ := fam.Value("astcti_reconciliations_total")
	assert.GreaterOrEqual(t, rec, 1.0)
	for _, l := range alice.Sync() {
		assert.NotContains(t, l, "ghost", "a second line about the ghost call")
	}
}

// TestHangupFirstLeavesNoGhost: a Hangup that comes before its channel's
// Newchannel (events of one channel read out of order, a list item made
// before the Hangup) leaves nothing on the seat: the later Newchannel is
// ignored, so no call rings a seat that would never hear it end.
func TestHangupFirstLeavesNoGhost(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config()})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	alice.Sync()
	base := srv.TrackerLen()
	require.True(t, srv.InjectAMI(
		amiFrame("Event", "Hangup", "Channel", "SIP/201-0000bef1", "Uniqueid", "late.2", "Cause", "16"),
		amiFrame("Event", "Newchannel", "Channel", "SIP/trunk-0000bee1", "CallerIDNum", "4712", "Uniqueid", "late.1"),
		amiFrame("Event", "Newexten", "Privilege", "dialplan,all", "Channel", "SIP/trunk-0000bee1", "Context", "astcti-service",
			"Exten", "100", "Uniqueid", "late.1", "Application", "Answer"),
		amiFrame("Event", "Newchannel", "Channel", "SIP/201-0000bef1", "Uniqueid", "late.2"),
		amiFrame("Event", "DialBegin", "Uniqueid", "late.1", "DestUniqueid", "late.2"),
		amiFrame("Event", "Newstate", "ChannelStateDesc", "Ringing", "Uniqueid", "late.2"),
	))
	for _, l := range alice.Sync() {
		assert.NotContains(t, l, "late.1", "a line about a call whose phone leg hung up first")
	}
	assert.Equal(t, base+1, srv.TrackerLen(), "the caller's channel only")
}
