package fakeami

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// TestCommandRestartNow: the CLI's restart command, given through the
// Command action, restarts the PBX as real Asterisk does: every manager
// session gets the Shutdown event and is closed without an answer to the
// Command, dynamic members are gone, and a new login is taken at once.
// The command is "core restart now" on modern Asterisk and "restart now"
// on 1.4; each dialect knows only its own.
func TestCommandRestartNow(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		pbx, err := NewPBX(Options{Dialect: d, Seed: 1, Scenario: parseScenario(t, basePBX)})
		require.NoError(t, err)
		_, addr := startServer(t, Config{Dialect: d, Engine: pbx, StartTime: pbx.StartTime})
		c := dialAMI(t, addr)
		require.Equal(t, "Success", c.login().Response())
		c.send(ami.NewAction("QueueAdd", "ActionID", "a", "Queue", "astcti-queue", "Interface", "SIP/201"))
		for f := c.expect(); f.ActionID() != "a"; f = c.expect() {
		}

		other := restartCommand[DialectModern]
		if d == DialectModern {
			other = restartCommand[Dialect14]
		}
		c.send(ami.NewAction("Command", "ActionID", "x", "Command", other))
		f := c.expect()
		for ; f.ActionID() != "x"; f = c.expect() {
		}
		assert.NotEqual(t, "Success", f.Response(), "%q is not a command of this dialect", other)

		c.send(ami.NewAction("Command", "ActionID", "r", "Command", restartCommand[d]))
		var events []string
		for {
			f, err := c.next()
			if err != nil {
				break // closed after the Shutdown
			}
			assert.NotEqual(t, "r", f.ActionID(), "no answer to the restart: %v", f)
			events = append(events, f.Event())
		}
		require.NotEmpty(t, events)
		assert.Equal(t, "Shutdown", events[len(events)-1])

		c2 := dialAMI(t, addr)
		require.Equal(t, "Success", c2.login().Response())
		c2.send(ami.NewAction("QueueStatus", "ActionID", "q", "Queue", "astcti-queue"))
		for f := c2.expect(); f.Event() != "QueueStatusComplete"; f = c2.expect() {
			assert.NotEqual(t, "QueueMember", f.Event(), "a dynamic member survived the restart")
		}
	})
}

// TestShutdownRefusesNewCalls: a call that falls due while the PBX shuts
// down (traffic that lags behind, a scheduled call) is refused, as real
// Asterisk refuses to allocate a channel during a shutdown ("Channel
// allocation failed: Refusing due to active shutdown", main/channel.c).
// It failed before: the call was placed between the hangups and the
// Shutdown event, outlived the restart in no channel list, and was
// connected to a member the restarted PBX was given, with no Newchannel
// any session after the restart had seen.
func TestShutdownRefusesNewCalls(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		// Armed before the call, so at the same instant it runs first,
		// with the call due and not yet placed.
		tp.clock.AfterFunc(time.Second, tp.Shutdown)
		require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{{
			At: time.Second, CallerNum: "1400", CallerName: "Late", Exten: "102", Context: "from-trunk",
		}}}))
		tp.advance(time.Second)
		require.Len(t, tp.rec.find("Shutdown"), 1)
		assert.Empty(t, tp.rec.find("Newchannel"), "a channel was created during the shutdown")

		tp.queueAdd(t, "astcti-queue", "SIP/201", false)
		tp.advance(10 * time.Second)
		links, _ := tp.Links(0, 10)
		assert.Empty(t, links, "a call placed during the shutdown was connected after it")
		assert.Empty(t, tp.State().Channels)
	})
}
