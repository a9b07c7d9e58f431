package sim

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
)

func TestEventLine(t *testing.T) {
	call := seatproto.Call{
		UniqueID: "1.1", CallerIDNum: "7123", Service: "support",
		AppData: []seatproto.Data{{Key: "customer_id", Value: "98765"}},
	}
	tests := []struct {
		name string
		ev   seatproto.Event
		want string
	}{
		{"ringing", seatproto.Event{ID: "CallerId", Call: call}, "CallerId caller=7123 service=support"},
		{
			"screen pop, application",
			seatproto.Event{ID: "Link", Call: call, Action: &seatproto.Action{Type: "application", Application: "crm-lookup", Parameters: "--customer 98765"}},
			`Link caller=7123 service=support customer_id=98765 app="crm-lookup --customer 98765"`,
		},
		{
			"screen pop, browser",
			seatproto.Event{ID: "Link", Call: seatproto.Call{CallerIDNum: "7001", Service: "sales", AppData: []seatproto.Data{{Key: "calldata", Value: ""}}},
				Action: &seatproto.Action{Type: "browser", Application: "http://crm.example/?caller=7001&data="}},
			`Link caller=7001 service=sales calldata="" url=http://crm.example/?caller=7001&data=`,
		},
		{"hangup", seatproto.Event{ID: "Hangup", Call: call}, "Hangup caller=7123 service=support"},
		{"odd caller", seatproto.Event{ID: "CallerId", Call: seatproto.Call{CallerIDNum: "70 01\x1b[2J"}}, `CallerId caller="70 01\x1b[2J"`},
		{
			"originate",
			seatproto.Event{ID: "OriginateResponse", Originate: &seatproto.Originate{Response: "Success", Reason: "4"}},
			"OriginateResponse response=Success reason=4",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := eventLine(&tc.ev)
			assert.Equal(t, tc.want, got, "eventLine(%+v)", tc.ev)
		})
	}
}

// testState is a PBX in the middle of the day: alice talks to 7123, 7456
// waits in the queue, 7789 rings on the sales service, carol is logged in.
func testState() fakeami.State {
	return fakeami.State{
		Channels: []fakeami.ChannelSnapshot{
			{Name: "SIP/trunk-00000001", Uniqueid: "1.1", CallerIDNum: "7123", Context: "astcti-queue-service", Exten: "102", State: "Up", BridgedWith: "SIP/201-00000002"},
			{Name: "SIP/201-00000002", Uniqueid: "1.2", State: "Up", BridgedWith: "SIP/trunk-00000001"},
			{Name: "SIP/trunk-00000003", Uniqueid: "1.3", CallerIDNum: "7456", Context: "astcti-queue-service", Exten: "102", State: "Up", Application: "Queue"},
			{Name: "SIP/trunk-00000004", Uniqueid: "1.4", CallerIDNum: "7789", Context: "astcti-service", Exten: "101", State: "Up", Application: "Dial"},
			{Name: "SIP/203-00000005", Uniqueid: "1.5", State: "Ringing"},
		},
		Queues: []fakeami.QueueSnapshot{
			{Name: "astcti-queue", Strategy: "leastrecent", Waiting: []string{"SIP/trunk-00000003"}, Completed: 4, Abandoned: 1,
				Members: []fakeami.MemberSnapshot{
					{Interface: "SIP/201", InCall: true, Status: 2, Calls: 3},
					{Interface: "SIP/202", Paused: true, Reason: "lunch", Status: 1, Calls: 1},
					{Interface: "SIP/203", Status: 6},
				}},
			{Name: "astcti-queue-2", Strategy: "ringall"},
		},
	}
}

func testView(out *bytes.Buffer, live bool) *view {
	info := Info{
		Dialect: "modern", Rate: "12/min", Seed: 42, AMI: "127.0.0.1:5038", AMIUser: "astcti", AMISecret: "astcti",
		Seats: "127.0.0.1:5039", Control: "http://127.0.0.1:5080", DataDir: "/tmp/astcti-sim-1",
		Admin:        "http://127.0.0.1:40001",
		Configurator: &ConfiguratorInfo{URL: "http://127.0.0.1:8080/", User: "admin", Password: "abcd-efgh-jkmn-pqrs"},
		Free:         FreeOperator, Simulated: Operators(2), Client: "bin/astcti", CRM: "http://127.0.0.1:40002/",
		Notes: []string{"127.0.0.1:5039 is taken by an astcti server's seat listener: the CTI server's seat listener is on a free port instead"},
	}
	services := map[string]string{"astcti-service": "sales", "astcti-queue-service": "support"}
	v := newView(out, live, testState, info, services)
	v.termSize = func() (int, int) { return 100, 40 }
	return v
}

