package fakeami

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// basePBX is a small PBX: a service without queue (101), one with a queue
// (102), a ringinuse=yes queue (110), a busy service (104), the phones of the
// recordings, and Local phones in [phones].
const basePBX = `A small PBX for unit tests.

-- extensions.conf --
[from-trunk]
exten => 101,1,Goto(astcti-service,101,1)
exten => 102,1,Goto(astcti-queue-service,102,1)
exten => 104,1,Goto(astcti-service,104,1)
exten => 110,1,Goto(astcti-queue-service,110,1)

[astcti-service]
exten => 101,1,Answer()
 same => n,Set(calldata=12345)
 same => n,Dial(SIP/201&SIP/202,30)
 same => n,Hangup()
exten => 104,1,Answer()
 same => n,Set(calldata=77777)
 same => n,Dial(SIP/209,15)
 same => n,Hangup()

[astcti-queue-service]
exten => 102,1,Answer()
 same => n,Set(customer_id=98765)
 same => n,Queue(astcti-queue,t,,,60)
 same => n,Hangup()
exten => 110,1,Answer()
 same => n,Set(customer_id=11111)
 same => n,Queue(astcti-queue-riu,t,,,60)
 same => n,Hangup()

[phones]
exten => 201,1,Ringing()
 same => n,Wait(2)
 same => n,Answer()
 same => n,Wait(5)
 same => n,Hangup()
exten => 203,1,Answer()
 same => n,Wait(3)
 same => n,Hangup()
exten => 209,1,Busy()

[phones-out]
exten => 204,1,Dial(SIP/204,20)
 same => n,Hangup()

-- queues.conf --
[astcti-queue]
strategy = ringall
timeout = 15
retry = 2
ringinuse = no

[astcti-queue-2]
strategy = ringall
timeout = 15
retry = 2
ringinuse = no

[astcti-queue-riu]
strategy = ringall
timeout = 15
retry = 2
ringinuse = yes

-- phones --
SIP/201 answers after 2s talks 60s
SIP/202 never answers
SIP/203 answers after 1s talks 60s
SIP/204 answers at once talks 3s
SIP/206 never answers
SIP/209 busy
SIP/299 unreachable
`

func parseScenario(t testing.TB, text string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("test", []byte(text))
	require.NoError(t, err)
	return sc
}

// call places a call from the trunk now.
func (tp *testPBX) call(t testing.TB, num, name, exten string, hangupAt time.Duration) {
	t.Helper()
	require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{{
		CallerNum: num, CallerName: name, Exten: exten, Context: "from-trunk", HangupAt: hangupAt,
	}}}))
}

func (tp *testPBX) queueAdd(t testing.TB, queue, iface string, paused bool) {
	t.Helper()
	p := "false"
	if paused {
		p = "true"
	}
	r := tp.do("QueueAdd", "ActionID", "qa", "Queue", queue, "Interface", iface, "Paused", p,
		"MemberName", "Operator "+strings.TrimPrefix(iface, "SIP/"))
	require.Len(t, r, 1)
	require.Equal(t, "Success", r[0].Response(), r[0].Get("Message"))
}

