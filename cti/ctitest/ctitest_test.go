package ctitest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// TestQueueCall is the package's example at work: the demo PBX, the demo
// configuration, alice at her seat, one queue call that she answers.
func TestQueueCall(t *testing.T) {
	pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.DialectModern, Scenario: scenarios.Demo(), Seed: 1})
	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config()})
	alice := srv.Dial()
	alice.Login("alice", "alice", "") // her fixed seat: SIP/201
	alice.Expect(`^200 astcti-queue$`)
	pbx.WaitMembers("astcti-queue", "SIP/201")

	sc, err := scenarios.ParseFragment("call.txtar", []byte("-- calls --\nat 0s from \"Demo 1\" <200> to 102@from-trunk\n"))
	require.NoError(t, err)
	require.NoError(t, pbx.PBX.Play(sc))
	alice.Expect(`^<event id="CallerId">`)
	m := alice.Expect(`^<event id="Link">.*<parameters>(.*)</parameters>`)
	assert.Equal(t, "--customer 98765 --caller 200", m[1])

	evs := alice.Events()
	require.Len(t, evs, 2)
	assert.Equal(t, seatproto.EventCallerID, evs[0].ID)
	assert.Equal(t, "support", evs[1].Call.Service)
	assert.Equal(t, []seatproto.Data{{Key: "customer_id", Value: "98765"}}, evs[1].Call.AppData)
	assert.Empty(t, alice.Sync(), "lines between the Link and the NOOP's answer")

	alice.Quit()
	pbx.WaitMembers("astcti-queue")
	require.NoError(t, srv.Stop())
}

// TestExpectReportsTranscript: a line that does not come is reported with
// what did.
func TestExpectReportsTranscript(t *testing.T) {
	pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.Dialect14, Scenario: scenarios.Demo(), Seed: 1})
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	st := srv.Dial()
	_, err := st.ExpectWithin(50*time.Millisecond, `^nothing like this$`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "100 WELCOME")
	st.Send("NOOP")
	m, err := st.ExpectWithin(ctitest.Wait, `^100 (OK)$`)
	require.NoError(t, err)
	assert.Equal(t, []string{"100 OK", "OK"}, m)
	st.Close()
	st.Close() // idempotent
}

func TestPoll(t *testing.T) {
	n := 0
	assert.NoError(t, ctitest.Poll(time.Second, func() error {
		n++
		return ctitest.Check(n == 3, "n = %d", n)
	}))
	err := ctitest.Poll(20*time.Millisecond, func() error { return errors.New("never") })
	assert.EqualError(t, err, "never")
}

func TestLogs(t *testing.T) {
	logs := ctitest.NewLogs(t)
	log := logs.Logger().With("part", "x").WithGroup("g")
	log.Info("link up", "n", 1)
	log.Debug("link up again")
	log.Warn("something else")
	assert.Equal(t, 2, logs.Count("link up"))
	assert.Equal(t, 0, logs.Count("nothing"))
	assert.True(t, strings.Contains("ami: connection attempt failed", "attempt"))
}
