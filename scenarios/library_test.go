package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLibraryParses(t *testing.T) {
	names := Names()
	require.Equal(t, []string{
		"blind_transfer", "busy", "call_waiting", "demo", "hangup_race",
		"nonqueue_answered", "nonqueue_caller_hangup", "nonqueue_noanswer", "originate",
		"pause_during_call", "queue_abandoned", "queue_answered", "queue_pause_waiting",
		"queue_ringnoanswer_then_answer", "traffic", "userevent_vars", "vars_set_twice",
	}, names)
	scs, err := Library()
	require.NoError(t, err)
	require.Len(t, scs, len(names))
	for i, sc := range scs {
		assert.Equal(t, names[i], sc.Name)
		assert.NotEmpty(t, sc.Comment, "%s has no comment saying what it shows", sc.Name)
		require.NoError(t, sc.Validate())
	}
}

// TestLibraryMatchesDemo checks that every library file, which must be
// self-contained, copies the demo PBX faithfully: each of its extensions,
// queues and phones is the demo's of the same name.
func TestLibraryMatchesDemo(t *testing.T) {
	demo := Demo()
	scs, err := Library()
	require.NoError(t, err)
	for _, sc := range scs {
		for name, c := range sc.Contexts {
			dc := demo.Contexts[name]
			require.NotNil(t, dc, "%s: context [%s] is not in the demo", sc.Name, name)
			for exten, steps := range c.Extens {
				assert.Equal(t, stripLines(dc.Extens[exten]), stripLines(steps), "%s: %s@%s differs from the demo", sc.Name, exten, name)
			}
		}
		for name, q := range sc.Queues {
			dq := demo.Queues[name]
			require.NotNil(t, dq, "%s: queue [%s] is not in the demo", sc.Name, name)
			a, b := *q, *dq
			a.Line, a.Source, b.Line, b.Source = 0, "", 0, ""
			assert.Equal(t, b, a, "%s: queue [%s] differs from the demo", sc.Name, name)
		}
		for name, p := range sc.Phones {
			dp := demo.Phones[name]
			require.NotNil(t, dp, "%s: phone %s is not in the demo", sc.Name, name)
			a, b := *p, *dp
			a.Line, a.Source, b.Line, b.Source = 0, "", 0, ""
			assert.Equal(t, b, a, "%s: phone %s differs from the demo", sc.Name, name)
		}
	}
}

func stripLines(steps []Step) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		s.Line = 0
		out[i] = s
	}
	return out
}