func bothDialects(t *testing.T, f func(t *testing.T, d Dialect)) {
	for _, d := range []Dialect{Dialect14, DialectModern} {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

// agentCalled lists the members rung (AgentCalled), in order.
func (tp *testPBX) agentCalled() []string {
	var out []string
	for _, f := range tp.rec.find("AgentCalled") {
		out = append(out, f.Get("Interface")+f.Get("AgentCalled"))
	}
	return out
}

func TestQueueRingsOnlyAvailableMembers(t *testing.T) {
	tests := []struct {
		name   string
		queue  string
		setup  func(t *testing.T, tp *testPBX)
		called []string // members rung for the call placed after setup
	}{
		{"a paused member is not rung", "102", func(t *testing.T, tp *testPBX) {
			tp.queueAdd(t, "astcti-queue", "SIP/201", true)
			tp.queueAdd(t, "astcti-queue", "SIP/203", false)
		}, []string{"SIP/203"}},
		{"ringall rings the last added first", "102", func(t *testing.T, tp *testPBX) {
			tp.queueAdd(t, "astcti-queue", "SIP/201", false)
			tp.queueAdd(t, "astcti-queue", "SIP/203", false)
		}, []string{"SIP/203", "SIP/201"}},
		{"an unreachable member is not rung", "102", func(t *testing.T, tp *testPBX) {
			tp.queueAdd(t, "astcti-queue", "SIP/299", false)
			tp.queueAdd(t, "astcti-queue", "SIP/203", false)
		}, []string{"SIP/203"}},
		{"a member in a call is not rung when ringinuse=no", "102", func(t *testing.T, tp *testPBX) {
			tp.queueAdd(t, "astcti-queue", "SIP/201", false)
			tp.queueAdd(t, "astcti-queue-riu", "SIP/201", false)
			tp.call(t, "300", "First", "102", 0)
			tp.advance(3 * time.Second) // 201 answers the first call
			require.Len(t, tp.rec.find("AgentConnect"), 1)
			tp.rec.reset()
		}, nil},
		{"a member in a call is rung when ringinuse=yes", "110", func(t *testing.T, tp *testPBX) {
			tp.queueAdd(t, "astcti-queue", "SIP/201", false)
			tp.queueAdd(t, "astcti-queue-riu", "SIP/201", false)
			tp.call(t, "300", "First", "102", 0)
			tp.advance(3 * time.Second)
			require.Len(t, tp.rec.find("AgentConnect"), 1)
			tp.rec.reset()
		}, []string{"SIP/201"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bothDialects(t, func(t *testing.T, d Dialect) {
				tp := newTestPBX(t, d, parseScenario(t, basePBX))
				tc.setup(t, tp)
				tp.call(t, "200", "Demo 1", tc.queue, 0)
				tp.advance(time.Second)
				assert.Equal(t, tc.called, tp.agentCalled(), "members rung")
			})
		})
	}
}

func TestQueueOffersCallerWhenMemberFrees(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.queueAdd(t, "astcti-queue", "SIP/201", false)
		tp.call(t, "300", "First", "102", 20*time.Second) // hangs up at 20 s
		tp.advance(3 * time.Second)
		tp.call(t, "301", "Second", "102", 0)
		tp.advance(10 * time.Second)
		assert.Len(t, tp.agentCalled(), 1, "201 is talking: the second caller waits")
		tp.advance(10 * time.Second)
		assert.Len(t, tp.agentCalled(), 2, "201 is free again: the second caller is offered at the next retry")
		st := tp.State()
		require.NotEmpty(t, st.Queues)
	})
}

func TestQueuePauseWithoutQueue(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.queueAdd(t, "astcti-queue", "SIP/201", false)
		tp.queueAdd(t, "astcti-queue-2", "SIP/201", false)
		tp.rec.reset()
		r := tp.do("QueuePause", "ActionID", "p1", "Interface", "SIP/201", "Paused", "true", "Reason", "lunch")
		require.Len(t, r, 1)
		assert.Equal(t, "Interface paused successfully", r[0].Get("Message"))
		name, reason := "QueueMemberPause", "lunch"
		if d == Dialect14 {
			name, reason = "QueueMemberPaused", ""
		}
		evs := tp.rec.find(name)
		require.Len(t, evs, 2, "one event per queue")
		assert.Equal(t, "astcti-queue-2", evs[0].Get("Queue"), "the last configured queue first, as recorded")
		assert.Equal(t, "astcti-queue", evs[1].Get("Queue"))
		for _, e := range evs {
			assert.Equal(t, "1", e.Get("Paused"))
			assert.Equal(t, reason, e.Get("PausedReason"))
		}
		r = tp.do("QueuePause", "ActionID", "p2", "Interface", "SIP/201", "Paused", "false")
		assert.Equal(t, "Interface unpaused successfully", r[0].Get("Message"))
		r = tp.do("QueuePause", "ActionID", "p3", "Queue", "astcti-queue", "Interface", "SIP/299", "Paused", "true")
		assert.Equal(t, "Interface not found", r[0].Get("Message"))
		for _, q := range tp.State().Queues {
			for _, m := range q.Members {
				assert.False(t, m.Paused, "%s in %s", m.Interface, q.Name)
			}
		}
	})
}

func TestOriginateOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		channel  string
		timeout  string
		ok       bool
		reason   string
		hangup   string // cause of the originated channel's Hangup; "" = no channel
		dialects []Dialect
	}{
		{"answers", "SIP/204", "15000", true, "4", "16", nil},
		{"unreachable: no channel", "SIP/299", "", false, "0", "", nil},
		{"never answers", "SIP/202", "5000", false, "3", "19", nil},
		{"busy", "SIP/209", "", false, "5", "17", nil},
		{"Local, no such extension", "Local/999@phones", "", false, "0", "0", nil},
		{"Local, busy", "Local/209@phones", "", false, "5", "0", nil},
		{"Local, answers", "Local/203@phones", "", true, "4", "16", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bothDialects(t, func(t *testing.T, d Dialect) {
				tp := newTestPBX(t, d, parseScenario(t, basePBX))
				kv := []string{"ActionID", "o1", "Channel", tc.channel, "Context", "phones-out",
					"Exten", "204", "Priority", "1", "CallerID", `"Op" <2000>`, "Async", "true"}
				if tc.timeout != "" {
					kv = append(kv, "Timeout", tc.timeout)
				}
				r := tp.do("Originate", kv...)
				require.Len(t, r, 1)
				assert.Equal(t, "Originate successfully queued", r[0].Get("Message"))
				tp.advance(time.Minute)
				or := tp.rec.find("OriginateResponse")
				require.Len(t, or, 1)
				want := "Failure"
				if tc.ok {
					want = "Success"
				}
				assert.Equal(t, want, or[0].Get("Response"))
				assert.Equal(t, tc.reason, or[0].Get("Reason"))
				assert.Equal(t, "o1", or[0].Get("ActionID"))
				if !tc.ok {
					unk := "<unknown>"
					if d == Dialect14 {
						unk = "<null>"
					}
					assert.Equal(t, unk, or[0].Get("Uniqueid"))
					assert.Equal(t, tc.channel, or[0].Get("Channel"), "a failure names the channel asked for")
				}
				hangups := tp.rec.find("Hangup")
				if tc.hangup == "" {
					assert.Empty(t, hangups)
				} else {
					require.NotEmpty(t, hangups)
					first := hangups[0]
					for _, h := range hangups {
						if strings.HasPrefix(h.Get("Channel"), tc.channel+"-") && !strings.HasSuffix(h.Get("Channel"), "2") {
							first = h
							break
						}
					}
					if !strings.HasPrefix(tc.channel, "Local/") || !tc.ok {
						assert.Equal(t, tc.hangup, first.Get("Cause"), "hangup cause of %s", first.Get("Channel"))
					}
				}
				assert.Empty(t, tp.State().Channels, "everything hung up")
			})
		})
	}
}

func TestOriginateSynchronous(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		r := tp.do("Originate", "ActionID", "s1", "Channel", "SIP/204", "Application", "Wait", "Data", "1")
		require.Len(t, r, 1)
		assert.Equal(t, "Success", r[0].Response())
		assert.Equal(t, "Originate successfully queued", r[0].Get("Message"))
		r = tp.do("Originate", "ActionID", "s2", "Channel", "SIP/202", "Application", "Wait", "Data", "1", "Timeout", "3000")
		assert.Equal(t, "Error", r[0].Response())
		assert.Equal(t, "Originate failed", r[0].Get("Message"))
		tp.advance(time.Minute)
		assert.Empty(t, tp.rec.find("OriginateResponse"), "a synchronous originate has no OriginateResponse")
		assert.NotEmpty(t, tp.rec.find("Newchannel", "Channel", tp.rec.find("Newchannel")[0].Get("Channel")))
		assert.Empty(t, tp.State().Channels)
	})
}

func TestOriginateChecks(t *testing.T) {
	tests := []struct {
		dialect Dialect
		kv      []string
		want    string
	}{
		{DialectModern, []string{"Application", "Wait", "Data", "1"}, "Channel not specified"},
		{Dialect14, []string{"Application", "Wait", "Data", "1"}, "Channel not specified"},
		{DialectModern, []string{"Channel", "SIP/201", "Context", "nosuchcontext", "Exten", "999", "Priority", "1", "Async", "true"}, "Extension does not exist."},
		{Dialect14, []string{"Channel", "SIP/201", "Context", "nosuchcontext", "Exten", "999", "Priority", "1", "Async", "true"}, "Originate successfully queued"},
		{DialectModern, []string{"Channel", "nonsense", "Application", "Wait"}, "Invalid channel"},
	}
	for _, tc := range tests {
		tp := newTestPBX(t, tc.dialect, parseScenario(t, basePBX))
		r := tp.do("Originate", append([]string{"ActionID", "x"}, tc.kv...)...)
		require.Len(t, r, 1)
		assert.Equal(t, tc.want, r[0].Get("Message"), "%v Originate(%q)", tc.dialect, tc.kv)
	}
}

