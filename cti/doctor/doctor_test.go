package doctor

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// The users of the tests: the full-rights one, and the limited ones of
// the test PBXes (testdata/realpbx/*/manager.conf).
var (
	limited22 = fakeami.User{Name: "lim", Secret: "x", Read: []string{"system,call,agent,user"}, Write: []string{"system,call,agent,user,command"}}
	limited14 = fakeami.User{Name: "lim", Secret: "x", Read: []string{"system,agent,user"}, Write: []string{"system,call,agent,user,command"}}
	// noCommand follows docs/asterisk.md: no Command.
	noCommand22 = fakeami.User{Name: "lim", Secret: "x", Read: []string{"system,call,agent,user,dialplan"}, Write: []string{"agent,originate,reporting"}}
	noCommand14 = fakeami.User{Name: "lim", Secret: "x", Read: []string{"system,call,agent,user"}, Write: []string{"agent,call"}}
)

// fakePBX runs a fake Asterisk of the dialect on 127.0.0.1: the demo PBX
// with user astcti (secret s3cret, every class) and the given users.
type fakePBX struct {
	addr string
	pbx  *fakeami.PBX
}

func startFake(t *testing.T, d fakeami.Dialect, users ...fakeami.User) *fakePBX {
	t.Helper()
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: d, Scenario: scenarios.Demo(), Seed: 1})
	require.NoError(t, err)
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: d, Username: "astcti", Secret: "s3cret", Users: users, Engine: pbx, StartTime: pbx.StartTime})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := fakeami.Start(pbx, srv, ln)
	t.Cleanup(r.Close)
	return &fakePBX{addr: r.Addr, pbx: pbx}
}

// run runs the doctor as user (astcti when ""), against the demo
// configuration changed by edit.
func (p *fakePBX) run(t *testing.T, user string, edit func(m *config.Model), opts ...func(*Options)) results {
	t.Helper()
	m := config.Demo()
	if edit != nil {
		edit(m)
	}
	o := Options{AMI: ami.Config{Addr: p.addr, Username: "astcti", Secret: "s3cret", FullyBootedWait: 50 * time.Millisecond}, Model: m}
	if user != "" {
		o.AMI.Username, o.AMI.Secret = user, "x"
	}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rs := Run(ctx, o)
	for _, r := range rs {
		t.Log(r)
	}
	return results(rs)
}

type results []Result

// get returns the result of the name; the test fails without one.
func (rs results) get(t *testing.T, name string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result %q", name)
	return Result{}
}

func (rs results) fails() []string {
	var out []string
	for _, r := range rs {
		if r.Status == Fail {
			out = append(out, r.Name)
		}
	}
	return out
}

