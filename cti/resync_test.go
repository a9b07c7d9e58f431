package cti_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/scenarios"
)

// TestResyncRebuildsCall: a call that entered a service and was answered
// while the server was not connected is rebuilt by the resync at login
// (CoreShowChannels, then Getvar for the service's variables), and the
// seat gets its Link with the call's data, once.
func TestResyncRebuildsCall(t *testing.T) {
	pbx := startDemoPBX(t)
	sc, err := scenarios.ParseFragment("midcall.txtar", []byte(
		"-- extensions.conf --\n[astcti-mid]\nexten => 100,1,Answer()\n same => n,Set(calldata=777)\n"+
			" same => n,Dial(SIP/201,30)\n same => n,Hangup()\n"+
			"-- phones --\nSIP/201 answers at once\n"+
			"-- calls --\nat 0s from \"Mid\" <4242> to 100@astcti-mid\n"))
	require.NoError(t, err)
	require.NoError(t, pbx.PBX.Play(sc))
	ctitest.WaitFor(t, "the call to be bridged", func() error {
		for _, c := range pbx.PBX.State().Channels {
			if c.BridgedWith != "" {
				return nil
			}
		}
		return ctitest.Check(false, "no bridged channel")
	})

	m := config.Demo()
	m.Services = append(m.Services, config.Service{
		Name: "mid", Type: config.Inbound, Context: "astcti-mid", Trigger: config.TriggerNone, Enabled: true,
		Variables: []string{"calldata"}, Members: []config.Member{{Operator: "alice"}},
	})
	srv := ctitest.Start(t, ctitest.Options{Model: m, AMI: pbx.Config()})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^<event id="Link">.*<calleridnum>4242</calleridnum>.*<data key="calldata">777</data>`)
	for _, l := range alice.Sync() {
		require.NotContains(t, l, `id="Link"`, "a second Link")
	}
}