func TestDialBusyPhone(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.call(t, "1100", "Demo 11", "104", 0)
		tp.advance(10 * time.Second)
		var causes []string
		for _, h := range tp.rec.find("Hangup") {
			causes = append(causes, h.Get("Channel")[:7]+"="+h.Get("Cause"))
		}
		// the busy phone hangs up with 17, and so does the caller after
		// Dial() returned BUSY (l_busy)
		assert.Equal(t, []string{"SIP/209=17", "SIP/tru=17"}, causes)
		if d == DialectModern {
			de := tp.rec.find("DialEnd")
			require.Len(t, de, 1)
			assert.Equal(t, "BUSY", de[0].Get("DialStatus"))
			assert.Len(t, tp.rec.find("VarSet", "Variable", "DIALSTATUS", "Value", "BUSY"), 1)
		}
		assert.Empty(t, tp.State().Channels)
	})
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	t.Run("Dial", func(t *testing.T) {
		bothDialects(t, func(t *testing.T, d Dialect) {
			tp := newTestPBX(t, d, parseScenario(t, basePBX))
			tp.call(t, "301", "Demo 3", "101", time.Second) // 201 would answer at 2 s
			tp.advance(time.Minute)
			assert.Empty(t, tp.rec.find("Link"))
			assert.Empty(t, tp.rec.find("BridgeEnter"))
			if d == DialectModern {
				for _, de := range tp.rec.find("DialEnd") {
					assert.Equal(t, "CANCEL", de.Get("DialStatus"))
				}
				assert.Len(t, tp.rec.find("DialEnd"), 2)
				assert.Len(t, tp.rec.find("VarSet", "Variable", "DIALSTATUS", "Value", "CANCEL"), 1)
			}
			assert.Len(t, tp.rec.find("Hangup"), 3)
			assert.Empty(t, tp.State().Channels)
		})
	})
	t.Run("Queue", func(t *testing.T) {
		bothDialects(t, func(t *testing.T, d Dialect) {
			tp := newTestPBX(t, d, parseScenario(t, basePBX))
			tp.queueAdd(t, "astcti-queue", "SIP/202", false)
			tp.call(t, "500", "Demo 5", "102", 20*time.Second)
			tp.advance(time.Minute)
			assert.Empty(t, tp.rec.find("AgentConnect"))
			if d == DialectModern {
				ab := tp.rec.find("QueueCallerAbandon")
				require.Len(t, ab, 1)
				assert.Equal(t, "1", ab[0].Get("Position"))
				assert.Equal(t, "20", ab[0].Get("HoldTime"))
				assert.Len(t, tp.rec.find("QueueCallerLeave"), 1)
				h := tp.rec.find("Hangup", "Channel", ab[0].Get("Channel"))
				require.Len(t, h, 1)
				assert.Equal(t, "0", h[0].Get("Cause"), "a queued caller's BYE: cause 0")
			} else {
				assert.Len(t, tp.rec.find("Leave"), 1)
			}
			st := tp.State()
			assert.Empty(t, st.Channels)
			for _, q := range st.Queues {
				if q.Name == "astcti-queue" {
					assert.Equal(t, 1, q.Abandoned)
					assert.Empty(t, q.Waiting)
				}
			}
		})
	})
}

// TestBothHangUpAtOnce: the caller and the operator hang up at the same
// instant; each channel hangs up once and nothing is left.
func TestBothHangUpAtOnce(t *testing.T) {
	for _, service := range []string{"101", "102"} {
		t.Run(service, func(t *testing.T) {
			bothDialects(t, func(t *testing.T, d Dialect) {
				tp := newTestPBX(t, d, parseScenario(t, basePBX))
				tp.queueAdd(t, "astcti-queue", "SIP/201", false)
				// 201 answers at 2 s and hangs up 60 s later, at 62 s.
				tp.call(t, "200", "Demo 1", service, 62*time.Second)
				tp.advance(2 * time.Minute)
				seen := map[string]int{}
				for _, h := range tp.rec.find("Hangup") {
					seen[h.Get("Channel")]++
				}
				for ch, n := range seen {
					assert.Equal(t, 1, n, "Hangups of %s", ch)
				}
				assert.Len(t, seen, len(tp.rec.find("Newchannel")))
				st := tp.State()
				assert.Empty(t, st.Channels)
				for _, q := range st.Queues {
					for _, m := range q.Members {
						assert.False(t, m.InCall, "%s still in call", m.Interface)
					}
				}
				if service == "102" {
					assert.Len(t, tp.rec.find("AgentComplete"), 1)
				}
			})
		})
	}
}