func (rs results) names() []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func bothDialects(t *testing.T, f func(t *testing.T, d fakeami.Dialect)) {
	for _, d := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

// TestGoodSetup: the demo PBX with the demo configuration passes, every
// line in its stable order.
func TestGoodSetup(t *testing.T) {
	bothDialects(t, func(t *testing.T, d fakeami.Dialect) {
		rs := startFake(t, d).run(t, "", nil)
		assert.Empty(t, rs.fails())
		want := []string{"config", "connect", "version", "write QueueAdd", "write QueueRemove", "write QueuePause",
			"write Originate", "write Getvar"}
		if d == fakeami.Dialect14 {
			want = append(want, "write Status")
		} else {
			want = append(want, "write CoreShowChannels", "write CoreStatus")
		}
		want = append(want, "write Command", "read system", "read call", "read agent", "read dialplan", "read user",
			"eventfilter", "writetimeout", "clock",
			"service outbound context", "service sales context", "service sales variable calldata",
			"service support context", "service support queue", "service support variable customer_id", "seats")
		assert.Equal(t, want, rs.names())
		for _, r := range rs {
			if r.Name == "eventfilter" && d == fakeami.DialectModern {
				assert.Equal(t, Warn, r.Status, "eventfilter lines cannot be read over AMI")
				continue
			}
			assert.Equal(t, OK, r.Status, "%s", r)
		}
		if d == fakeami.Dialect14 {
			assert.Contains(t, rs.get(t, "version").Detail, "Asterisk 1.4.44 (core show version), manager 1.0")
			assert.Contains(t, rs.get(t, "service sales context").Detail, "astcti-service exists (dialplan show): 3 extensions (101, 103, 106)")
		} else {
			assert.Contains(t, rs.get(t, "version").Detail, "Asterisk 22.10.1 (CoreSettings), manager 11.0.0")
			assert.Contains(t, rs.get(t, "service sales context").Detail, "astcti-service exists (ShowDialPlan): 3 extensions (101, 103, 106)")
		}
		assert.Contains(t, rs.get(t, "service support variable customer_id").Detail, "set by Set(customer_id=98765) at 102,2 in astcti-queue-service")
		assert.Contains(t, rs.get(t, "write QueueAdd").Detail, `"Unable to add interface to queue: No such queue"`)
		assert.Contains(t, rs.get(t, "seats").Detail, "2 of 2 seat interfaces")
	})
}

// TestLimitedUser: the users astcti-limited of the test PBXes are found
// lacking, each as it is.
func TestLimitedUser(t *testing.T) {
	t.Run("modern", func(t *testing.T) {
		rs := startFake(t, fakeami.DialectModern, limited22).run(t, "lim", nil)
		assert.Equal(t, []string{"write Originate", "read dialplan"}, rs.fails())
		assert.Contains(t, rs.get(t, "read dialplan").Detail, "not granted (manager show user lim: read system,call,agent,user)")
		assert.Contains(t, rs.get(t, "read dialplan").Fix, "add dialplan to the read= line of [lim]")
		assert.Contains(t, rs.get(t, "write Originate").Detail, "Permission denied")
		// Without ShowDialPlan (reporting, config), the dialplan is read
		// with `dialplan show`.
		assert.Contains(t, rs.get(t, "service sales context").Detail, "(dialplan show)")
	})
	t.Run("1.4", func(t *testing.T) {
		rs := startFake(t, fakeami.Dialect14, limited14).run(t, "lim", nil)
		assert.Equal(t, []string{"read call"}, rs.fails())
		assert.Contains(t, rs.get(t, "read call").Detail, "not granted (manager show user lim: read system,agent,user)")
	})
}

// TestNoCommand: a user as docs/asterisk.md has it may not run Command;
// what the doctor could not check is a WARN that says why.
func TestNoCommand(t *testing.T) {
	t.Run("modern", func(t *testing.T) {
		rs := startFake(t, fakeami.DialectModern, noCommand22).run(t, "lim", nil)
		assert.Empty(t, rs.fails())
		for _, c := range []string{"read call", "read agent", "read dialplan"} {
			r := rs.get(t, c)
			assert.Equal(t, Warn, r.Status, "%s", r)
			assert.Contains(t, r.Detail, "not checked: the user may not run Command (Permission denied)")
			assert.Contains(t, r.Fix, "--watch")
		}
		assert.Equal(t, OK, rs.get(t, "read system").Status, "FullyBooted came")
		assert.Contains(t, rs.get(t, "read system").Detail, "FullyBooted came at login")
		assert.Equal(t, Warn, rs.get(t, "read user").Status, "no UserEvent without write=user")
		assert.Contains(t, rs.get(t, "service sales context").Detail, "(ShowDialPlan)")
		assert.Equal(t, OK, rs.get(t, "write Command").Status)
	})
	t.Run("1.4", func(t *testing.T) {
		rs := startFake(t, fakeami.Dialect14, noCommand14).run(t, "lim", nil)
		assert.Empty(t, rs.fails())
		r := rs.get(t, "service sales context")
		assert.Equal(t, Warn, r.Status)
		assert.Contains(t, r.Detail, "astcti-service not checked: Command (for dialplan show): Permission denied")
		assert.Contains(t, rs.get(t, "version").Detail, "version not told")
		assert.Equal(t, Warn, rs.get(t, "service sales variable calldata").Status)
		assert.Equal(t, Warn, rs.get(t, "read call").Status)
	})
}

func TestMissingContextAndVariable(t *testing.T) {
	bothDialects(t, func(t *testing.T, d fakeami.Dialect) {
		rs := startFake(t, d).run(t, "", func(m *config.Model) {
			for i := range m.Services {
				switch m.Services[i].Name {
				case "sales":
					m.Services[i].Context = "astcti-nosuch"
				case "support":
					m.Services[i].Variables = append(m.Services[i].Variables, "ticket")
					m.Services[i].Queue = "nosuch-queue"
				}
			}
		})
		assert.Equal(t, []string{"service sales context", "service support queue"}, rs.fails())
		assert.Contains(t, rs.get(t, "service sales context").Detail, "astcti-nosuch does not exist in the dialplan")
		assert.NotContains(t, rs.names(), "service sales variable calldata", "no variable lines for a missing context")
		r := rs.get(t, "service support variable ticket")
		assert.Equal(t, Warn, r.Status)
		assert.Contains(t, r.Detail, "nothing in astcti-queue-service sets ticket")
		assert.Contains(t, r.Fix, "Set(ticket=…)")
	})
}

// TestVariablesThroughJumps: a variable set in a context the service's
// jumps to counts; 1.4 warns about Read alone.
func TestVariablesThroughJumps(t *testing.T) {
	bothDialects(t, func(t *testing.T, d fakeami.Dialect) {
		rs := startFake(t, d).run(t, "", func(m *config.Model) {
			m.Services = append(m.Services, config.Service{Name: "ue", Type: config.Inbound, Context: "astcti-queue-service-ue",
				Trigger: config.TriggerNone, Enabled: true, Variables: []string{"customer_id", "ordernum", "order"}})
		})
		assert.Equal(t, OK, rs.get(t, "service ue variable order").Status)
		r := rs.get(t, "service ue variable ordernum")
		if d == fakeami.Dialect14 {
			assert.Equal(t, Warn, r.Status)
			assert.Contains(t, r.Detail, "Asterisk 1.4 sends no event when Read sets a variable")
		} else {
			assert.Equal(t, OK, r.Status, "%s", r)
		}
	})
}

func TestSeats(t *testing.T) {
	rs := startFake(t, fakeami.DialectModern).run(t, "", func(m *config.Model) {
		m.Seats = append(m.Seats,
			config.Seat{MAC: "00:11:22:33:44:03", Interface: "Local/208@astcti-internal/n"},
			config.Seat{MAC: "00:11:22:33:44:04", Interface: "Local/299@astcti-internal/n"},
			config.Seat{MAC: "00:11:22:33:44:05", Interface: "SIP 205"})
	})
	assert.Equal(t, []string{"seat 00:11:22:33:44:05"}, rs.fails())
	assert.Equal(t, Warn, rs.get(t, "seat 00:11:22:33:44:04").Status)
	assert.Contains(t, rs.get(t, "seat 00:11:22:33:44:04").Detail, "299@astcti-internal is not in the dialplan")
	assert.Contains(t, rs.get(t, "seats").Detail, "4 of 5 seat interfaces are forms queues accept; 1 of the 2 Local ones name an extension that exists")
}

// TestManagerConf: with manager.conf, the writetimeout and eventfilter
// lines are checked; the fake enforces the same lines, and the watch sees
// what they drop.
func TestManagerConf(t *testing.T) {
	filters := []string{
		`^Event: (Newchannel|Newstate|Newexten|VarSet|Hangup|DialBegin|DialEnd|BridgeEnter|BridgeLeave)[[:space:]]`,
		`!^Event: VarSet[[:space:]].*Variable: calldata[[:space:]]`,
	}
	conf := "[general]\nenabled = yes\n\n[lim]\nsecret = x\nread = all\nwrite = all\nwritetimeout = 50\n"
	for _, f := range filters {
		conf += "eventfilter = " + f + "\n"
	}
	path := filepath.Join(t.TempDir(), "manager.conf")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	user := fakeami.User{Name: "lim", Secret: "x", Read: []string{"all"}, Write: []string{"all"}, EventFilters: filters}
	p := startFake(t, fakeami.DialectModern, user)
	rs := p.run(t, "lim", nil, func(o *Options) { o.ManagerConf = path })
	r := rs.get(t, "eventfilter")
	assert.Equal(t, Fail, r.Status)
	assert.Contains(t, r.Detail, "the 2 eventfilter lines of [lim] ("+path+") drop VarSet calldata, QueueCallerJoin astcti-queue")
	assert.Equal(t, Warn, rs.get(t, "writetimeout").Status)
	assert.Contains(t, rs.get(t, "writetimeout").Detail, "writetimeout = 50")

	rs = p.run(t, "", nil, func(o *Options) { o.ManagerConf = path })
	assert.Contains(t, rs.get(t, "eventfilter").Detail, "has no [astcti] section")
}

// TestWatch: a call into a service during the watch, seen whole by the
// full user; the limited user of 22 gets no Newexten nor VarSet.
func TestWatch(t *testing.T) {
	call := []byte(`A short call into sales.
-- phones --
SIP/201 answers after 100ms talks 200ms
SIP/202 never answers
-- calls --
at 300ms from "W" <555> to 101@from-trunk
`)
	tests := []struct {
		name    string
		dialect fakeami.Dialect
		user    *fakeami.User
		status  Status
		detail  string
	}{
		{"modern", fakeami.DialectModern, nil, OK, "brought every event astcti needs: Newchannel, Newexten, Hangup, VarSet, DialBegin, BridgeEnter"},
		{"1.4", fakeami.Dialect14, nil, OK, "brought every event astcti needs: Newchannel, Newexten, Hangup, Dial, Link"},
		{"modern limited", fakeami.DialectModern, &limited22, Fail, "came without Newexten, VarSet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var users []fakeami.User
			name := ""
			if tc.user != nil {
				users, name = []fakeami.User{*tc.user}, tc.user.Name
			}
			p := startFake(t, tc.dialect, users...)
			sc, err := scenarios.ParseFragment("call.txtar", call)
			require.NoError(t, err)
			// The call starts 300 ms after this, while the doctor logs in
			// and checks: it sees every event from its login on.
			require.NoError(t, p.pbx.Play(sc))
			rs := p.run(t, name, nil, func(o *Options) { o.Watch = 10 * time.Second })
			r := rs.get(t, "watch")
			assert.Equal(t, tc.status, r.Status, "%s", r)
			assert.Contains(t, r.Detail, tc.detail)
			assert.Contains(t, r.Detail, "a call into service sales (SIP/trunk-")
			want := OK
			if tc.status == Fail {
				want = Warn
			}
			assert.Equal(t, want, rs.get(t, "watch sales variable calldata").Status)
			assert.Equal(t, OK, rs.get(t, "eventfilter").Status, "with --watch, the watch tells")
		})
	}
}

