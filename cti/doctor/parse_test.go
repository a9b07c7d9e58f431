package doctor

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The recorded doctor sessions (testdata/ami-lists): the ActionIDs of
// their answers.
const (
	full22 = "asterisk-22.10.1-doctor"
	full14 = "asterisk-1.4.44-doctor"
)

func TestParseManagerShowUser(t *testing.T) {
	all22 := "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,security,message,all"
	tests := []struct {
		name  string
		lines []string
		want  userClasses
		err   error
	}{
		{"22 full (recorded)", output(t, full22, "d-3"), userClasses{Name: "astcti", Read: all22, Write: all22}, nil},
		{"22 limited (recorded)", output(t, full22, "d-4"), userClasses{Name: "astcti-limited", Read: "system,call,agent,user", Write: "system,call,command,agent,user"}, nil},
		{"22 no such (recorded)", output(t, full22, "d-5"), userClasses{}, errNoSuchManager},
		{"1.4 full (recorded)", output(t, full14, "d-3"), userClasses{Name: "astcti", Read: "system,call,log,verbose,command,agent,user,config", Write: "system,call,log,verbose,command,agent,user,config"}, nil},
		{"1.4 limited (recorded)", output(t, full14, "d-4"), userClasses{Name: "astcti-limited", Read: "system,agent,user", Write: "system,call,agent,user,command"}, nil},
		{"1.4 no such (recorded)", output(t, full14, "d-5"), userClasses{}, errNoSuchManager},
		{"1.4 unset", []string{"", "       username: x", "           read: (N/A)", "          write: all"}, userClasses{Name: "x", Write: "all"}, nil},
		{"22 none", []string{"          username: x", "         read perm: <none>", "        write perm: <none>"}, userClasses{Name: "x"}, nil},
		{"garbage", []string{"No such command 'manager show user x'"}, userClasses{}, errors.New("no read and write lines")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseManagerShowUser(tc.lines)
			switch {
			case tc.err == nil:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got, "parseManagerShowUser(%q)", tc.lines)
			case errors.Is(tc.err, errNoSuchManager):
				assert.ErrorIs(t, err, errNoSuchManager)
			default:
				assert.ErrorContains(t, err, tc.err.Error())
			}
		})
	}
}

func TestHasClass(t *testing.T) {
	tests := []struct {
		list, class string
		want        bool
	}{
		{"system,call,agent,user", "call", true},
		{"system,call,agent,user", "dialplan", false},
		{"system, Call", "call", true},
		{"all", "dialplan", true},
		{"", "call", false},
		{"callx", "call", false},
	}
	for _, tc := range tests {
		if got := hasClass(tc.list, tc.class); got != tc.want {
			t.Errorf("hasClass(%q, %q) = %v, want %v", tc.list, tc.class, got, tc.want)
		}
	}
}

func TestGenerationOf(t *testing.T) {
	tests := []struct {
		banner string
		want   generation
		ok     bool
	}{
		{"1.0", gen14, true}, {"1.1", gen18, true}, {"1.3", gen18, true}, {"2.8.0", gen12, true},
		{"9.0.0", gen12, true}, {"11.0.0", gen12, true}, {"x", gen12, false}, {"1.9", gen12, false},
	}
	for _, tc := range tests {
		if g, ok := generationOf(tc.banner); g != tc.want || ok != tc.ok {
			t.Errorf("generationOf(%q) = %v, %v, want %v, %v", tc.banner, g, ok, tc.want, tc.ok)
		}
	}
	assert.Equal(t, "22.10.1", asteriskVersion(output(t, full22, "d-2")))
	assert.Equal(t, "1.4.44", asteriskVersion(output(t, full14, "d-2")))
	assert.True(t, tooOld("1.2.40"))
	assert.False(t, tooOld("1.4.44"))
}

// summary is a dialplan as "ctx: exten prio.App(Data) …" lines, for
// comparing.
func summary(cs []*dpContext) []string {
	var out []string
	for _, c := range cs {
		line := c.Name + ":"
		for _, e := range c.Extens {
			line += " " + e.Name
			for _, p := range e.Prios {
				label := ""
				if p.Label != "" {
					label = "[" + p.Label + "]"
				}
				line += " " + label + strconv.Itoa(p.N) + "." + p.App + "(" + p.Data + ")"
			}
		}
		for _, i := range c.Includes {
			line += " include " + i
		}
		out = append(out, line)
	}
	return out
}