func TestAnsweredQueueCall(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.queueAdd(t, "astcti-queue", "Local/201@phones/n", false)
		tp.call(t, "200", "Demo 1", "102", 0)
		tp.advance(5 * time.Second)
		st := tp.State()
		var bridged int
		for _, c := range st.Channels {
			if c.BridgedWith != "" {
				bridged++
			}
		}
		assert.Equal(t, 2, bridged, "caller and operator talk")
		tp.advance(time.Minute)
		ac := tp.rec.find("AgentComplete")
		require.Len(t, ac, 1)
		assert.Equal(t, "agent", ac[0].Get("Reason"))
		assert.Equal(t, "5", ac[0].Get("TalkTime"))
		assert.Empty(t, tp.State().Channels)
		link := "BridgeEnter"
		if d == Dialect14 {
			link = "Link"
		}
		assert.Len(t, tp.rec.find(link), 2)
	})
}

func TestActionErrors(t *testing.T) {
	tests := []struct {
		action string
		kv     []string
		want14 string
		want   string
	}{
		{"QueueAdd", []string{"Queue", "nosuchqueue", "Interface", "SIP/201"}, "Unable to add interface to queue: No such queue", ""},
		{"QueueAdd", []string{"Queue", "astcti-queue"}, "'Interface' not specified.", ""},
		{"QueueRemove", []string{"Queue", "astcti-queue", "Interface", "SIP/299"}, "Unable to remove interface: Not there", ""},
		{"QueueRemove", []string{"Queue", "nosuchqueue", "Interface", "SIP/201"}, "Unable to remove interface from queue: No such queue", ""},
		{"QueuePause", []string{"Interface", "SIP/299", "Paused", "true"}, "Interface not found", ""},
		{"NoSuchAction", []string{"Foo", "bar"}, "Invalid/unknown command",
			"Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands."},
		{"QueueSummary", nil, "Invalid/unknown command", "Queue summary will follow"},
		{"CoreShowChannels", nil, "Invalid/unknown command", "Channels will follow"},
		{"Getvar", []string{"Channel", "SIP/nope-1", "Variable", "x"}, "No such channel", ""},
		{"Getvar", []string{"Channel", "SIP/nope-1"}, "No variable specified", ""},
		{"Setvar", []string{"Channel", "SIP/nope-1", "Variable", "x", "Value", "1"}, "No such channel", ""},
		{"Hangup", nil, "No channel specified", ""},
		{"Hangup", []string{"Channel", "SIP/nope-1"}, "No such channel", ""},
		{"Status", []string{"Channel", "SIP/nope-1"}, "No such channel", ""},
	}
	for _, tc := range tests {
		for _, d := range []Dialect{Dialect14, DialectModern} {
			tp := newTestPBX(t, d, parseScenario(t, basePBX))
			r := tp.do(tc.action, append([]string{"ActionID", "e1"}, tc.kv...)...)
			require.NotEmpty(t, r)
			want := tc.want14
			if d == DialectModern && tc.want != "" {
				want = tc.want
			}
			assert.Equal(t, want, r[0].Get("Message"), "%v %s(%q)", d, tc.action, tc.kv)
			assert.Equal(t, "e1", r[0].ActionID())
		}
	}
	tp := newTestPBX(t, DialectModern, parseScenario(t, basePBX))
	tp.queueAdd(t, "astcti-queue", "SIP/201", false)
	r := tp.do("QueueAdd", "ActionID", "dup", "Queue", "astcti-queue", "Interface", "SIP/201")
	assert.Equal(t, "Unable to add interface: Already there", r[0].Get("Message"))
}