func TestWatchNoCall(t *testing.T) {
	rs := startFake(t, fakeami.DialectModern).run(t, "", nil, func(o *Options) { o.Watch = 200 * time.Millisecond })
	r := rs.get(t, "watch")
	assert.Equal(t, Warn, r.Status)
	assert.Contains(t, r.Detail, "no event of any call came in 200ms")
	assert.Contains(t, r.Fix, "contexts astcti-service, astcti-queue-service")
}

// TestWatchCutShort: a watch that ctx ends (a signal, --timeout) says
// how long it watched and that it was cut short, not that no call came
// in the whole of Options.Watch.
func TestWatchCutShort(t *testing.T) {
	p := startFake(t, fakeami.DialectModern)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := Options{AMI: ami.Config{Addr: p.addr, Username: "astcti", Secret: "s3cret", FullyBootedWait: 50 * time.Millisecond},
		Model: config.Demo(), Watch: 10 * time.Minute}
	var rs results
	Stream(ctx, o, func(r Result) {
		rs = append(rs, r)
		if r.Name == "seats" { // the last check: the watch comes next
			cancel()
		}
	})
	r := rs.get(t, "watch")
	assert.Equal(t, Warn, r.Status, "%s", r)
	assert.Regexp(t, `^no event of any call came in the \d+(\.\d+)?m?s before the watch was cut short \(--watch 10m0s\): `, r.Detail)
}

