package cti_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// TestResyncRebuildsCall: a call that entered a service and was answered
// while the server was not connected is rebuilt by the resync at login,
// and the seat gets its Link with the call's data, once. Modern Asterisk
// lists the channels with CoreShowChannels; Asterisk 1.4 refuses it and
// answers Status, which names no application, so the server asks
// QueueStatus too and tells the call by its context and queue.
func TestResyncRebuildsCall(t *testing.T) {
	const midcall = "-- extensions.conf --\n[astcti-mid]\nexten => 100,1,Answer()\n same => n,Set(calldata=777)\n" +
		" same => n,Dial(SIP/201,30)\n same => n,Hangup()\n" +
		"-- phones --\nSIP/201 answers at once\n" +
		"-- calls --\nat 0s from \"Mid\" <4242> to 100@astcti-mid\n"
	const queued = "-- phones --\nSIP/201 answers at once\n" +
		"-- calls --\nat 0s from \"Queued\" <4343> to 102@from-trunk\n"
	tests := []struct {
		name    string
		dialect fakeami.Dialect
		play    string
		member  bool // SIP/201 is a member of astcti-queue when the call comes
		want    string
	}{
		{name: "dial/modern", dialect: fakeami.DialectModern, play: midcall,
			want: `^<event id="Link">.*<calleridnum>4242</calleridnum>.*<service>mid</service>.*<data key="calldata">777</data>`},
		{name: "dial/1.4", dialect: fakeami.Dialect14, play: midcall,
			want: `^<event id="Link">.*<calleridnum>4242</calleridnum>.*<service>mid</service>.*<data key="calldata">777</data>`},
		{name: "queue/modern", dialect: fakeami.DialectModern, play: queued, member: true,
			want: `^<event id="Link">.*<calleridnum>4343</calleridnum>.*<service>support</service>.*<data key="customer_id">98765</data>`},
		{name: "queue/1.4", dialect: fakeami.Dialect14, play: queued, member: true,
			want: `^<event id="Link">.*<calleridnum>4343</calleridnum>.*<service>support</service>.*<data key="customer_id">98765</data>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: tt.dialect, Scenario: scenarios.Demo(), Seed: 1})
			if tt.member {
				// Left by a server that died without removing it.
				pbx.PBX.Do(nil, ami.NewAction("QueueAdd", "Queue", "astcti-queue", "Interface", "SIP/201"))
				pbx.WaitMembers("astcti-queue", "SIP/201")
			}
			sc, err := scenarios.ParseFragment("midcall.txtar", []byte(tt.play))
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
			alice.Expect(tt.want)
			for _, l := range alice.Sync() {
				require.NotContains(t, l, `id="Link"`, "a second Link")
			}
		})
	}
}