func TestListAndChannelActions(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.queueAdd(t, "astcti-queue", "SIP/202", false)
		tp.call(t, "500", "Demo 5", "102", 0)
		tp.advance(time.Second)

		r := tp.do("QueueStatus", "ActionID", "qs", "Queue", "astcti-queue")
		var kinds []string
		for _, f := range r {
			kinds = append(kinds, shapeKey(f))
			assert.Equal(t, "qs", f.ActionID())
		}
		assert.Equal(t, []string{"Response:Success", "QueueParams", "QueueMember", "QueueEntry", "QueueStatusComplete"}, kinds)
		assert.Equal(t, "1", r[1].Get("Calls"))
		assert.Equal(t, "1", r[3].Get("Position"))

		caller := tp.State().Queues[0].Waiting
		if tp.State().Queues[0].Name != "astcti-queue" {
			caller = nil
			for _, q := range tp.State().Queues {
				if q.Name == "astcti-queue" {
					caller = q.Waiting
				}
			}
		}
		require.Len(t, caller, 1)

		r = tp.do("Getvar", "ActionID", "g", "Channel", caller[0], "Variable", "customer_id")
		require.Len(t, r, 1)
		assert.Equal(t, "98765", r[0].Get("Value"))
		r = tp.do("Getvar", "ActionID", "g2", "Channel", caller[0], "Variable", "CALLERID(num)")
		assert.Equal(t, "500", r[0].Get("Value"))
		r = tp.do("Setvar", "ActionID", "s", "Channel", caller[0], "Variable", "note", "Value", "vip")
		assert.Equal(t, "Variable Set", r[0].Get("Message"))
		r = tp.do("Getvar", "ActionID", "g3", "Channel", caller[0], "Variable", "note")
		assert.Equal(t, "vip", r[0].Get("Value"))
		tp.do("Setvar", "ActionID", "s2", "Variable", "G", "Value", "1")
		r = tp.do("Getvar", "ActionID", "g4", "Variable", "G")
		assert.Equal(t, "1", r[0].Get("Value"), "a global variable")

		r = tp.do("Status", "ActionID", "st")
		n := len(tp.State().Channels)
		require.Len(t, r, n+2)
		assert.Equal(t, "Channel status will follow", r[0].Get("Message"))
		assert.Equal(t, "StatusComplete", r[n+1].Event())
		if d == Dialect14 {
			_, ok := r[n+1].Lookup("Items")
			assert.False(t, ok, "1.4's StatusComplete has no Items")
		} else {
			assert.Equal(t, itoa(n), r[n+1].Get("Items"))
		}

		r = tp.do("Command", "ActionID", "c", "Command", "core show version")
		require.Len(t, r, 1)
		if d == Dialect14 {
			assert.Equal(t, "Follows", r[0].Response())
			assert.Equal(t, []string{version14}, r[0].Output)
		} else {
			assert.Equal(t, "Command output follows", r[0].Get("Message"))
			assert.Equal(t, []string{versionModern}, r[0].Values("Output"))
			r = tp.do("CoreShowChannels", "ActionID", "cs")
			require.Len(t, r, n+2)
			assert.Equal(t, itoa(n), r[n+1].Get("ListItems"))
			r = tp.do("CoreStatus", "ActionID", "co")
			assert.Equal(t, itoa(n), r[0].Get("CoreCurrentCalls"))
			assert.Equal(t, "1", r[0].Get("CoreProcessedCalls"))
			r = tp.do("QueueSummary", "ActionID", "qsum", "Queue", "astcti-queue")
			require.Len(t, r, 3)
			assert.Equal(t, "1", r[1].Get("Callers"))
		}

		r = tp.do("Hangup", "ActionID", "h", "Channel", caller[0])
		assert.Equal(t, "Channel Hungup", r[0].Get("Message"))
		tp.advance(time.Second)
		assert.Empty(t, tp.State().Channels)
	})
}

func TestShutdown(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, basePBX))
		tp.queueAdd(t, "astcti-queue", "SIP/201", false)
		tp.call(t, "1400", "Demo 14", "102", 0)
		tp.advance(5 * time.Second)
		require.Len(t, tp.rec.find("AgentConnect"), 1)
		before := len(tp.State().Channels)
		require.Equal(t, 2, before)
		tp.rec.reset()
		tp.advance(time.Second)
		restart := tp.clock.Now()
		tp.Shutdown()

		if d == DialectModern {
			assert.Len(t, tp.rec.find("SoftHangupRequest", "Cause", "4"), before)
		}
		ac := tp.rec.find("AgentComplete")
		require.Len(t, ac, 1)
		assert.Equal(t, "caller", ac[0].Get("Reason"))
		assert.Len(t, tp.rec.find("Hangup"), before)
		sd := tp.rec.find("Shutdown")
		require.Len(t, sd, 1)
		assert.Equal(t, "True", sd[0].Get("Restart"))
		assert.Empty(t, tp.rec.find("QueueMemberRemoved"), "dynamic members are forgotten, not removed")
		assert.Equal(t, "Shutdown", tp.rec.all()[len(tp.rec.all())-1].Event(), "Shutdown comes last")

		st := tp.State()
		assert.Empty(t, st.Channels)
		for _, q := range st.Queues {
			assert.Empty(t, q.Members)
			assert.Zero(t, q.Completed)
		}
		assert.Equal(t, restart, tp.StartTime())

		// Ids start again from 0.
		tp.rec.reset()
		tp.call(t, "1500", "Demo 15", "101", 0)
		nc := tp.rec.find("Newchannel")
		require.NotEmpty(t, nc)
		assert.True(t, strings.HasSuffix(nc[0].Get("Uniqueid"), ".0"), nc[0].Get("Uniqueid"))
		if d == DialectModern {
			assert.Equal(t, "SIP/trunk-00000000", nc[0].Get("Channel"))
		}
	})
}

