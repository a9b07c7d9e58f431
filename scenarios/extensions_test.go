package scenarios

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		name  string
		ext   string
		ctx   string // context to look at
		exten string
		want  []Step
	}{{
		name: "numbered priorities",
		ext: `[c]
exten => 101,1,Answer()
exten => 101,2,Hangup()`,
		ctx: "c", exten: "101",
		want: []Step{{Priority: 1, App: "Answer", Line: 2}, {Priority: 2, App: "Hangup", Line: 3}},
	}, {
		name: "n and same",
		ext: `[c]
exten => 101,1,Answer()
 same => n,Set(calldata=12345)
exten => 101,n,Dial(SIP/201&SIP/202,30)
 same => n,Hangup()`,
		ctx: "c", exten: "101",
		want: []Step{
			{Priority: 1, App: "Answer", Line: 2},
			{Priority: 2, App: "Set", Args: []string{"calldata=12345"}, Line: 3},
			{Priority: 3, App: "Dial", Args: []string{"SIP/201&SIP/202", "30"}, Line: 4},
			{Priority: 4, App: "Hangup", Line: 5},
		},
	}, {
		name: "labels",
		ext: `[c]
exten => 101,1(start),Answer()
 same => n(loop),Wait(1)
 same => n,Goto(loop)`,
		ctx: "c", exten: "101",
		want: []Step{
			{Priority: 1, Label: "start", App: "Answer", Line: 2},
			{Priority: 2, Label: "loop", App: "Wait", Args: []string{"1"}, Line: 3},
			{Priority: 3, App: "Goto", Args: []string{"loop"}, Line: 4},
		},
	}, {
		name: "1.4 pipes and a trailing ;",
		ext: `[c]
exten => 101,1,Queue(astcti-queue|t|||60);
exten => 101,2,UserEvent(AstCTI|customer_id: 4711)`,
		ctx: "c", exten: "101",
		want: []Step{
			{Priority: 1, App: "Queue", Args: []string{"astcti-queue", "t", "", "", "60"}, Line: 2},
			{Priority: 2, App: "UserEvent", Args: []string{"AstCTI", "customer_id: 4711"}, Line: 3},
		},
	}, {
		name: "spaces, case and no parentheses",
		ext: `[c]
exten => 101 , 1 , answer
exten=>101,2,HANGUP()`,
		ctx: "c", exten: "101",
		want: []Step{{Priority: 1, App: "Answer", Line: 2}, {Priority: 2, App: "Hangup", Line: 3}},
	}, {
		name: "Set keeps commas; nested arguments stay whole",
		ext: `[c]
exten => s,1,Set(list=a,b,c)
 same => n,Dial(Local/4711@callers/n,,D(4711#17#))
 same => n,NoOp("a,b" ${CUT(x,-,1)} \, done)
[callers]
exten => 4711,1,Hangup()`,
		ctx: "c", exten: "s",
		want: []Step{
			{Priority: 1, App: "Set", Args: []string{"list=a,b,c"}, Line: 2},
			{Priority: 2, App: "Dial", Args: []string{"Local/4711@callers/n", "", "D(4711#17#)"}, Line: 3},
			{Priority: 3, App: "NoOp", Args: []string{`"a,b" ${CUT(x,-,1)} , done`}, Line: 4},
		},
	}, {
		name: "comments, block comments, escaped ;, hints",
		ext: `; a comment
[c] ; after a header
;-- a block
comment --;
exten => 201,hint,SIP/201
exten => 201,1,NoOp(a\;b) ;-- inline --; ; and a comment
exten => 201,n,Hangup()`,
		ctx: "c", exten: "201",
		want: []Step{
			{Priority: 1, App: "NoOp", Args: []string{"a;b"}, Line: 6},
			{Priority: 2, App: "Hangup", Line: 7},
		},
	}, {
		name: "a context opened twice is merged",
		ext: `[phones]
exten => 201,1,Answer()
[other]
exten => 1,1,Hangup()
[phones]
exten => 201,2,Hangup()`,
		ctx: "phones", exten: "201",
		want: []Step{{Priority: 1, App: "Answer", Line: 2}, {Priority: 2, App: "Hangup", Line: 6}},
	}, {
		name: "patterns",
		ext: `[from-operators]
exten => _2XX,1,Dial(SIP/${EXTEN},30)
 same => n,Hangup()`,
		ctx: "from-operators", exten: "_2XX",
		want: []Step{
			{Priority: 1, App: "Dial", Args: []string{"SIP/${EXTEN}", "30"}, Line: 2},
			{Priority: 2, App: "Hangup", Line: 3},
		},
	}, {
		name: "every application",
		ext: `[general]
static = yes
writeprotect = yes
autofallthrough = yes
[globals]
TRUNK=SIP/trunk
[c]
exten => 1,1,Answer(500)
 same => n,Ringing()
 same => n,Wait(0.5)
 same => n,Playback(hello-world&beep,noanswer)
 same => n,Read(digits,,4,,1,2.5)
 same => n,Busy(10)
 same => n,Hangup(17)
 same => n,Goto(c,1,1)`,
		ctx: "c", exten: "1",
		want: []Step{
			{Priority: 1, App: "Answer", Args: []string{"500"}, Line: 8},
			{Priority: 2, App: "Ringing", Line: 9},
			{Priority: 3, App: "Wait", Args: []string{"0.5"}, Line: 10},
			{Priority: 4, App: "Playback", Args: []string{"hello-world&beep", "noanswer"}, Line: 11},
			{Priority: 5, App: "Read", Args: []string{"digits", "", "4", "", "1", "2.5"}, Line: 12},
			{Priority: 6, App: "Busy", Args: []string{"10"}, Line: 13},
			{Priority: 7, App: "Hangup", Args: []string{"17"}, Line: 14},
			{Priority: 8, App: "Goto", Args: []string{"c", "1", "1"}, Line: 15},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("t", archive(fileExtensions, tc.ext, fileQueues, "[astcti-queue]"))
			require.NoError(t, err)
			c := sc.Contexts[tc.ctx]
			require.NotNil(t, c, "context %s", tc.ctx)
			if got := c.Extens[tc.exten]; !assert.Equal(t, tc.want, got) {
				t.Errorf("Parse(%q) context %s exten %s = %+v, want %+v", tc.ext, tc.ctx, tc.exten, got, tc.want)
			}
		})
	}
}