func TestConnectFails(t *testing.T) {
	defer func(d time.Duration) { retryPause = d }(retryPause)
	retryPause = 10 * time.Millisecond
	p := startFake(t, fakeami.DialectModern)
	rs := p.run(t, "nobody", nil)
	assert.Equal(t, []string{"config", "connect"}, rs.names(), "nothing after a failed login")
	assert.Equal(t, Fail, rs.get(t, "connect").Status)
	assert.Contains(t, rs.get(t, "connect").Detail, "refused the login as nobody")
	assert.NotContains(t, rs.get(t, "connect").String(), "s3cret")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	rs = results(Run(context.Background(), Options{AMI: ami.Config{Addr: addr, Username: "astcti", Secret: "s3cret"}, Model: config.Demo()}))
	assert.Contains(t, rs.get(t, "connect").Detail, "cannot log in to "+addr)
	assert.Contains(t, rs.get(t, "connect").Fix, "enabled = yes")
}

func TestConfigDir(t *testing.T) {
	p := startFake(t, fakeami.Dialect14)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rs := results(Run(ctx, Options{AMI: ami.Config{Addr: p.addr, Username: "astcti", Secret: "s3cret"}, ConfigDir: t.TempDir()}))
	assert.Equal(t, Fail, rs.get(t, "config").Status)
	assert.Contains(t, rs.get(t, "config").Fix, "the PBX is checked without the services and seats")
	assert.Equal(t, OK, rs.get(t, "read call").Status, "the PBX is checked all the same")
	for _, r := range rs {
		assert.False(t, strings.HasPrefix(r.Name, "service "), "%s", r)
	}
}

func TestResultLines(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{Result{Name: "clock", Status: OK, Detail: "fine", Fix: "ignored"}, "OK   clock: fine"},
		{Result{Name: "read call", Status: Warn, Detail: "not checked", Fix: "do this"}, "WARN read call: not checked: do this"},
		{Result{Name: "x", Status: Fail, Detail: "a\r\nb"}, "FAIL x: a  b"},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("Result.String() = %q, want %q", got, tc.want)
		}
	}
	s := Summarize([]Result{{Status: OK}, {Status: OK}, {Status: Warn}, {Status: Fail}})
	assert.Equal(t, "doctor: 2 OK, 1 WARN, 1 FAIL", s.String())
	assert.Equal(t, "Status(7)", Status(7).String())
}