func TestStateSnapshot(t *testing.T) {
	tp := newTestPBX(t, DialectModern, parseScenario(t, basePBX))
	tp.queueAdd(t, "astcti-queue", "SIP/201", true)
	tp.call(t, "200", "Demo 1", "101", 0)
	tp.advance(3 * time.Second)
	st := tp.State()
	require.Len(t, st.Channels, 2)
	assert.Equal(t, "SIP/trunk-00000000", st.Channels[0].Name)
	assert.Equal(t, st.Channels[0].Uniqueid, st.Channels[1].Linkedid)
	assert.Equal(t, st.Channels[1].Name, st.Channels[0].BridgedWith)
	assert.Equal(t, "Up", st.Channels[1].State)
	assert.Equal(t, "200", st.Channels[0].CallerIDNum)
	var q QueueSnapshot
	for _, x := range st.Queues {
		if x.Name == "astcti-queue" {
			q = x
		}
	}
	require.Len(t, q.Members, 1)
	assert.True(t, q.Members[0].Paused)
	assert.Equal(t, 2, q.Members[0].Status, "201 is talking on 101")
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, st.Channels, back.Channels)
}

func TestRunDrivesTime(t *testing.T) {
	sc := parseScenario(t, basePBX+"\n-- calls --\nat 1s from \"Demo 1\" <200> to 101@from-trunk\n")
	clock := NewManualClock(testEpoch)
	p, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc, Seed: 7, Clock: clock})
	require.NoError(t, err)
	rec := &recorder{}
	p.Attach(rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.running
	})
	assert.Empty(t, p.State().Channels, "the call comes at 1 s")
	clock.Advance(time.Second)
	assert.Len(t, p.State().Channels, 3, "the trunk and two phones")
	clock.Advance(2 * time.Second)
	assert.Len(t, p.State().Channels, 2, "201 answered, 202 cancelled")
	cancel()
	require.NoError(t, <-done)
	clock.Advance(time.Hour)
	assert.Len(t, p.State().Channels, 2, "time no longer drives a stopped PBX")
	r := &recorder{}
	p.Do(r, ami.NewAction("QueueStatus", "ActionID", "1"))
	assert.NotEmpty(t, r.all(), "actions are answered while stopped")
	assert.Len(t, p.State().Channels, 2, "and they do not make overdue timers fire")
}

func TestStandsStillUntilRun(t *testing.T) {
	clock := NewManualClock(testEpoch)
	p, err := NewPBX(Options{Dialect: DialectModern, Scenario: parseScenario(t, basePBX), Clock: clock})
	require.NoError(t, err)
	rec := &recorder{}
	p.Attach(rec)
	p.Do(rec, ami.NewAction("Originate", "ActionID", "o", "Channel", "SIP/201",
		"Application", "Wait", "Data", "1", "Async", "true"))
	assert.Len(t, rec.find("Newstate", "ChannelStateDesc", "Ringing"), 1, "what happens at once happens")
	clock.Advance(time.Minute)
	assert.Empty(t, rec.find("OriginateResponse"), "201 answers after 2 s, but time stands still")
	startStepped(t, p)
	assert.Len(t, rec.find("OriginateResponse"), 1, "overdue timers fire once the PBX runs")
}

func TestManualClock(t *testing.T) {
	c := NewManualClock(testEpoch)
	var got []string
	c.AfterFunc(2*time.Second, func() {
		got = append(got, "b@"+c.Now().Sub(testEpoch).String())
		c.AfterFunc(0, func() { got = append(got, "c@"+c.Now().Sub(testEpoch).String()) })
	})
	c.AfterFunc(time.Second, func() { got = append(got, "a@"+c.Now().Sub(testEpoch).String()) })
	stop := c.AfterFunc(3*time.Second, func() { got = append(got, "never") })
	assert.True(t, stop())
	assert.False(t, stop())
	c.Advance(5 * time.Second)
	assert.Equal(t, []string{"a@1s", "b@2s", "c@2s"}, got)
	assert.Equal(t, testEpoch.Add(5*time.Second), c.Now())
}

func TestRunRealClock(t *testing.T) {
	sc := parseScenario(t, basePBX+"\n-- calls --\nat 10ms from \"Demo 1\" <200> to 104@from-trunk\n")
	p, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc})
	require.NoError(t, err)
	rec := &recorder{}
	p.Attach(rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool { return len(rec.find("Hangup")) == 2 })
	cancel()
	require.NoError(t, <-done)
	assert.NotZero(t, p.StartTime())
}

