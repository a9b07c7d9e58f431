package scenariotest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/scenarios"
)

func TestParseExpect(t *testing.T) {
	text := `# a comment
seat grace SIP/207
seat ivan SIP/209 paused penalty 1 services support,outbound   # trailing comment
service support-riu context astcti-queue-service-riu queue astcti-queue-riu vars customer_id,order
penalty bob 1
login alice	bob
at 6s login grace
at 1.5s alice PAUSE IN gone to lunch
at 2s alice PAUSE IN => 302 KO not in any queue
at 7s transfer SIP/207 to 208@astcti-internal
run 1m
alice CallerId caller=200 service=sales calldata=12345
modern: alice Link caller=200   service=sales calldata=12345 action=browser
1.4: alice Hangup caller=200 service=sales name="Demo 1"
ivan OriginateResponse exten=203 response=Failure reason=5
`
	e, err := ParseExpect(text)
	require.NoError(t, err)
	assert.Equal(t, []SeatDecl{
		{Name: "grace", Interface: "SIP/207", Line: 2},
		{Name: "ivan", Interface: "SIP/209", Paused: true, Penalty: 1, Services: []string{"support", "outbound"}, Line: 3},
	}, e.Seats)
	assert.Equal(t, []ServiceDecl{{Name: "support-riu", Context: "astcti-queue-service-riu", Queue: "astcti-queue-riu", Vars: []string{"customer_id", "order"}, Line: 4}}, e.Services)
	assert.Equal(t, map[string]int{"bob": 1}, e.Penalty)
	assert.Equal(t, []string{"alice", "bob"}, e.Login)
	assert.Equal(t, []Step{
		{At: 6 * time.Second, Kind: StepLogin, Seats: []string{"grace"}, Line: 7},
		{At: 1500 * time.Millisecond, Kind: StepCommand, Seat: "alice", Command: "PAUSE IN gone to lunch", Line: 8},
		{At: 2 * time.Second, Kind: StepCommand, Seat: "alice", Command: "PAUSE IN", Reply: "302 KO not in any queue", Line: 9},
		{At: 7 * time.Second, Kind: StepTransfer, Interface: "SIP/207", Exten: "208", Context: "astcti-internal", Line: 10},
	}, e.Steps)
	assert.Equal(t, time.Minute, e.Run)
	assert.Equal(t, []Line{
		{Seat: "alice", Text: "CallerId caller=200 service=sales calldata=12345", Line: 12},
		{Dialect: "modern", Seat: "alice", Text: "Link caller=200 service=sales calldata=12345 action=browser", Line: 13},
		{Dialect: "1.4", Seat: "alice", Text: `Hangup caller=200 service=sales name="Demo 1"`, Line: 14},
		{Seat: "ivan", Text: "OriginateResponse exten=203 response=Failure reason=5", Line: 15},
	}, e.Lines)
	assert.Equal(t, map[string][]string{
		"alice": {"CallerId caller=200 service=sales calldata=12345", "Link caller=200 service=sales calldata=12345 action=browser"},
		"ivan":  {"OriginateResponse exten=203 response=Failure reason=5"},
	}, e.For("modern"))
	assert.Len(t, e.For("1.4")["alice"], 2)
}

