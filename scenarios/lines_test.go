package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sec = time.Second

func TestParsePhones(t *testing.T) {
	tests := []struct {
		line string
		want Phone
	}{
		{"SIP/201 answers after 2s talks 5s", Phone{Interface: "SIP/201", Behaviour: Answers, AnswerAfter: 2 * sec, TalkFor: 5 * sec}},
		{"SIP/203 answers at once talks 3s", Phone{Interface: "SIP/203", Behaviour: Answers, TalkFor: 3 * sec}},
		{"SIP/204 answers at once", Phone{Interface: "SIP/204", Behaviour: Answers}},
		{"SIP/205 answers after 1m30s", Phone{Interface: "SIP/205", Behaviour: Answers, AnswerAfter: 90 * sec}},
		{"SIP/206 answers at once without ringing talks 500ms", Phone{Interface: "SIP/206", Behaviour: Answers, TalkFor: 500 * time.Millisecond, NoRinging: true}},
		{"SIP/202 never answers", Phone{Interface: "SIP/202", Behaviour: NeverAnswers}},
		{"SIP/209 busy ; 486 Busy Here", Phone{Interface: "SIP/209", Behaviour: Busy}},
		{"SIP/299 unreachable", Phone{Interface: "SIP/299", Behaviour: Unreachable}},
		{"  PJSIP/201   answers   at   once  ", Phone{Interface: "PJSIP/201", Behaviour: Answers}},
		{"Local/201@phones/n answers after 2s", Phone{Interface: "Local/201@phones/n", Behaviour: Answers, AnswerAfter: 2 * sec}},
	}
	for _, tc := range tests {
		sc, err := Parse("t", archive(filePhones, "; the phones\n\n"+tc.line, fileExtensions, "[phones]\nexten => 201,1,Hangup()"))
		require.NoError(t, err, "Parse(%q)", tc.line)
		tc.want.Line, tc.want.Source = 3, "t"
		if got := sc.Phones[tc.want.Interface]; got == nil || *got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestParseCalls(t *testing.T) {
	tests := []struct {
		line string
		want Call
	}{
		{`at 1s from "Demo 1" <200> to 101@c`,
			Call{At: sec, CallerName: "Demo 1", CallerNum: "200", Exten: "101", Context: "c", Channel: "SIP/trunk"}},
		{`at 0 from <300> to 101@c hangs up after 20s`,
			Call{CallerNum: "300", Exten: "101", Context: "c", Channel: "SIP/trunk", HangupAt: 20 * sec}},
		{`at 1.5s from 0612345678 to 101@c via SIP/provider digits 4711#17#`,
			Call{At: 1500 * time.Millisecond, CallerNum: "0612345678", Exten: "101", Context: "c", Channel: "SIP/provider", Digits: "4711#17#"}},
		{`to 101@c from "" <+4930123> at 2m ; any order`,
			Call{At: 120 * sec, CallerNum: "+4930123", Exten: "101", Context: "c", Channel: "SIP/trunk"}},
		{`at 1s from "Say \"hi\"" <1> to 101@c digits *1A`,
			Call{At: sec, CallerName: `Say "hi"`, CallerNum: "1", Exten: "101", Context: "c", Channel: "SIP/trunk", Digits: "*1A"}},
	}
	for _, tc := range tests {
		sc, err := Parse("t", archive(fileCalls, tc.line, fileExtensions, "[c]\nexten => 101,1,Hangup()"))
		require.NoError(t, err, "Parse(%q)", tc.line)
		require.Len(t, sc.Calls, 1)
		tc.want.Line, tc.want.Source = 1, "t"
		if got := sc.Calls[0]; got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestParseCallsOrder(t *testing.T) {
	sc, err := Parse("t", archive(fileExtensions, "[c]\nexten => _X.,1,Hangup()", fileCalls, `
at 5s from <1> to 11@c
at 1s from <2> to 22@c ; calls keep file order, whatever their time
`))
	require.NoError(t, err)
	require.Len(t, sc.Calls, 2)
	assert.Equal(t, "11", sc.Calls[0].Exten)
	assert.Equal(t, 2, sc.Calls[0].Line)
	assert.Equal(t, "22", sc.Calls[1].Exten)
	assert.Equal(t, 3, sc.Calls[1].Line)
}

func TestParseTraffic(t *testing.T) {
	tests := []struct {
		line string
		want Traffic
	}{
		{"rate 12/min to 101@c 102@d*2 from 7000-7999 patience 20s-90s seed 42",
			Traffic{Rate: 12, Targets: []Target{{"101", "c", 1}, {"102", "d", 2}}, FromNum: 7000, ToNum: 7999, MinHold: 20 * sec, MaxHold: 90 * sec, Seed: 42, Channel: "SIP/trunk"}},
		{"rate 0.5/s to 101@c from 200 patience 30s via SIP/provider",
			Traffic{Rate: 30, Targets: []Target{{"101", "c", 1}}, FromNum: 200, ToNum: 200, MinHold: 30 * sec, MaxHold: 30 * sec, Channel: "SIP/provider"}},
		{"patience 1m-2m from 1-9 to 101@c rate 120/h",
			Traffic{Rate: 2, Targets: []Target{{"101", "c", 1}}, FromNum: 1, ToNum: 9, MinHold: time.Minute, MaxHold: 2 * time.Minute, Channel: "SIP/trunk"}},
	}
	for _, tc := range tests {
		sc, err := Parse("t", archive(fileTraffic, "; comment\n"+tc.line, fileExtensions, "[c]\nexten => 101,1,Hangup()\n[d]\nexten => 102,1,Hangup()"))
		require.NoError(t, err, "Parse(%q)", tc.line)
		tc.want.Line, tc.want.Source = 2, "t"
		if !assert.Equal(t, &tc.want, sc.Traffic) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.line, sc.Traffic, tc.want)
		}
	}
}

func TestParseQueues(t *testing.T) {
	sc, err := Parse("t", archive(fileQueues, `[general]
persistentmembers = no
autofill = yes
monitor-type = MixMonitor

[defaults]
strategy = ringall
joinempty = yes
eventwhencalled = yes
eventmemberstatus = yes
leavewhenempty = no

[astcti-queue]
strategy = ringall
timeout = 15
retry = 2
ringinuse = no
wrapuptime = 0
joinempty = yes

[rr](!)
strategy = rrmemory
timeout => 20
member => SIP/201,0,Operator 201

[from-template](rr)
ringinuse = yes
retry = 0
wrapuptime = 10
member => SIP/203 , 2 , Operator 203
member => PJSIP/204
`))
	require.NoError(t, err)
	assert.Len(t, sc.Queues, 3) // the (!) template is not a queue
	assert.Equal(t, &Queue{Name: "defaults", Strategy: "ringall", Timeout: 15 * sec, Retry: 5 * sec, RingInUse: true, Line: 6, Source: "t"}, sc.Queues["defaults"])
	assert.Equal(t, &Queue{Name: "astcti-queue", Strategy: "ringall", Timeout: 15 * sec, Retry: 2 * sec, Line: 13, Source: "t"}, sc.Queues["astcti-queue"])
	assert.Equal(t, &Queue{
		Name: "from-template", Strategy: "rrmemory", Timeout: 20 * sec, Retry: 5 * sec, RingInUse: true, WrapupTime: 10 * sec,
		Members: []Member{{"SIP/201", 0, "Operator 201", 24}, {"SIP/203", 2, "Operator 203", 30}, {"PJSIP/204", 0, "PJSIP/204", 31}},
		Line:    26, Source: "t",
	}, sc.Queues["from-template"])
}

func TestParseQueueTemplateErrorsOnce(t *testing.T) {
	// A problem in a template is reported once, at the template.
	_, err := Parse("t", archive(fileQueues, "[tmpl](!)\nstrategy = nonsense\n[a](tmpl)\n[b](tmpl)"))
	checkErrs(t, "Parse", err, []string{`t:queues.conf:2: unknown strategy "nonsense"`})
}

func TestBehaviourString(t *testing.T) {
	for b, want := range map[Behaviour]string{Answers: "answers", NeverAnswers: "never answers", Busy: "busy", Unreachable: "unreachable", 9: "Behaviour(9)"} {
		if got := b.String(); got != want {
			t.Errorf("Behaviour(%d).String() = %q, want %q", int(b), got, want)
		}
	}
}
