package seatproto

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkEvent is the Link of a queue call answered by a seat whose service
// runs an application.
func linkEvent() *Event {
	return &Event{
		ID: EventLink,
		Call: Call{
			UniqueID:     "1700000000.12",
			Channel:      "SIP/200-0000000a",
			CallerIDNum:  "200",
			CallerIDName: "Demo 1",
			Context:      "astcti-service",
			Exten:        "100",
			LinkedID:     "1700000000.12",
			Service:      "support",
			Queue:        "astcti-queue",
			AppData:      []Data{{"calldata", "12345"}},
			State:        "Up",
		},
		Action: &Action{Type: ActionApplication, Application: "crm", Parameters: "--customer 12345"},
	}
}

func TestAppendEventWire(t *testing.T) {
	const want = `<event id="Link"><call><uniqueid>1700000000.12</uniqueid><channel>SIP/200-0000000a</channel>` +
		`<calleridnum>200</calleridnum><calleridname>Demo 1</calleridname><context>astcti-service</context>` +
		`<exten>100</exten><linkedid>1700000000.12</linkedid><service>support</service><queue>astcti-queue</queue>` +
		`<appdata><data key="calldata">12345</data></appdata><state>Up</state></call>` +
		`<action type="application"><application>crm</application><parameters>--customer 12345</parameters></action></event>` + "\n"
	assert.Equal(t, want, string(AppendEvent(nil, linkEvent())))

	const hangup = `<event id="Hangup"><call><uniqueid>1.2</uniqueid><channel></channel><calleridnum></calleridnum>` +
		`<calleridname></calleridname><context></context><exten></exten><linkedid></linkedid><service></service>` +
		`<queue></queue><appdata></appdata><state></state></call></event>` + "\n"
	assert.Equal(t, hangup, string(AppendEvent(nil, &Event{ID: EventHangup, Call: Call{UniqueID: "1.2"}})))

	orig := &Event{ID: EventOriginateResponse, Call: Call{Channel: "SIP/201", Context: "out", Exten: "5551234"},
		Originate: &Originate{Response: OriginateFailure, Reason: "5"}}
	assert.Contains(t, string(AppendEvent(nil, orig)),
		`<state></state></call><originate><response>Failure</response><reason>5</reason></originate></event>`)
}

func TestEventRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   *Event
	}{
		{"link with action", linkEvent()},
		{"newchannel", &Event{ID: EventNewchannel, Call: Call{UniqueID: "1.1", Channel: "PJSIP/201-00000001", State: "Ring"}}},
		{"callerid", &Event{ID: EventCallerID, Call: Call{UniqueID: "1.1", CallerIDNum: "+390212345", CallerIDName: "Rossi Mario", State: "Ringing"}}},
		{"hangup", &Event{ID: EventHangup, Call: Call{UniqueID: "1.1"}}},
		{"originate success", &Event{ID: EventOriginateResponse,
			Call:      Call{UniqueID: "1.9", Channel: "SIP/201", Context: "out", Exten: "5551234"},
			Originate: &Originate{Response: OriginateSuccess, Reason: "4"}}},
		{"browser action", &Event{ID: EventLink, Call: Call{UniqueID: "1.1"},
			Action: &Action{Type: ActionBrowser, Application: "https://crm.example/?q=a+b&c=%22"}}},
		{"many data", &Event{ID: EventLink, Call: Call{AppData: []Data{{"a", "1"}, {"b", ""}, {"", "x"}, {"a", "2"}}}}},
		{"xml specials", &Event{ID: `<"&'>`, Call: Call{
			CallerIDName: `<script>alert("x")</script> & 'friends'`,
			CallerIDNum:  `]]><event id="Link">`,
			AppData:      []Data{{`k"ey`, `<data key="x">y</data>`}},
		}}},
		{"newlines and tabs", &Event{ID: EventCallerID, Call: Call{
			CallerIDName: "Evil\n<event id=\"Hangup\"/>\r\n100 OK\tx",
			AppData:      []Data{{"k", "line1\nline2\r\n"}},
		}, Action: &Action{Type: ActionApplication, Application: "crm", Parameters: "a\nb"}}},
		{"line separators", &Event{Call: Call{CallerIDName: "a\u2028b\u2029c\u0085d\u007fe\u009f"}}},
		{"unicode", &Event{Call: Call{CallerIDName: "Zoë Ωμέγα 日本 🎧 \uFFFD"}}},
		{"spaces kept", &Event{Call: Call{CallerIDName: "  two  spaces  ", State: " "}}},
		{"empty action", &Event{ID: EventLink, Action: &Action{}}},
		{"empty originate", &Event{ID: EventOriginateResponse, Originate: &Originate{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendEvent(nil, tc.ev)
			assert.Equal(t, 1, bytes.Count(b, []byte("\n")), "AppendEvent(%+v) = %q, not one line", tc.ev, b)
			assert.False(t, bytes.ContainsAny(b[:len(b)-1], "\r\t\u2028\u2029\u0085"), "raw line break in %q", b)
			assert.True(t, IsEvent(b))
			got, err := ParseEvent(b)
			require.NoError(t, err, "ParseEvent(%q)", b)
			assert.Equal(t, tc.ev, got, "ParseEvent(AppendEvent(ev)) of %q", b)
		})
	}
}

