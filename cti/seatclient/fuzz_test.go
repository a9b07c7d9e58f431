package seatclient

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
)

// FuzzNote feeds server lines, as the client reads them (seatconn.Parse),
// to what it shows its user: a status or an event line never panics the
// client, its text form is one line whatever the PBX or the server put in
// it (no caller id can break the line or reach the terminal raw), and its
// JSON form is one valid JSON object.
func FuzzNote(f *testing.F) {
	for _, s := range []string{
		"100 WELCOME", "200 astcti-queue", "202 support no such queue", "301 PAUSE PENDING", "999 KO replaced by a new login",
		`<event id="Link"><call><uniqueid>1700000000.12</uniqueid><channel>SIP/200-0000000a</channel><calleridnum>200</calleridnum>` +
			`<calleridname>Demo&#x202e; 1</calleridname><context>astcti-service</context><exten>100</exten><service>support</service>` +
			`<queue>astcti-queue</queue><appdata><data key="calldata">12&#10;345</data></appdata><state>Up</state></call>` +
			`<action type="application"><application>crm</application><parameters>--customer "12345"</parameters></action></event>`,
		`<event id="Hangup"><call><uniqueid>1700000000.12</uniqueid><state>Down</state></call></event>`,
		`<event id="Newchannel" v="2"><call><uniqueid>1094154427.10</uniqueid></call></event>`, "<event", "<>", "1", "",
	} {
		f.Add([]byte(s))
	}
	at := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line []byte) {
		m := seatconn.Parse(line, at)
		var n Note
		switch m.Kind {
		case seatconn.KindStatus:
			n = Note{Time: at, Kind: NoteStatus, Status: m.Status, Command: "NOOP"}
		case seatconn.KindEvent:
			n = Note{Time: at, Kind: NoteEvent, Event: m.Event}
		default:
			return
		}
		text := FormatText(n)
		if strings.ContainsAny(strings.TrimSuffix(text, "\n"), "\r\n\x1b\u202e") {
			t.Fatalf("FormatText of %q = %q: not one clean line", line, text)
		}
		js := FormatJSON(n)
		var v map[string]any
		if err := json.Unmarshal(js, &v); err != nil {
			t.Fatalf("FormatJSON of %q = %q: %v", line, js, err)
		}
	})
}

// FuzzParseInput feeds the lines a user types: ParseInput never panics,
// and a command it accepts is one the protocol can write (the server
// would parse it back to the same verb).
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{"", "pause", "pause lunch break", "PAUSE\tx", "unpause", "call 201", "call 201 from-internal",
		"call", "call 2 0 1", "quit", "exit now", "help", "?", "call 201\x00", "pause \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		in, err := ParseInput(line, "from-internal")
		if err != nil || in.Kind != InputCommand {
			return
		}
		b, err := seatproto.AppendCommand(nil, in.Command)
		if err != nil {
			t.Fatalf("ParseInput(%q) accepted %+v, which AppendCommand refuses: %v", line, in.Command, err)
		}
		back, err := seatproto.ParseCommand(b)
		if err != nil || back.Verb != in.Command.Verb {
			t.Fatalf("ParseCommand(%q) from ParseInput(%q) = %+v, %v", b, line, back, err)
		}
	})
}

// TestFuzzNoteSeeds checks that FuzzNote's seeds reach both forms: a
// Link event that parses, whose hostile caller name stays on its line.
func TestFuzzNoteSeeds(t *testing.T) {
	line := `<event id="Link"><call><uniqueid>1</uniqueid><calleridname>a&#x202e;&#10;b</calleridname><state>Up</state></call></event>`
	m := seatconn.Parse([]byte(line), time.Time{})
	if m.Kind != seatconn.KindEvent {
		t.Fatalf("Parse(%q) = kind %v, %v; want an event", line, m.Kind, m.Err)
	}
	text := FormatText(Note{Kind: NoteEvent, Event: m.Event})
	if strings.ContainsAny(text, "\n\u202e") {
		t.Fatalf("FormatText = %q", text)
	}
}