// TestViewPlain feeds a seat's reports and the PBX's state to the plain
// view and checks its lines.
func TestViewPlain(t *testing.T) {
	var out bytes.Buffer
	v := testView(&out, false)
	at := time.Date(2026, 1, 2, 10, 0, 1, 0, time.UTC)
	link := &seatproto.Event{ID: "Link", Call: seatproto.Call{UniqueID: "1.1", CallerIDNum: "7123", Service: "support",
		AppData: []seatproto.Data{{Key: "customer_id", Value: "98765"}}}}
	v.apply(report{at: at, seat: 0, kind: kindLoggedIn})
	v.apply(report{at: at, seat: 0, kind: kindQueue, text: "astcti-queue"})
	v.apply(report{at: at, seat: 1, kind: kindPaused, text: "lunch"})
	v.apply(report{at: at, seat: 0, kind: kindEvent, ev: link})
	v.poll(at)
	v.state = func() fakeami.State { return fakeami.State{} }
	v.poll(at.Add(12 * time.Second))
	v.apply(report{at: at, seat: 0, kind: kindDisconnected, text: "disconnected (EOF), connecting again"})
	want := `10:00:01 alice logged in
10:00:01 alice joined queue astcti-queue
10:00:01 bob paused (lunch)
10:00:01 alice Link caller=7123 service=support customer_id=98765
10:00:01 call 7123 in: support (102)
10:00:01 call 7456 in: support (102)
10:00:01 call 7789 in: sales (101)
10:00:13 call 7123 ended after 12s: talked to alice
10:00:13 call 7456 ended after 12s: not answered
10:00:13 call 7789 ended after 12s: not answered
10:00:01 alice disconnected (EOF), connecting again
`
	assert.Equal(t, want, out.String())
	assert.Equal(t, 1, v.nPops)
	assert.Equal(t, 3, v.nCalls)
	assert.Contains(t, v.summary(at.Add(time.Minute)), "3 calls, 1 screen pops (alice 1, bob 0)")
}

// TestFrame lays the live screen out and checks what it shows, and that it
// fits terminals large and small.
func TestFrame(t *testing.T) {
	var out bytes.Buffer
	v := testView(&out, true)
	now := time.Now()
	v.start = now.Add(-75 * time.Second)
	v.apply(report{at: now, seat: 0, kind: kindLoggedIn})
	v.apply(report{at: now, seat: 1, kind: kindLoggedIn})
	v.apply(report{at: now, seat: 1, kind: kindPaused, text: "lunch"})
	v.apply(report{at: now, seat: 0, kind: kindEvent, ev: &seatproto.Event{ID: "Link", Call: seatproto.Call{UniqueID: "1.1", CallerIDNum: "7123", Service: "support"}}})
	v.poll(now)
	assert.Empty(t, out.String()[strings.Index(out.String(), "\x1b[J")+3:], "nothing after the frame")

	var text []string
	for _, r := range v.frame(now, 100, 40) {
		text = append(text, r.text)
	}
	screen := strings.Join(text, "\n")
	for _, re := range []string{
		`(?m)^astcti-sim · up 1:15 · dialect modern · 12/min calls · seed 42 · Ctrl-C stops$`,
		`(?m)^server     seats 127\.0\.0\.1:5039 · admin http://127\.0\.0\.1:40001 · configuration /tmp/astcti-sim-1$`,
		`(?m)^configure  http://127\.0\.0\.1:8080/ \(user admin, password abcd-efgh-jkmn-pqrs\)$`,
		`(?m)^note       127\.0\.0\.1:5039 is taken by an astcti server's seat listener: the CTI server's seat$`,
		`(?m)^demo CRM   http://127\.0\.0\.1:40002/ \(the page the screen pops open\)$`,
		`(?m)^your seat  carol \(password carol\) is yours: connect your own seat client with\n  bin/astcti client --server 127\.0\.0\.1:5039 --user carol --password carol --mac 00:11:22:33:44:03$`,
		`(?m)^alice +SIP/201 +on call 7123 +1  \d\d:\d\d:\d\d 7123 support$`,
		`(?m)^bob +SIP/202 +paused \(lunch\) +0 *$`,
		`(?m)^carol \(you\) +SIP/203 +logged in, ringing$`,
		`(?m)^QUEUE astcti-queue · leastrecent · waiting 1 · completed 4 · abandoned 1$`,
		`(?m)^  SIP/202 +bob +free, paused \(lunch\) +1 calls$`,
		`(?m)^CALLS IN PROGRESS: 3 · 3 since the start$`,
		`(?m)^  7123 +support +talking to alice +0:00$`,
		`(?m)^  7456 +support +queued \(1st\)`,
		`(?m)^  7789 +sales +ringing`,
		`(?m)^  \d\d:\d\d:\d\d alice Link caller=7123 service=support$`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), screen)
	}
	assert.NotContains(t, screen, "astcti-queue-2", "a queue with nothing in it is not shown")

	// On 80 columns the command wraps as a shell command, so that it can
	// still be copied and pasted.
	var cmd []string
	for _, r := range v.frame(now, 80, 24) {
		if strings.HasPrefix(r.text, "  bin/astcti client") || len(cmd) > 0 && strings.HasPrefix(r.text, "    ") {
			cmd = append(cmd, r.text)
		}
	}
	require.Len(t, cmd, 2)
	assert.True(t, strings.HasSuffix(cmd[0], " \\"), "first part %q", cmd[0])
	joined := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(cmd, " "), "\\", "")), " ")
	assert.Equal(t, v.info.ClientCommand(), joined)

	for _, size := range [][2]int{{100, 40}, {80, 24}, {40, 10}, {10, 3}} {
		rs := v.frame(now, size[0], size[1])
		require.LessOrEqual(t, len(rs), max(size[1]-1, 1), "rows for %v", size)
		for _, r := range rs {
			assert.LessOrEqual(t, utf8.RuneCountInString(r.text), size[0]-1, "row %q for %v", r.text, size)
		}
	}
}