// TestDemo checks the demo PBX against its specification.
func TestDemo(t *testing.T) {
	d := Demo()
	assert.Empty(t, d.Calls)
	assert.Nil(t, d.Traffic)

	apps := func(c, exten string) []string {
		steps, ok := d.Contexts[c].Match(exten)
		require.True(t, ok, "%s@%s", exten, c)
		var out []string
		for _, s := range steps {
			out = append(out, s.App+"("+s.AppData(",")+")")
		}
		return out
	}
	assert.Equal(t, []string{"Answer()", "Set(calldata=12345)", "Dial(SIP/201&SIP/202,30)", "Hangup()"}, apps("astcti-service", "101"))
	assert.Equal(t, []string{"Answer()", "Set(calldata=55555)", "Dial(SIP/202&SIP/206,15)", "Hangup()"}, apps("astcti-service", "103"))
	assert.Equal(t, []string{"Answer()", "Set(customer_id=98765)", "Queue(astcti-queue,t,,,60)", "Hangup()"}, apps("astcti-queue-service", "102"))
	assert.Equal(t, []string{"Answer()", "Set(calldata=77777)", "Dial(SIP/209,15)", "Hangup()"}, apps("astcti-service-busy", "104"))
	assert.Equal(t, []string{"Goto(astcti-service,101,1)"}, apps("from-trunk", "101"))
	assert.Equal(t, []string{"Goto(astcti-queue-service,102,1)"}, apps("from-trunk", "102"))
	assert.Equal(t, []string{"Dial(SIP/${EXTEN},30)", "Hangup()"}, apps("from-operators", "205"))
	assert.Equal(t, []string{"Dial(SIP/trunk/${EXTEN},60)", "Hangup()"}, apps("from-operators", "0612345678"))

	for _, name := range []string{"astcti-queue", "astcti-queue-2"} {
		q := d.Queues[name]
		require.NotNil(t, q, name)
		assert.Equal(t, "ringall", q.Strategy)
		assert.Equal(t, 15*time.Second, q.Timeout)
		assert.Equal(t, 2*time.Second, q.Retry)
		assert.False(t, q.RingInUse)
		assert.Empty(t, q.Members)
	}

	phones := []struct {
		iface         string
		b             Behaviour
		answer, talks time.Duration
	}{
		{"SIP/201", Answers, 2 * time.Second, 5 * time.Second},
		{"SIP/202", NeverAnswers, 0, 0},
		{"SIP/203", Answers, 0, 3 * time.Second},
		{"SIP/204", Answers, 0, 3 * time.Second},
		{"SIP/205", Answers, 0, 3 * time.Second},
		{"SIP/206", NeverAnswers, 0, 0},
		{"SIP/209", Busy, 0, 0},
		{"SIP/299", Unreachable, 0, 0},
	}
	for _, p := range phones {
		got := d.PhoneFor(p.iface)
		assert.Equal(t, []any{p.b, p.answer, p.talks}, []any{got.Behaviour, got.AnswerAfter, got.TalkFor}, p.iface)
	}
	trunk := d.PhoneFor("SIP/trunk/0612345678")
	assert.Equal(t, Answers, trunk.Behaviour)
	assert.Equal(t, "SIP/trunk/0612345678", trunk.Interface)

	// Each Demo is a new copy.
	d.Phones["SIP/201"].TalkFor = time.Hour
	assert.Equal(t, 5*time.Second, Demo().Phones["SIP/201"].TalkFor)
}

// TestTracedCalls checks the calls of the scenarios that mirror traces.
func TestTracedCalls(t *testing.T) {
	tests := []struct {
		name  string
		calls []string // "Name <num> exten@context"
	}{
		{"nonqueue_answered", []string{"Demo 1 <200> 101@from-trunk"}},
		{"nonqueue_noanswer", []string{"Demo 2 <300> 103@from-trunk"}},
		{"nonqueue_caller_hangup", []string{"Demo 3 <301> 103@from-trunk"}},
		{"queue_answered", []string{"Demo 1 <200> 102@from-trunk"}},
		{"queue_ringnoanswer_then_answer", []string{"Demo 5 <500> 102@from-trunk"}},
		{"busy", []string{"Demo 11 <1100> 104@from-trunk", "Demo 12 <1200> 102@from-trunk"}},
		{"userevent_vars", []string{"Demo 7 <700> 105@from-trunk"}},
		{"blind_transfer", []string{"Demo 9 <900> 102@from-trunk"}},
		{"call_waiting", []string{"Call A <1301> 102@from-trunk", "Call B <1302> 102@from-trunk", "Call C <1303> 110@from-trunk"}},
		{"queue_abandoned", []string{"Demo 6 <600> 102@from-trunk"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load(tc.name)
			require.NoError(t, err)
			var got []string
			for _, c := range sc.Calls {
				got = append(got, c.CallerName+" <"+c.CallerNum+"> "+c.Exten+"@"+c.Context)
				assert.Equal(t, DefaultChannel, c.Channel)
			}
			assert.Equal(t, tc.calls, got)
			assert.Contains(t, sc.Comment, "Mirrors ")
		})
	}
	sc, err := Load("nonqueue_caller_hangup")
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, sc.Calls[0].HangupAt)
	sc, err = Load("userevent_vars.txtar")
	require.NoError(t, err)
	assert.Equal(t, "4711#17#", sc.Calls[0].Digits)
	sc, err = Load("traffic")
	require.NoError(t, err)
	require.NotNil(t, sc.Traffic)
	assert.Equal(t, 12.0, sc.Traffic.Rate)
}