func TestEventHostileValues(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"invalid utf8", "caf\xe9 \xff\xfe", "caf\uFFFD \uFFFD\uFFFD"},
		{"truncated rune", "ab\xe2\x82", "ab\uFFFD\uFFFD"},
		{"nul and controls", "a\x00b\x01c\x1bd\x0be\x0cf", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf"},
		{"surrogate", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"non-characters", "\uFFFE\uFFFF", "\uFFFD\uFFFD"},
		{"kept controls", "\t\n\r", "\t\n\r"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Clean(tc.in))
			b := AppendEvent(nil, &Event{ID: EventCallerID, Call: Call{CallerIDName: tc.in}})
			assert.True(t, utf8.Valid(b), "AppendEvent wrote invalid UTF-8: %q", b)
			got, err := ParseEvent(b)
			require.NoError(t, err, "ParseEvent(%q)", b)
			assert.Equal(t, tc.want, got.Call.CallerIDName)
		})
	}
}

// TestEventOtherParser checks the wire with a parser that is not ours:
// encoding/xml's token stream, as a client in another language would read
// the line (character references decoded, nothing normalised).
func TestEventOtherParser(t *testing.T) {
	name := "a\r\nb\tc <&>\"'"
	b := AppendEvent(nil, &Event{ID: EventLink, Call: Call{CallerIDName: name}})
	d := xml.NewDecoder(bytes.NewReader(b))
	var text string
	inName := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inName = tok.Name.Local == "calleridname"
		case xml.CharData:
			if inName {
				text += string(tok)
			}
		case xml.EndElement:
			inName = false
		}
	}
	assert.Equal(t, name, text)
}

func TestEventLimits(t *testing.T) {
	long := strings.Repeat("x", MaxValueLen-1) + "é" // the 2-byte rune crosses the bound
	ev := &Event{ID: EventLink, Call: Call{CallerIDName: long}}
	for i := 0; i < MaxAppData+5; i++ {
		ev.Call.AppData = append(ev.Call.AppData, Data{"k", "v"})
	}
	ev.Action = &Action{Type: ActionApplication, Parameters: strings.Repeat("p", MaxActionLen+10)}
	got, err := ParseEvent(AppendEvent(nil, ev))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("x", MaxValueLen-1), got.Call.CallerIDName)
	assert.Len(t, got.Call.AppData, MaxAppData)
	assert.Len(t, got.Action.Parameters, MaxActionLen)

	// A replacement character counts three bytes against the bound.
	got, err = ParseEvent(AppendEvent(nil, &Event{Call: Call{State: strings.Repeat("a", MaxValueLen-2) + "\x00"}}))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", MaxValueLen-2), got.Call.State)
}

// TestEventWorstCaseLine checks that no event exceeds MaxServerLineLen.
func TestEventWorstCaseLine(t *testing.T) {
	v := strings.Repeat(`"`, 2*MaxValueLen) // each byte is 6 on the wire
	a := strings.Repeat(`"`, 2*MaxActionLen)
	ev := &Event{ID: v, Call: Call{v, v, v, v, v, v, v, v, v, nil, v}, Originate: &Originate{v, v}, Action: &Action{v, a, a}}
	for i := 0; i < MaxAppData; i++ {
		ev.Call.AppData = append(ev.Call.AppData, Data{v, v})
	}
	b := AppendEvent(nil, ev)
	assert.LessOrEqual(t, len(b), MaxServerLineLen)
	t.Logf("worst-case event line: %d bytes", len(b))
}

func TestParseEventErrors(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"empty", ""},
		{"status", "100 OK"},
		{"leading space", ` <event id="Link"></event>`},
		{"other root", `<call></call>`},
		{"unclosed", `<event id="Link"><call>`},
		{"mismatched", `<event id="Link"><call></event></call>`},
		{"trailing garbage", `<event id="Link"></event>x`},
		{"two events", `<event id="Link"></event><event id="Hangup"></event>`},
		{"newline inside", "<event id=\"Link\">\n</event>"},
		{"bad entity", `<event id="Link"><call><state>&nope;</state></call></event>`},
		{"control char ref", `<event id="Link"><call><state>&#x1;</state></call></event>`},
		{"raw control", "<event id=\"Link\"><call><state>\x01</state></call></event>"},
		{"invalid utf8", "<event id=\"Link\"><call><state>\xff</state></call></event>"},
		{"namespaced root", `<x:event xmlns:x="urn:x" id="Link"></x:event>`},
		{"doctype", `<!DOCTYPE event><event id="Link"></event>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tc.line))
			assert.ErrorIs(t, err, ErrBadEvent, "ParseEvent(%q) = %+v, want an error", tc.line, got)
		})
	}
}

func TestParseEventLenient(t *testing.T) {
	// A newer server may add elements and attributes; an older one may
	// leave some out (AsteriskCTI's events have no exten, linkedid…).
	got, err := ParseEvent([]byte(`<event id="Newchannel" v="2"><call><uniqueid>1094154427.10</uniqueid>` +
		`<channel>SIP/101-3f3f </channel><calleridnum>102</calleridnum><calleridname>Demo 2</calleridname>` +
		`<context>asteriskcti-demo</context><appdata><data key=""></data></appdata><state>Ringing</state>` +
		`<future>x</future></call><extra/></event>` + "\r\n"))
	require.NoError(t, err)
	assert.Equal(t, &Event{ID: EventNewchannel, Call: Call{
		UniqueID: "1094154427.10", Channel: "SIP/101-3f3f ", CallerIDNum: "102", CallerIDName: "Demo 2",
		Context: "asteriskcti-demo", AppData: []Data{{"", ""}}, State: "Ringing",
	}}, got)
}

func TestAppendEventReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 4096)
	ev := linkEvent()
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendEvent(buf[:0], ev)
	})
	assert.Zero(t, allocs)
}