func TestParseDialplanShow(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
		err   error
	}{
		{"22 queue service (recorded)", output(t, full22, "d-21"),
			[]string{"astcti-queue-service: 102 1.Answer() 2.Set(customer_id=98765) 3.Queue(astcti-queue,t,,,60) 4.Hangup()"}, nil},
		{"1.4 queue service (recorded)", output(t, full14, "d-21"),
			[]string{"astcti-queue-service: 102 1.Answer() 2.Set(customer_id=98765) 3.Queue(astcti-queue|t|||60) 4.Hangup()"}, nil},
		{"22 UserEvent (recorded)", output(t, full22, "d-23"),
			[]string{"astcti-queue-service-ue: 105 1.Answer() 2.Read(customer_id,,,,1,10) 3.Read(ordernum,,,,1,10) 4.Set(order=A-${ordernum}) 5.UserEvent(AstCTI,customer_id: ${customer_id},order: ${order}) 6.Queue(astcti-queue,t,,,60) 7.Hangup()"}, nil},
		{"22 exten@context (recorded)", output(t, full22, "d-25"),
			[]string{"phones: 201 1.Ringing() 2.Wait(2) 3.Answer() 4.Wait(5) 5.Hangup()"}, nil},
		{"22 no context (recorded)", output(t, full22, "d-24"), nil, errNoContext},
		{"1.4 no context (recorded)", output(t, full14, "d-24"), nil, errNoContext},
		{"22 no extension (recorded)", output(t, full22, "d-26"), nil, errNoExtension},
		{"1.4 no extension (recorded)", output(t, full14, "d-26"), nil, errNoExtension},
		{"labels, hints, includes, long names", []string{
			"[ Context 'x' created by 'pbx_config' ]",
			"  'a-very-long-extension-name' => 1. NoOp(a) [pbx_config]",
			"     [again]        2. Set(v=(1) [x])                             [extensions.conf:3]",
			"  '_2XX' (CID match '555') => 1. Dial(SIP/${EXTEN})                     [pbx_config]",
			"  '201' =>          hint: SIP/201                                 [pbx_config]",
			"  Include =>        'other'                                       [pbx_config]",
			"  Ignore pattern => '9'                                           [pbx_config]",
			"",
			"[ Included context 'other' created by 'pbx_config' ]",
			"  's' =>            1. Answer()                                   [pbx_config]",
			"-= 4 extensions (4 priorities) in 2 contexts. =-",
		}, []string{"x: a-very-long-extension-name 1.NoOp(a) [again]2.Set(v=(1) [x]) _2XX 1.Dial(SIP/${EXTEN}) 201 include other", "other: s 1.Answer()"}, nil},
		{"no context at all", []string{"No such command 'dialplan show x'"}, nil, errors.New("no context")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDialplanShow(tc.lines)
			switch {
			case tc.err == nil:
				require.NoError(t, err)
				assert.Equal(t, tc.want, summary(got), "parseDialplanShow(%q)", tc.lines)
			case errors.Is(tc.err, errNoContext) || errors.Is(tc.err, errNoExtension):
				assert.ErrorIs(t, err, tc.err)
			default:
				assert.ErrorContains(t, err, tc.err.Error())
			}
		})
	}
}

func TestParseListDialplan(t *testing.T) {
	_, items := recorded(t, full22, "d-17")
	assert.Equal(t, []string{"astcti-queue-service-ue: 105 1.Answer() 2.Read(customer_id,,,,1,10) 3.Read(ordernum,,,,1,10) 4.Set(order=A-${ordernum}) 5.UserEvent(AstCTI,customer_id: ${customer_id},order: ${order}) 6.Queue(astcti-queue,t,,,60) 7.Hangup()"},
		summary(parseListDialplan(items)))
	_, items = recorded(t, full22, "d-16")
	assert.Equal(t, []string{"astcti-service: 101 1.Answer() 2.Set(calldata=12345) 3.Dial(Local/201@phones&Local/202@phones,30) 4.Hangup() 103 1.Answer() 2.Set(calldata=55555) 3.Dial(Local/202@phones&Local/206@phones,15) 4.Hangup()"},
		summary(parseListDialplan(items)))
}