func TestLoadUnknown(t *testing.T) {
	for _, name := range []string{"nosuch", "", "../scenarios/demo", "testdata/x"} {
		_, err := Load(name)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%q) = %v, want ErrNotFound", name, err)
		}
	}
	_, err := Source("nosuch")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "demo")
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "mycalls.txtar")
	require.NoError(t, os.WriteFile(calls, archive(fileCalls, "at 1s from <200> to 101@from-trunk"), 0o644))
	bad := filepath.Join(dir, "bad.txtar")
	require.NoError(t, os.WriteFile(bad, archive(fileCalls, "at 1s from <200> to 999@from-trunk"), 0o644))

	sc, err := Open("demo")
	require.NoError(t, err)
	assert.Equal(t, "demo", sc.Name)

	sc, err = Open("demo", calls)
	require.NoError(t, err)
	assert.Equal(t, "demo+mycalls", sc.Name)
	require.Len(t, sc.Calls, 1)
	assert.Equal(t, calls, sc.Calls[0].Source)

	_, err = Open(calls) // on its own, the calls lead nowhere
	checkErrs(t, "Open(calls)", err, []string{calls + ":calls:1: call to 101@from-trunk: no context [from-trunk]"})

	_, err = Open("demo", bad)
	checkErrs(t, "Open(demo, bad)", err, []string{bad + ":calls:1: call to 999@from-trunk: no extension matches 999 in [from-trunk]"})

	_, err = Open("nosuch")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = Open()
	assert.Error(t, err)
}

func TestMerge(t *testing.T) {
	demo := Demo()
	extra, err := ParseFragment("extra.txtar", archive(
		fileExtensions, "[astcti-service-busy]\nexten => 104,1,Dial(SIP/207,10)\n[astcti-service]\nexten => 106,1,Hangup()",
		filePhones, "SIP/201 busy\nSIP/207 answers at once",
		fileCalls, "at 1s from <200> to 104@from-trunk",
		fileTraffic, "rate 1/min to 102@from-trunk from 1 patience 1s",
	))
	require.NoError(t, err)
	calls, err := ParseFragment("calls.txtar", archive(fileCalls, "at 2s from <300> to 103@from-trunk", fileExpect, "100 OK\n"))
	require.NoError(t, err)

	m, err := Merge(demo, extra, calls)
	require.NoError(t, err)
	assert.Equal(t, "demo+extra+calls", m.Name)
	assert.True(t, strings.HasPrefix(m.Comment, demo.Comment))
	// Contexts are merged extension by extension; an extension is replaced
	// whole.
	busy := m.Contexts["astcti-service-busy"]
	assert.Equal(t, []string{"104"}, busy.Order)
	require.Len(t, busy.Extens["104"], 1)
	assert.Equal(t, "Dial(SIP/207,10)", busy.Extens["104"][0].App+"("+busy.Extens["104"][0].AppData(",")+")")
	assert.Equal(t, "demo.txtar", busy.Source)
	assert.Equal(t, "extra.txtar", busy.sourceOf("104"))
	assert.Equal(t, []string{"101", "103", "106"}, m.Contexts["astcti-service"].Order)
	assert.Equal(t, "demo.txtar", m.Contexts["from-trunk"].Source)
	assert.Equal(t, Busy, m.Phones["SIP/201"].Behaviour)
	assert.Equal(t, NeverAnswers, m.Phones["SIP/202"].Behaviour)
	assert.Contains(t, m.Phones, "SIP/207")
	require.Len(t, m.Calls, 2)
	assert.Equal(t, "104", m.Calls[0].Exten)
	assert.Equal(t, "103", m.Calls[1].Exten)
	require.NotNil(t, m.Traffic)
	assert.Equal(t, "extra.txtar", m.Traffic.Source)
	assert.Equal(t, "100 OK\n", m.Expect)

	// The scenarios merged are not changed.
	assert.Equal(t, Demo(), demo)
	m.Contexts["from-trunk"].Extens["101"][0].Args[0] = "changed"
	assert.Equal(t, "astcti-service", demo.Contexts["from-trunk"].Extens["101"][0].Args[0])

	// The result is checked, and the errors name the file each part came
	// from.
	broken, err := ParseFragment("broken.txtar", archive(fileExtensions, "[from-trunk]\nexten => 103,1,Goto(nosuch,1,1)"))
	require.NoError(t, err)
	_, err = Merge(demo, broken)
	checkErrs(t, "Merge", err, []string{"broken.txtar:extensions.conf:2: Goto: no context [nosuch]"})
	lost, err := ParseFragment("lost.txtar", archive(fileCalls, "at 2s from <300> to 999@from-trunk"))
	require.NoError(t, err)
	_, err = Merge(demo, lost)
	checkErrs(t, "Merge", err, []string{"lost.txtar:calls:1: call to 999@from-trunk: no extension matches 999 in [from-trunk]"})

	empty, err := Merge()
	require.NoError(t, err)
	assert.Empty(t, empty.Contexts)
	one, err := Merge(nil, demo)
	require.NoError(t, err)
	assert.Equal(t, demo, one)
}