func TestParseExpectErrors(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"seat grace", "expect:1: seat: want NAME INTERFACE"},
		{"seat grace 207", `expect:1: seat: interface "207" is not TECH/resource`},
		{"seat grace SIP/207 penalty", "expect:1: seat: penalty needs a value"},
		{"seat grace SIP/207 penalty -1", `expect:1: seat: bad penalty "-1"`},
		{"seat grace SIP/207 lazy", `expect:1: seat: unknown word "lazy"`},
		{"service riu queue q", "expect:1: service: a service needs a context"},
		{"service riu context c color blue", `expect:1: service: unknown word "color"`},
		{"penalty bob", "expect:1: penalty: want penalty NAME N"},
		{"penalty bob x", "expect:1: penalty: want penalty NAME N"},
		{"login", "expect:1: login: name the operators"},
		{"run", "expect:1: run: want one duration"},
		{"run soon", `expect:1: run: bad duration "soon"`},
		{"at 1s", "expect:1: at: want at DURATION"},
		{"at later alice NOOP", `expect:1: at: bad duration "later"`},
		{"at 1s login", "expect:1: at: login: name the operators"},
		{"at 1s alice", "expect:1: at: alice: what command?"},
		{"at 1s alice => 100 OK", "expect:1: at: alice: what command?"},
		{"at 1s transfer SIP/207 208@x", "expect:1: at: want transfer INTERFACE to EXTEN@CONTEXT"},
		{"at 1s transfer SIP/207 to 208", `expect:1: at: transfer target "208" is not EXTEN@CONTEXT`},
		{"alice", "expect:1: want [DIALECT:] NAME EVENT"},
		{"alice Ring caller=1", `expect:1: unknown event "Ring"`},
		{"2.0: alice Link", `expect:1: unknown dialect "2.0"`},
		{"alice Link caller", `expect:1: "caller" is not key=value`},
		{`alice Link name="Demo 1`, `expect:1: name: bad quoted value`},
		{`alice Link name="Demo"1`, `expect:1: name: text after the quoted value`},
		{"login alice\nalice Ring\nrun x", "expect:2: unknown event \"Ring\""},
	}
	for _, tc := range tests {
		_, err := ParseExpect(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseExpect(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
	// Every problem is reported, each with its line.
	_, err := ParseExpect("login alice\nalice Ring\nrun x")
	require.Error(t, err)
	assert.Equal(t, 2, strings.Count(err.Error(), "expect:"), err.Error())
}

func TestRender(t *testing.T) {
	tests := []struct {
		ev   seatproto.Event
		want string
	}{
		{seatproto.Event{ID: "CallerId", Call: seatproto.Call{
			UniqueID: "1.2", Channel: "SIP/201-00000001", CallerIDNum: "200", Service: "sales",
			AppData: []seatproto.Data{{Key: "calldata", Value: "12345"}, {Key: "other"}}}},
			"CallerId caller=200 service=sales calldata=12345"},
		{seatproto.Event{ID: "Link", Call: seatproto.Call{CallerIDNum: "200", Service: "support",
			AppData: []seatproto.Data{{Key: "order", Value: "A 17"}}},
			Action: &seatproto.Action{Type: "application", Application: "crm"}},
			`Link caller=200 service=support order="A 17" action=application`},
		{seatproto.Event{ID: "Hangup", Call: seatproto.Call{CallerIDNum: ""}}, `Hangup caller="" service=""`},
		{seatproto.Event{ID: "OriginateResponse", Call: seatproto.Call{Exten: "203"},
			Originate: &seatproto.Originate{Response: "Failure", Reason: "5"}},
			"OriginateResponse exten=203 response=Failure reason=5"},
	}
	for _, tc := range tests {
		got := Render(&tc.ev)
		if got != tc.want {
			t.Errorf("Render(%+v) = %q, want %q", tc.ev, got, tc.want)
		}
		// What Render writes, an expect line reads back the same.
		e, err := ParseExpect("alice " + got)
		require.NoError(t, err, got)
		assert.Equal(t, got, e.Lines[0].Text)
	}
}

// TestLibraryExpect checks that every library scenario has an expect file
// that parses.
func TestLibraryExpect(t *testing.T) {
	scs, err := scenarios.Library()
	require.NoError(t, err)
	for _, sc := range scs {
		require.NotEmpty(t, strings.TrimSpace(sc.Expect), "%s has no expect file", sc.Name)
		_, err := ParseExpect(sc.Expect)
		assert.NoError(t, err, sc.Name)
	}
}

func FuzzParseExpect(f *testing.F) {
	for _, n := range scenarios.Names() {
		sc, err := scenarios.Load(n)
		if err == nil {
			f.Add(sc.Expect)
		}
	}
	f.Add(`alice Link name="a \"b\"" x=1`)
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseExpect(text)
		if err != nil {
			return
		}
		// What parses renders back to lines that parse to the same text.
		for _, l := range e.Lines {
			again, err := ParseExpect(l.Seat + " " + l.Text)
			if err != nil {
				t.Fatalf("line %q parsed, its text %q does not: %v", l.Seat, l.Text, err)
			}
			if again.Lines[0].Text != l.Text {
				t.Fatalf("%q reads back as %q", l.Text, again.Lines[0].Text)
			}
		}
	})
}