func TestParseExtensionsDetails(t *testing.T) {
	sc, err := Parse("dir/t.txtar", archive(fileExtensions, `[globals]
TRUNK = SIP/trunk
[b]
exten => 2,1,Hangup()
exten => _X.,1,Hangup()
exten => 1,1,Hangup()
[a]
`))
	require.NoError(t, err)
	assert.Equal(t, "t", sc.Name)
	assert.Equal(t, map[string]string{"TRUNK": "SIP/trunk"}, sc.Globals)
	assert.Equal(t, []string{"2", "_X.", "1"}, sc.Contexts["b"].Order)
	assert.Equal(t, 3, sc.Contexts["b"].Line)
	assert.Equal(t, "dir/t.txtar", sc.Contexts["b"].Source)
	assert.Empty(t, sc.Contexts["a"].Extens)
	assert.Equal(t, "test", sc.Comment)
}

// TestParseErrors lists every problem the parser and Validate find, with
// the position each is reported at.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		ar   []byte
		want []string
	}{
		// extensions.conf, syntax
		{"unknown application", archive(fileExtensions, "[c]\nexten => 1,1,Foo(x)\n same => n,Hangup()"),
			[]string{"t:extensions.conf:2: unknown application Foo (the fake PBX runs Answer, Busy, Dial"}},
		{"include", archive(fileExtensions, "[c]\ninclude => other"),
			[]string{"t:extensions.conf:2: include => other is not supported by the fake PBX: copy the extensions of [other] into [c]"}},
		{"switch", archive(fileExtensions, "[c]\nswitch => IAX2/box"),
			[]string{"t:extensions.conf:2: switch => is not supported"}},
		{"#include", archive(fileExtensions, "#include other.conf\n[c]"),
			[]string{"t:extensions.conf:1: #include is not supported"}},
		{"outside a context", archive(fileExtensions, "exten => 1,1,Hangup()"),
			[]string{`t:extensions.conf:1: "exten => 1,1,Hangup()" is outside any [context]`}},
		{"bad header", archive(fileExtensions, "[c\nexten => 1,1,Hangup()"),
			[]string{`t:extensions.conf:1: section header "[c" has no closing ]`}},
		{"template header", archive(fileExtensions, "[c](!)\nexten => 1,1,Hangup()"),
			[]string{"t:extensions.conf:1: [c](!): context templates and options are not supported"}},
		{"unknown [general] key", archive(fileExtensions, "[general]\nfoo = bar"),
			[]string{`t:extensions.conf:2: unknown [general] setting "foo"`}},
		{"unknown line", archive(fileExtensions, "[c]\nfoo => bar"),
			[]string{`t:extensions.conf:2: unknown line "foo" in [c]`}},
		{"no arrow", archive(fileExtensions, "[c]\nexten 1,1,Hangup()"),
			[]string{`t:extensions.conf:2: expected "exten => …" or "same => …"`}},
		{"same first", archive(fileExtensions, "[c]\nsame => n,Hangup()"),
			[]string{"t:extensions.conf:2: same => needs an exten => line before it in [c]"}},
		{"same after a new header", archive(fileExtensions, "[c]\nexten => 1,1,Answer()\n[d]\nsame => n,Hangup()"),
			[]string{"t:extensions.conf:4: same => needs an exten => line before it in [d]"}},
		{"exten without priority", archive(fileExtensions, "[c]\nexten => 101"),
			[]string{`t:extensions.conf:2: exten => needs extension,priority,application, not "101"`}},
		{"exten without application", archive(fileExtensions, "[c]\nexten => 101,1"),
			[]string{`t:extensions.conf:2: extension 101 needs priority,application`}},
		{"empty extension", archive(fileExtensions, "[c]\nexten => ,1,Hangup()"),
			[]string{"t:extensions.conf:2: empty extension"}},
		{"first priority not 1", archive(fileExtensions, "[c]\nexten => 101,2,Hangup()"),
			[]string{"t:extensions.conf:2: the first priority of extension 101 must be 1, not 2"}},
		{"first priority n", archive(fileExtensions, "[c]\nexten => 101,n,Hangup()"),
			[]string{"t:extensions.conf:2: the first priority of extension 101 must be 1, not n"}},
		{"duplicate priority", archive(fileExtensions, "[c]\nexten => 101,1,Answer()\nexten => 101,1,Hangup()"),
			[]string{"t:extensions.conf:3: priority 1 of extension 101 is already defined at line 2"}},
		{"gap", archive(fileExtensions, "[c]\nexten => 101,1,Answer()\nexten => 101,3,Hangup()"),
			[]string{"t:extensions.conf:3: priority 3 of extension 101 follows priority 1: Asterisk would end the call at the gap"}},
		{"bad priority", archive(fileExtensions, "[c]\nexten => 101,x,Hangup()"),
			[]string{`t:extensions.conf:2: bad priority "x" of extension 101`}},
		{"duplicate label", archive(fileExtensions, "[c]\nexten => 101,1(a),Answer()\n same => n(a),Hangup()"),
			[]string{`t:extensions.conf:3: label "a" of extension 101 is already used at line 2`}},
		{"bad label", archive(fileExtensions, "[c]\nexten => 101,n(,Answer()"),
			[]string{`t:extensions.conf:2: bad priority label "n("`}},
		{"caller id match", archive(fileExtensions, "[c]\nexten => 101/200,1,Hangup()"),
			[]string{"t:extensions.conf:2: extension 101/200: caller id matching"}},
		{"unclosed [ in pattern", archive(fileExtensions, "[c]\nexten => _[12,1,Hangup()"),
			[]string{"t:extensions.conf:2: extension _[12: [ without ] in pattern"}},
		{"text after . in pattern", archive(fileExtensions, "[c]\nexten => _X.1,1,Hangup()"),
			[]string{`t:extensions.conf:2: extension _X.1: nothing may follow '.' in a pattern`}},
		{"empty pattern", archive(fileExtensions, "[c]\nexten => _,1,Hangup()"),
			[]string{"t:extensions.conf:2: extension _: empty pattern"}},
		{"missing )", archive(fileExtensions, "[c]\nexten => 1,1,Dial(SIP/201"),
			[]string{`t:extensions.conf:2: missing ) at the end of "Dial(SIP/201"`}},
		{"old App,args syntax", archive(fileExtensions, "[c]\nexten => 1,1,Dial,SIP/201"),
			[]string{"t:extensions.conf:2: write Dial(SIP/201), not Dial,SIP/201"}},
		{"too many arguments", archive(fileExtensions, "[c]\nexten => 1,1,Ringing(x)\n same => n,Wait(1,2)"),
			[]string{"t:extensions.conf:2: Ringing takes at most 0 argument(s), not 1",
				"t:extensions.conf:3: Wait takes at most 1 argument(s), not 2"}},
		{"Set", archive(fileExtensions, "[c]\nexten => 1,1,Set(x)\n same => n,Set(=1)\n same => n,Set()"),
			[]string{`t:extensions.conf:2: Set: needs name=value, not "x"`,
				`t:extensions.conf:3: Set: needs name=value, not "=1"`,
				`t:extensions.conf:4: Set: needs name=value, not ""`}},
		{"Dial", archive(fileExtensions, "[c]\nexten => 1,1,Dial(201)\n same => n,Dial(SIP/201,abc)\n same => n,Dial()\n same => n,Dial(SIP/201&,5)"),
			[]string{`t:extensions.conf:2: Dial: "201" is not an interface like SIP/201`,
				`t:extensions.conf:3: Dial: timeout: "abc" is not a whole number of seconds`,
				`t:extensions.conf:4: Dial: needs an interface, as in Dial(SIP/201)`,
				`t:extensions.conf:5: Dial: "" is not an interface like SIP/201`}},
		{"Queue", archive(fileExtensions, "[c]\nexten => 1,1,Queue()\n same => n,Queue(q,t,,,soon)", fileQueues, "[q]"),
			[]string{"t:extensions.conf:2: Queue: needs a queue name",
				`t:extensions.conf:3: Queue: timeout: "soon" is not a whole number of seconds`}},
		{"Goto", archive(fileExtensions, "[c]\nexten => 1,1,Goto()\n same => n,Goto(c,1,0)\n same => n,Goto(a,b,c,d)\n same => n,Goto(c,,1)"),
			[]string{"t:extensions.conf:2: Goto: takes [[context,]exten,]priority",
				`t:extensions.conf:3: Goto: bad priority "0"`,
				"t:extensions.conf:4: Goto takes at most 3 argument(s), not 4",
				"t:extensions.conf:5: Goto: empty argument"}},
		{"Read", archive(fileExtensions, "[c]\nexten => 1,1,Read(,,5)\n same => n,Read(x,,999)\n same => n,Read(x,,,,y)\n same => n,Read(x,,,,,z)"),
			[]string{"t:extensions.conf:2: Read: needs a variable name",
				`t:extensions.conf:3: Read: maxdigits "999" is not a number from 0 to 255`,
				`t:extensions.conf:4: Read: attempts: "y" is not a whole number >= 0`,
				`t:extensions.conf:5: Read: timeout: "z" is not a number of seconds`}},
		{"UserEvent", archive(fileExtensions, "[c]\nexten => 1,1,UserEvent()\n same => n,UserEvent(AstCTI,customer_id)\n same => n,UserEvent(AstCTI,: x)"),
			[]string{"t:extensions.conf:2: UserEvent: needs an event name",
				`t:extensions.conf:3: UserEvent: "customer_id" is not a "key: value" header`,
				`t:extensions.conf:4: UserEvent: ": x" is not a "key: value" header`}},
		{"Wait", archive(fileExtensions, "[c]\nexten => 1,1,Wait()\n same => n,Wait(-1)\n same => n,Wait(soon)"),
			[]string{"t:extensions.conf:2: Wait: needs a number of seconds",
				`t:extensions.conf:3: Wait: duration: "-1" is not a number of seconds`,
				`t:extensions.conf:4: Wait: duration: "soon" is not a number of seconds`}},
		{"Playback, Hangup, Answer, Busy", archive(fileExtensions, "[c]\nexten => 1,1,Playback()\n same => n,Hangup(x)\n same => n,Answer(-5)\n same => n,Busy(y)"),
			[]string{"t:extensions.conf:2: Playback: needs a file name",
				`t:extensions.conf:3: Hangup: cause: "x" is not a whole number >= 0`,
				`t:extensions.conf:4: Answer: delay (ms): "-5" is not a whole number >= 0`,
				`t:extensions.conf:5: Busy: timeout (s): "y" is not a whole number >= 0`}},
		{"unterminated block comment", archive(fileExtensions, "[c]\n;-- never\nclosed"),
			[]string{"t:extensions.conf:2: a ;-- comment is never closed with --;"}},

		// extensions.conf, references
		{"Queue of an unknown queue", archive(fileExtensions, "[c]\nexten => 1,1,Queue(nosuch,t,,,60)", fileQueues, "[q]"),
			[]string{"t:extensions.conf:2: Queue: no queue [nosuch] in queues.conf (queues: q)"}},
		{"Queue with no queues.conf", archive(fileExtensions, "[c]\nexten => 1,1,Queue(q)"),
			[]string{"t:extensions.conf:2: Queue: no queue [q] in queues.conf (there are no queues)"}},
		{"Goto to a missing context", archive(fileExtensions, "[c]\nexten => 1,1,Goto(nosuch,1,1)"),
			[]string{"t:extensions.conf:2: Goto: no context [nosuch] (contexts: c)"}},
		{"Goto to a missing extension", archive(fileExtensions, "[c]\nexten => 1,1,Goto(c,2,1)\n[d]\nexten => 5,1,Goto(6,1)"),
			[]string{"t:extensions.conf:2: Goto: no extension 2 in [c] (extensions: 1)",
				"t:extensions.conf:4: Goto: no extension 6 in [d] (extensions: 5)"}},
		{"Goto to a missing priority or label", archive(fileExtensions, "[c]\nexten => 1,1,Goto(c,1,7)\n same => n,Goto(nolabel)"),
			[]string{"t:extensions.conf:2: Goto: no priority 7 in 1@c",
				"t:extensions.conf:3: Goto: no priority nolabel in c"}},
		{"Dial of a Local channel to nowhere", archive(fileExtensions, "[c]\nexten => 1,1,Dial(Local/201@phones/n&SIP/202)\n same => n,Dial(Local/201)"),
			[]string{"t:extensions.conf:2: Dial: Local/201@phones/n: no context [phones] in extensions.conf (contexts: c)",
				"t:extensions.conf:3: Dial: Local/201: a Local channel needs exten@context"}},

		// queues.conf
		{"unknown queue setting", archive(fileQueues, "[q]\nstrategy = ringall\ncolour = blue"),
			[]string{`t:queues.conf:3: unknown queues.conf setting "colour"`}},
		{"unknown queue [general] setting", archive(fileQueues, "[general]\npersistentmembers = no\nfoo = 1"),
			[]string{`t:queues.conf:3: unknown [general] setting "foo"`}},
		{"bad strategy", archive(fileQueues, "[q]\nstrategy = wrandom"),
			[]string{`t:queues.conf:2: unknown strategy "wrandom" (the fake PBX runs ringall, leastrecent, fewestcalls, random, rrmemory, linear)`}},
		{"bad numbers", archive(fileQueues, "[q]\ntimeout = 1.5\nretry = x\nwrapuptime = -1"),
			[]string{`t:queues.conf:2: timeout: "1.5" is not a whole number of seconds`,
				`t:queues.conf:3: retry: "x" is not a whole number of seconds`,
				`t:queues.conf:4: wrapuptime: "-1" is not a whole number of seconds`}},
		{"bad ringinuse", archive(fileQueues, "[q]\nringinuse = maybe"),
			[]string{`t:queues.conf:2: ringinuse = "maybe": want yes or no`}},
		{"bad members", archive(fileQueues, "[q]\nmember => 203\nmember => SIP/203,x\nmember => SIP/204\nmember => SIP/204,1"),
			[]string{`t:queues.conf:2: member => "203": want interface[,penalty[,name]]`,
				`t:queues.conf:3: member SIP/203: penalty "x" is not a whole number`,
				`t:queues.conf:5: member SIP/204 is already in [q]`}},
		{"queue defined twice", archive(fileQueues, "[q]\n[q]\nstrategy = nonsense"),
			[]string{"t:queues.conf:2: queue [q] is already defined at line 1"}},
		{"unknown template", archive(fileQueues, "[q](tmpl)"),
			[]string{"t:queues.conf:1: template [tmpl] of [q] is not defined above it"}},
		{"queue line outside", archive(fileQueues, "strategy = ringall"),
			[]string{`t:queues.conf:1: "strategy = ringall" is outside any [queue]`}},
		{"queue line without =", archive(fileQueues, "[q]\nringall"),
			[]string{`t:queues.conf:2: expected "setting = value", not "ringall"`}},
		{"queue member Local to nowhere", archive(fileQueues, "[q]\nmember => Local/201@phones/n"),
			[]string{"t:queues.conf:2: [q] member Local/201@phones/n: no context [phones] in extensions.conf (there are no contexts)"}},

		// phones
		{"duplicate phone", archive(filePhones, "SIP/201 busy\nSIP/201 never answers"),
			[]string{"t:phones:2: phone SIP/201 is already described at line 1"}},
		{"bad interface", archive(filePhones, "201 busy\n\"SIP/201\" busy"),
			[]string{`t:phones:1: "201" is not an interface like SIP/201`,
				`t:phones:2: "SIP/201" is not an interface like SIP/201`}},
		{"answers when?", archive(filePhones, "SIP/201 answers\nSIP/202 answers at 2s\nSIP/203 answers after"),
			[]string{`t:phones:1: say when SIP/201 answers: "answers at once" or "answers after 2s", not the end of the line`,
				`t:phones:2: expected "once", not "2s"`,
				`t:phones:3: answers after needs a duration, like 2s or 500ms`}},
		{"bad durations", archive(filePhones, "SIP/201 answers after 2\nSIP/202 answers at once talks soon\nSIP/203 answers after -1s"),
			[]string{`t:phones:1: bad duration "2": write it like 2s, 500ms or 1m30s`,
				`t:phones:2: bad duration "soon"`,
				`t:phones:3: bad duration "-1s"`}},
		{"talks 0s", archive(filePhones, "SIP/201 answers at once talks 0s"),
			[]string{`t:phones:1: talks 0s: leave "talks" out`}},
		{"phone options twice or unknown", archive(filePhones, "SIP/201 answers at once talks 1s talks 2s\nSIP/202 answers at once loudly\nSIP/203 answers at once without bells"),
			[]string{`t:phones:1: unexpected "talks": after "answers …" may come "talks DURATION" and "without ringing", once each`,
				`t:phones:2: unexpected "loudly"`,
				`t:phones:3: expected "ringing", not "bells"`}},
		{"trailing words", archive(filePhones, "SIP/201 busy today\nSIP/202 never answers ever"),
			[]string{`t:phones:1: unexpected "today" at the end of the line`,
				`t:phones:2: unexpected "ever" at the end of the line`}},
		{"unknown behaviour", archive(filePhones, "SIP/201 rings\nSIP/202 never rings\nSIP/203"),
			[]string{`t:phones:1: a phone "answers at once", "answers after DURATION", "never answers", is "busy" or "unreachable", not "rings"`,
				`t:phones:2: expected "answers", not "rings"`,
				`t:phones:3: a phone "answers at once"`}},
		{"unclosed quote", archive(filePhones, `SIP/201 "busy`),
			[]string{`t:phones:1: a quote " is not closed`}},

		// calls
		{"call missing parts", archive(fileCalls, "at 1s from <200>\nfrom <200> to 1@c"),
			[]string{`t:calls:1: a call line needs "to"`, `t:calls:2: a call line needs "at"`}},
		{"bad callers", archive(fileCalls, "at 1s from \"Demo\" 200 to 1@c\nat 1s from <20 0> to 1@c\nat 1s from Demo to 1@c\nat 1s from to 1@c"),
			[]string{`t:calls:1: after the caller name "Demo" comes <number>`,
				`t:calls:2: bad caller number "<20": want <number>`,
				`t:calls:3: bad caller "Demo"`,
				`t:calls:4: bad caller "to"`}},
		{"bad call targets", archive(fileCalls, "at 1s from <1> to 101\nat 1s from <1> to @c\nat 1s from <1> to 1@"),
			[]string{`t:calls:1: want extension@context, like 101@from-trunk, not "101"`,
				`t:calls:2: want extension@context, like 101@from-trunk, not "@c"`,
				`t:calls:3: want extension@context, like 101@from-trunk, not "1@"`}},
		{"bad call options", archive(fileCalls, "at 1s from <1> to 1@c digits 12x\nat 1s from <1> to 1@c hangs up after 0s\nat 1s from <1> to 1@c hangs up\nat 1s from <1> to 1@c via trunk"),
			[]string{`t:calls:1: digits "12x": want DTMF digits 0-9, *, #, A-D`,
				`t:calls:2: hangs up after 0s: leave it out`,
				`t:calls:3: hangs: expected "up after", not the end of the line`,
				`t:calls:4: "trunk" is not an interface like SIP/201`}},
		{"call clauses twice or unknown", archive(fileCalls, "at 1s at 2s from <1> to 1@c\nat 1s from <1> to 1@c quickly\nat -1s from <1> to 1@c"),
			[]string{`t:calls:1: "at" appears twice in one call line`,
				`t:calls:2: unexpected "quickly" in a call line`,
				`t:calls:3: bad duration "-1s"`}},
		{"call into a missing context", archive(fileCalls, "at 1s from <200> to 101@nosuch"),
			[]string{"t:calls:1: call to 101@nosuch: no context [nosuch] in extensions.conf (there are no contexts)"}},
		{"call into a missing extension", archive(fileExtensions, "[c]\nexten => _2XX,1,Hangup()\nexten => 101,1,Hangup()", fileCalls, "\n\nat 1s from <200> to 301@c"),
			[]string{"t:calls:3: call to 301@c: no extension matches 301 in [c] (extensions: _2XX, 101)"}},

		// traffic
		{"two traffic lines", archive(fileTraffic, "rate 1/min to 1@c from 1 patience 1s\nrate 2/min to 1@c from 1 patience 1s", fileExtensions, "[c]\nexten => 1,1,Hangup()"),
			[]string{"t:traffic:2: only one traffic line per scenario (the first is at line 1)"}},
		{"bad rates", archive(fileTraffic, "rate 12 to 1@c from 1 patience 1s"),
			[]string{`t:traffic:1: bad rate "12": want calls per time, like 12/min, 0.5/s or 300/h`}},
		{"bad range", archive(fileTraffic, "rate 1/min to 1@c from 9-1 patience 1s"),
			[]string{`t:traffic:1: bad caller numbers "9-1": want a range like 7000-7999`}},
		{"bad patience", archive(fileTraffic, "rate 1/min to 1@c from 1 patience 9s-1s"),
			[]string{`t:traffic:1: bad patience "9s-1s": want a range like 20s-90s`}},
		{"bad patience duration", archive(fileTraffic, "rate 1/min to 1@c from 1 patience 9"),
			[]string{`t:traffic:1: patience: bad duration "9"`}},
		{"traffic missing parts", archive(fileTraffic, "rate 1/min to 1@c"),
			[]string{`t:traffic:1: a traffic line needs "from" and "patience"`}},
		{"traffic with no targets", archive(fileTraffic, "rate 1/min to from 1 patience 1s"),
			[]string{`t:traffic:1: "to" needs extension@context targets, not "from"`}},
		{"bad weight and seed", archive(fileTraffic, "rate 1/min to 1@c*0 from 1 patience 1s\n", fileCalls, ""),
			[]string{`t:traffic:1: bad target "1@c*0": want extension@context*weight`}},
		{"bad seed", archive(fileTraffic, "rate 1/min to 1@c from 1 patience 1s seed x"),
			[]string{`t:traffic:1: seed "x" is not a whole number`}},
		{"traffic into a missing extension", archive(fileExtensions, "[c]\nexten => 1,1,Hangup()", fileTraffic, "rate 1/min to 1@c 2@c*3 from 1 patience 1s"),
			[]string{"t:traffic:1: traffic to 2@c: no extension matches 2 in [c] (extensions: 1)"}},

		// the archive
		{"unknown file", archive("sip.conf", "[201]"),
			[]string{`t: unknown file "sip.conf" in the archive`}},
		{"marker without a name", []byte("comment\n-- --\n"),
			[]string{`t: line 2: "-- --" is a file marker without a file name`}},
		{"file twice", archive(filePhones, "SIP/201 busy", filePhones, "SIP/202 busy"),
			[]string{`t: file "phones" appears twice in the archive`}},

		// every problem, in file order
		{"many problems", archive(
			filePhones, "SIP/201 sings",
			fileCalls, "at 1s from <1> to 1@nosuch",
			fileExtensions, "[c]\nexten => 1,1,Foo()\nexten => 2,1,Queue(nosuch)",
		), []string{
			"t:extensions.conf:2: unknown application Foo",
			"t:extensions.conf:3: Queue: no queue [nosuch]",
			`t:phones:1: a phone "answers at once"`,
			"t:calls:1: call to 1@nosuch: no context [nosuch]",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("t", tc.ar)
			assert.Nil(t, sc)
			checkErrs(t, "Parse("+tc.name+")", err, tc.want)
			var e *Error
			if assert.True(t, errors.As(err, &e)) {
				assert.Equal(t, "t", e.Scenario)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Scenario: "s", Msg: "m"}, "s: m"},
		{Error{Scenario: "s", File: "phones", Msg: "m"}, "s:phones: m"},
		{Error{Scenario: "s", File: "phones", Line: 3, Msg: "m"}, "s:phones:3: m"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestParseFragment(t *testing.T) {
	data := archive(fileCalls, "at 1s from <200> to 101@from-trunk")
	_, err := Parse("calls.txtar", data)
	require.Error(t, err)
	sc, err := ParseFragment("calls.txtar", data)
	require.NoError(t, err)
	require.Len(t, sc.Calls, 1)
	_, err = ParseFragment("bad.txtar", archive(filePhones, "SIP/1 nope"))
	checkErrs(t, "ParseFragment", err, []string{`bad.txtar:phones:1: a phone`})
}

func TestParseFile(t *testing.T) {
	_, err := ParseFile("testdata/no-such-file.txtar")
	require.Error(t, err)
	sc, err := ParseFile("demo.txtar")
	require.NoError(t, err)
	assert.Equal(t, "demo", sc.Name)
	assert.Equal(t, "demo.txtar", sc.Phones["SIP/201"].Source)
	assert.Equal(t, 2*time.Second, sc.Phones["SIP/201"].AnswerAfter)
}
