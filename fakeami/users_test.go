package fakeami

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

func TestClassMasks(t *testing.T) {
	tests := []struct {
		dialect Dialect
		list    []string
		want    string
	}{
		{DialectModern, []string{"system,call,agent,user"}, "system,call,agent,user"},
		{DialectModern, []string{"user", "Call", "nosuch"}, "call,user"},
		{DialectModern, []string{"all"}, "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,security,message,all"},
		{DialectModern, nil, "<none>"},
		{Dialect14, []string{"system,call,dialplan,originate"}, "system,call"},
		{Dialect14, []string{"all"}, "system,call,log,verbose,command,agent,user,config,all"},
	}
	for _, tc := range tests {
		if got := maskOf(tc.dialect, tc.list).names(tc.dialect); got != tc.want {
			t.Errorf("maskOf(%v, %q).names() = %q, want %q", tc.dialect, tc.list, got, tc.want)
		}
	}
	assert.Equal(t, maskOf(DialectModern, []string{"call"}), categoryOf(DialectModern, "call,all"), "Privilege call,all is call")
	assert.Equal(t, maskOf(DialectModern, []string{"user"}), eventsMask(DialectModern, "user"))
	assert.Equal(t, classMask(0), eventsMask(DialectModern, "off"))
	assert.Equal(t, classMask(64), eventsMask(DialectModern, "64"), "a number is the mask (64: user)")
}

func TestPermissions(t *testing.T) {
	limited22 := User{Name: "lim", Secret: "x", Read: []string{"system,call,agent,user"}, Write: []string{"system,call,agent,user,command"}}
	limited14 := User{Name: "lim", Secret: "x", Read: []string{"system,agent,user"}, Write: []string{"system,call,agent,user,command"}}
	noCommand := User{Name: "lim", Secret: "x", Read: []string{"all"}, Write: []string{"agent,originate,reporting"}}
	tests := []struct {
		name    string
		dialect Dialect
		user    User
		action  []string
		want    string // the Message, "" for a Success
	}{
		{"22 originate needs originate", DialectModern, limited22, []string{"Originate"}, "Permission denied"},
		{"22 showdialplan needs config or reporting", DialectModern, limited22, []string{"ShowDialPlan", "Context", "phones"}, "Permission denied"},
		{"22 getvar with call", DialectModern, limited22, []string{"Getvar", "Variable", "EPOCH"}, ""},
		{"22 status with system", DialectModern, limited22, []string{"Status", "Channel", "SIP/none-00000001"}, "No such channel"},
		{"22 queueadd with agent", DialectModern, limited22, []string{"QueueAdd", "Queue", "nosuch", "Interface", "SIP/201"}, "Unable to add interface to queue: No such queue"},
		{"22 queuestatus needs nothing", DialectModern, noCommand, []string{"QueueStatus", "Queue", "nosuch"}, "Queue status will follow"},
		{"22 command refused", DialectModern, noCommand, []string{"Command", "Command", "manager show user lim"}, "Permission denied"},
		{"22 unknown stays unknown", DialectModern, noCommand, []string{"NoSuchAction"}, "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands."},
		{"14 originate with call", Dialect14, limited14, []string{"Originate"}, "Channel not specified"},
		{"14 getvar needs call", Dialect14, noCommand, []string{"Getvar", "Variable", "EPOCH"}, "Permission denied"},
		{"14 has no showdialplan", Dialect14, noCommand, []string{"ShowDialPlan"}, "Invalid/unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbx, err := NewPBX(Options{Dialect: tc.dialect, Scenario: scenarios.Demo()})
			require.NoError(t, err)
			_, addr := startServer(t, Config{Dialect: tc.dialect, Users: []User{tc.user}, Engine: pbx})
			c := dialAMI(t, addr)
			c.send(ami.NewAction("Login", "ActionID", "l", "Username", "lim", "Secret", "x", "Events", "off"))
			require.Equal(t, "Success", c.expect().Response())
			c.send(ami.NewAction(tc.action[0], append([]string{"ActionID", "a"}, tc.action[1:]...)...))
			r := c.expect()
			assert.Equal(t, "a", r.ActionID())
			assert.Equal(t, tc.want, r.Get("Message"), "%s", r)
		})
	}
}