func TestClone(t *testing.T) {
	var nilSc *Scenario
	assert.Nil(t, nilSc.Clone())
	sc, err := Load("traffic")
	require.NoError(t, err)
	c := sc.Clone()
	assert.Equal(t, sc, c)
	c.Traffic.Targets[0].Weight = 99
	c.Queues["astcti-queue"].Members = append(c.Queues["astcti-queue"].Members, Member{Interface: "SIP/1"})
	c.Calls = append(c.Calls, Call{})
	assert.Equal(t, 1, sc.Traffic.Targets[0].Weight)
	assert.Empty(t, sc.Queues["astcti-queue"].Members)
	assert.Empty(t, sc.Calls)
}

func TestPhoneFor(t *testing.T) {
	sc := &Scenario{Phones: map[string]*Phone{"SIP/trunk": {Interface: "SIP/trunk", Behaviour: Busy}}}
	tests := []struct {
		iface string
		want  Phone
	}{
		{"SIP/trunk", Phone{Interface: "SIP/trunk", Behaviour: Busy}},
		{"SIP/trunk/123", Phone{Interface: "SIP/trunk/123", Behaviour: Busy}},
		{"SIP/201", Phone{Interface: "SIP/201", Behaviour: Answers, AnswerAfter: DefaultAnswerAfter}},
		{"weird", Phone{Interface: "weird", Behaviour: Answers, AnswerAfter: DefaultAnswerAfter}},
	}
	for _, tc := range tests {
		if got := sc.PhoneFor(tc.iface); got != tc.want {
			t.Errorf("PhoneFor(%q) = %+v, want %+v", tc.iface, got, tc.want)
		}
	}
}

// TestLibraryOverDemo merges each library file over the demo, as fakeami
// --scenario does: the demo PBX must come out unchanged, plus the calls
// and traffic of the file.
func TestLibraryOverDemo(t *testing.T) {
	scs, err := Library()
	require.NoError(t, err)
	for _, sc := range scs {
		demo := Demo()
		m, err := Merge(demo, sc)
		require.NoError(t, err, sc.Name)
		require.Len(t, m.Contexts, len(demo.Contexts), sc.Name)
		for name, dc := range demo.Contexts {
			mc := m.Contexts[name]
			assert.Equal(t, dc.Order, mc.Order, "%s: [%s]", sc.Name, name)
			for exten, steps := range dc.Extens {
				assert.Equal(t, stripLines(steps), stripLines(mc.Extens[exten]), "%s: %s@%s", sc.Name, exten, name)
			}
		}
		assert.Len(t, m.Queues, len(demo.Queues), sc.Name)
		assert.Len(t, m.Phones, len(demo.Phones), sc.Name)
		assert.Equal(t, sc.Calls, m.Calls, sc.Name)
		assert.Equal(t, sc.Traffic, m.Traffic, sc.Name)
	}
}

func TestLibraryCRLF(t *testing.T) {
	for _, n := range Names() {
		data, err := Source(n)
		require.NoError(t, err)
		want, err := Parse(n, data)
		require.NoError(t, err)
		got, err := Parse(n, []byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s with CRLF line ends", n)
	}
}