func TestTrafficIsRepeatable(t *testing.T) {
	calls := func(seed int64) []string {
		sc := parseScenario(t, basePBX+"\n-- traffic --\nrate 30/min to 101@from-trunk 102@from-trunk*2 from 7000-7999 patience 5s-20s\n")
		clock := NewManualClock(testEpoch)
		p, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc, Seed: seed, Clock: clock})
		require.NoError(t, err)
		rec := &recorder{}
		p.Attach(rec)
		p.mu.Lock()
		p.startLocked()
		p.mu.Unlock()
		clock.Advance(2 * time.Minute)
		p.mu.Lock()
		p.stopLocked()
		p.mu.Unlock()
		var out []string
		for _, f := range rec.find("Newchannel") {
			if strings.HasPrefix(f.Get("Channel"), "SIP/trunk-") {
				out = append(out, f.Get("CallerIDNum")+"@"+f.Get("Exten")+"/"+f.Get("Uniqueid"))
			}
		}
		return out
	}
	a, b := calls(3), calls(3)
	assert.Equal(t, a, b)
	assert.Greater(t, len(a), 30, "about 60 calls in 2 minutes")
	assert.NotEqual(t, a, calls(4))
}

func TestDemoScenario(t *testing.T) {
	demo := scenarios.Demo()
	require.NotNil(t, demo)
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, demo)
		tp.queueAdd(t, "astcti-queue", "SIP/201", false)
		require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{{
			CallerNum: "700", CallerName: "Demo 7", Exten: "105", Context: "from-trunk", Digits: "4711#17#",
		}}}))
		tp.advance(3 * time.Second)
		ue := tp.rec.find("UserEvent")
		require.Len(t, ue, 1)
		assert.Equal(t, "AstCTI", ue[0].Get("UserEvent"))
		assert.Equal(t, "4711", ue[0].Get("customer_id"))
		assert.Equal(t, "A-17", ue[0].Get("order"))
		require.Len(t, tp.rec.find("AgentConnect"), 1)
		tp.advance(time.Minute)
		assert.Empty(t, tp.State().Channels)

		// An operator calls out through the trunk.
		tp.rec.reset()
		r := tp.do("Originate", "ActionID", "out", "Channel", "SIP/201", "Context", "from-operators",
			"Exten", "0612345678", "Priority", "1", "Async", "true")
		require.Equal(t, "Success", r[0].Response(), r[0].Get("Message"))
		tp.advance(10 * time.Second)
		var names []string
		for _, f := range tp.rec.find("Newchannel") {
			names = append(names, f.Get("Channel")[:9])
		}
		assert.Equal(t, []string{"SIP/201-0", "SIP/trunk"}, names)
	})
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// selfDetaching detaches itself from inside Send, as a session that is
// closed while the PBX broadcasts would.
type selfDetaching struct {
	detach func()
	n      int
}

func (s *selfDetaching) Send(*ami.Frame) {
	s.n++
	s.detach()
}

func TestDetachFromInsideSend(t *testing.T) {
	tp := newTestPBX(t, DialectModern, parseScenario(t, basePBX))
	s := &selfDetaching{}
	s.detach = tp.Attach(s)
	tp.call(t, "200", "Demo 1", "101", 0)
	tp.advance(time.Minute)
	assert.Equal(t, 1, s.n, "no event after detach")
	assert.NotEmpty(t, tp.rec.find("Hangup"), "the other sinks go on")
}

// TestConcurrentUse runs the PBX on the real clock while sessions act on
// it; run with -race.
func TestConcurrentUse(t *testing.T) {
	sc := parseScenario(t, strings.ReplaceAll(basePBX, "talks 60s", "talks 20ms")+
		"\n-- traffic --\nrate 50/s to 101@from-trunk 102@from-trunk from 7000-7999 patience 10ms-80ms seed 5\n")
	p, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recorder{}
			detach := p.Attach(rec)
			defer detach()
			for j := range 50 {
				iface := "SIP/20" + itoa(1+(i+j)%3)
				p.Do(rec, ami.NewAction("QueueAdd", "Queue", "astcti-queue", "Interface", iface))
				p.Do(rec, ami.NewAction("QueueStatus", "ActionID", itoa(j)))
				_ = p.State()
				p.Do(rec, ami.NewAction("QueueRemove", "Queue", "astcti-queue", "Interface", iface))
			}
		}()
	}
	wg.Wait()
	cancel()
	require.NoError(t, <-done)
}