// TestReadClasses: the events a user may not read never reach it, and an
// event filter (modern only) chooses among the rest; the answers to the
// session's own actions always come.
func TestReadClasses(t *testing.T) {
	call := `A call that enters a service.
-- calls --
at 0s from "C" <555> to 101@from-trunk
`
	tests := []struct {
		name    string
		dialect Dialect
		user    User
		want    []string // events that must come
		never   []string // events that must not
	}{
		{"22 without dialplan", DialectModern, User{Read: []string{"system,call,agent,user"}},
			[]string{"FullyBooted", "Newchannel", "DialBegin", "Hangup"}, []string{"Newexten", "VarSet", "SuccessfulAuth"}},
		{"22 without system", DialectModern, User{Read: []string{"call,dialplan"}},
			[]string{"Newchannel", "Newexten", "VarSet"}, []string{"FullyBooted"}},
		{"14 without call", Dialect14, User{Read: []string{"system,agent,user"}},
			nil, []string{"Newchannel", "Newexten", "Dial", "Hangup"}},
		{"22 white filter", DialectModern, User{Read: []string{"all"}, EventFilters: []string{`^Event: (Newchannel|Hangup)[[:space:]]`}},
			[]string{"Newchannel", "Hangup", "FullyBooted"}, []string{"Newexten", "VarSet", "Newstate"}},
		{"22 black filter", DialectModern, User{Read: []string{"all"}, EventFilters: []string{`!^Event: VarSet[[:space:]].*Variable: calldata`}},
			[]string{"Newchannel", "Newexten", "Hangup"}, []string{"VarSet calldata"}},
		{"14 ignores filters", Dialect14, User{Read: []string{"all"}, EventFilters: []string{`^Event: Hangup`}},
			[]string{"Newchannel", "Newexten", "Hangup"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.user.Name, tc.user.Secret = "lim", "x"
			tc.user.Write = []string{"all"}
			pbx, err := NewPBX(Options{Dialect: tc.dialect, Scenario: scenarios.Demo(), Clock: NewManualClock(testEpoch)})
			require.NoError(t, err)
			_, addr := startServer(t, Config{Dialect: tc.dialect, Users: []User{tc.user}, Engine: pbx})
			c := dialAMI(t, addr)
			c.send(ami.NewAction("Login", "ActionID", "l", "Username", "lim", "Secret", "x"))
			require.Equal(t, "Success", c.expect().Response())
			// The session attaches to the PBX after the login's answer:
			// a Ping round trip waits for it.
			c.send(ami.NewAction("Ping", "ActionID", "attached"))
			seen := map[string]bool{}
			for f := c.expect(); f.ActionID() != "attached"; f = c.expect() {
				seen[f.Event()] = true
			}
			sc, err := scenarios.ParseFragment("call.txtar", []byte(call))
			require.NoError(t, err)
			require.NoError(t, pbx.Play(sc))
			pbx.mu.Lock()
			pbx.startLocked()
			pbx.mu.Unlock()
			t.Cleanup(func() { pbx.mu.Lock(); pbx.stopLocked(); pbx.mu.Unlock() })
			pbx.clock.(*ManualClock).Advance(time.Minute)
			// A Ping round trip: every event of the call was queued before
			// its answer.
			c.send(ami.NewAction("Ping", "ActionID", "barrier"))
			for {
				f := c.expect()
				if f.ActionID() == "barrier" {
					break
				}
				seen[f.Event()] = true
				if f.Event() == "VarSet" {
					seen["VarSet "+f.Get("Variable")] = true
				}
			}
			for _, e := range tc.want {
				assert.True(t, seen[e], "%s must come (got %v)", e, seen)
			}
			for _, e := range tc.never {
				assert.False(t, seen[e], "%s must not come", e)
			}
		})
	}
}

// TestManagerShowUser: the fake's `manager show user` prints its users as
// each version does (the recorded ones: TestDoctorRecordings).
func TestManagerShowUser(t *testing.T) {
	users := []User{{Name: "lim", Secret: "x", Read: []string{"system,call"}, Write: nil}}
	s := &Server{cfg: Config{Username: "astcti", Secret: "s", Users: users}}
	assert.Equal(t, []string{
		"",
		"       username: lim",
		"         secret: <Set>",
		"           deny: (N/A)",
		"         permit: (N/A)",
		"           read: system,call",
		"          write: (N/A)",
		"displayconnects: no",
	}, showManagerUser(s, Dialect14, "lim"))
	assert.Contains(t, showManagerUser(s, DialectModern, "lim"), "        write perm: <none>")
	assert.Contains(t, showManagerUser(s, DialectModern, "astcti"), "         read perm: system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,security,message,all")
	assert.Equal(t, []string{"There is no manager called bob"}, showManagerUser(s, DialectModern, "bob"))
}