func TestSetsVar(t *testing.T) {
	tests := []struct {
		gen  generation
		app  string
		data string
		want []string
	}{
		{gen12, "Set", "customer_id=98765", []string{"customer_id"}},
		{gen12, "Set", "__customer_id=${CALLERID(num)}", []string{"__customer_id"}},
		{gen12, "Set", "a=1,b=2", []string{"a"}},
		{gen14, "Set", "a=1|b=2|g", []string{"a", "b"}},
		{gen12, "MSet", "a=1,b=${X(1,2)}", []string{"a", "b"}},
		{gen12, "Read", "customer_id,,,,1,10", []string{"customer_id"}},
		{gen14, "Read", "customer_id|enter|10", []string{"customer_id"}},
		{gen12, "ReadExten", "ext,,astcti", []string{"ext"}},
		{gen12, "UserEvent", "AstCTI,customer_id: ${customer_id},order: ${order}", []string{"customer_id", "order"}},
		{gen14, "UserEvent", "AstCTI|customer_id: 1", []string{"customer_id"}},
		{gen12, "Set", "CDR(userfield)=x", nil},
		{gen12, "Set", "${name}=x", nil},
		{gen12, "Answer", "", nil},
		{gen12, "Set", "novalue", nil},
	}
	for _, tc := range tests {
		got := setsVar(dpPriority{App: tc.app, Data: tc.data}, tc.gen)
		if len(got) == 0 {
			got = nil
		}
		assert.Equal(t, tc.want, got, "setsVar(%s(%s))", tc.app, tc.data)
	}
}

func TestFindSetters(t *testing.T) {
	cs, err := parseDialplanShow(output(t, full22, "d-23"))
	require.NoError(t, err)
	ss := findSetters(cs, "Customer_ID", gen12)
	require.Len(t, ss, 2)
	assert.Equal(t, "Read(customer_id,,,,1,10) at 105,2 in astcti-queue-service-ue", ss[0].String())
	assert.Equal(t, "UserEvent", ss[1].App)
	assert.Len(t, findSetters(cs, "_order", gen12), 2, "Set(order=…) and the UserEvent header")
	assert.Empty(t, findSetters(cs, "ticket", gen12))
	assert.True(t, sameVar("__x", "X"))
	assert.False(t, sameVar("x", "xy"))
}

func TestJumpTargets(t *testing.T) {
	c := &dpContext{Name: "in", Extens: []dpExten{{Name: "s", Prios: []dpPriority{
		{App: "Goto", Data: "astcti-service,101,1"},
		{App: "Goto", Data: "101,1"},
		{App: "Goto", Data: "in,s,1"},
		{App: "GotoIf", Data: "$[${X}=1]?sub,s,1:other,s,1"},
		{App: "Gosub", Data: "lookup,s,1(${CALLERID(num)})"},
		{App: "Goto", Data: "${DEST},s,1"},
		{App: "Macro", Data: "crm,1"},
		{App: "ExecIf", Data: "$[1]?Goto(x,s,1)"},
	}}}}
	assert.Equal(t, []string{"astcti-service", "sub", "other", "lookup", "macro-crm"}, jumpTargets(c, gen12))
	c14 := &dpContext{Name: "in", Extens: []dpExten{{Name: "s", Prios: []dpPriority{{App: "Goto", Data: "svc|101|1"}}}}}
	assert.Equal(t, []string{"svc"}, jumpTargets(c14, gen14))
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		sep  byte
		want []string
	}{
		{"a,b,,c", ',', []string{"a", "b", "", "c"}},
		{"a,${F(b,c)},[d,e],{f,g}", ',', []string{"a", "${F(b,c)}", "[d,e]", "{f,g}"}},
		{`"a,b",c`, ',', []string{`"a,b"`, "c"}},
		{`a\,b,c`, ',', []string{`a\,b`, "c"}},
		{"a|b,c", '|', []string{"a", "b,c"}},
		{"", ',', []string{""}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, splitArgs(tc.in, tc.sep), "splitArgs(%q)", tc.in)
	}
}
