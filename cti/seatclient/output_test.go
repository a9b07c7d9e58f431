package seatclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
)

var noteTime = time.Date(2026, 11, 25, 15, 4, 5, 123456789, time.UTC)

var linkEvent = &seatproto.Event{ID: seatproto.EventLink,
	Call: seatproto.Call{UniqueID: "1700000000.12", Channel: "SIP/201-0000000a", CallerIDNum: "+390212345",
		CallerIDName: "Demo 1", Context: "astcti-service", Exten: "101", LinkedID: "1700000000.12",
		Service: "sales", AppData: []seatproto.Data{{Key: "calldata", Value: "12345"}}, State: "Up"},
	Action: &seatproto.Action{Type: seatproto.ActionBrowser, Application: "http://crm.example/?caller=%2B390212345&data=12345"}}

func TestFormatText(t *testing.T) {
	hostile := &seatproto.Event{ID: seatproto.EventCallerID, Call: seatproto.Call{UniqueID: "1.2",
		CallerIDNum: "555\x1b[2J", CallerIDName: "Evil\nName \"x\"", Service: "support", Queue: "astcti-queue",
		AppData: []seatproto.Data{{Key: "customer_id", Value: "a b"}, {Key: "order", Value: ""}, {Key: "note", Value: "\u202egnp.exe"}}}}
	tests := []struct {
		name string
		note Note
		want string
	}{
		{"connected", Note{Kind: NoteConnected, Addr: "127.0.0.1:5039", User: "alice", MAC: "00:11:22:33:44:01"},
			"15:04:05 connected to 127.0.0.1:5039 as alice, MAC 00:11:22:33:44:01"},
		{"connected without MAC", Note{Kind: NoteConnected, Addr: "cti:5039", User: "alice"},
			"15:04:05 connected to cti:5039 as alice"},
		{"disconnected", Note{Kind: NoteDisconnected, Err: errors.New("seatclient: connection lost: EOF"), Retry: 1500 * time.Millisecond},
			"15:04:05 disconnected: seatclient: connection lost: EOF; next attempt in 1.5s"},
		{"attempt failed", Note{Kind: NoteDisconnected, Err: errors.New("refused"), Retry: 2 * time.Second, Attempt: 3},
			"15:04:05 disconnected: refused (3 attempts failed); next attempt in 2s"},
		{"queue", Note{Kind: NoteStatus, Status: seatproto.InQueue("astcti-queue")},
			"15:04:05 200 astcti-queue (joined queue astcti-queue)"},
		{"queue left", Note{Kind: NoteStatus, Status: seatproto.LeftQueue("astcti-queue")},
			"15:04:05 201 astcti-queue (left queue astcti-queue)"},
		{"queue name with control characters", Note{Kind: NoteStatus, Status: seatproto.InQueue("\r\x1b[2J")},
			`15:04:05 200 [2J (joined queue "\r\x1b[2J")`},
		{"pause pending", Note{Kind: NoteStatus, Status: seatproto.PausePending(), Command: "PAUSE IN lunch"},
			"15:04:05 PAUSE IN lunch: 301 PAUSE PENDING (sent to the PBX, waiting for its confirmation)"},
		{"paused", Note{Kind: NoteStatus, Status: seatproto.PauseOK(), Command: "PAUSE IN lunch"},
			"15:04:05 PAUSE IN lunch: 300 OK (paused)"},
		{"unpaused", Note{Kind: NoteStatus, Status: seatproto.PauseOK(), Command: "PAUSE OUT"},
			"15:04:05 PAUSE OUT: 300 OK (unpaused)"},
		{"pause failed", Note{Kind: NoteStatus, Status: seatproto.PauseKO("not in any queue"), Command: "PAUSE IN"},
			"15:04:05 PAUSE IN: 302 KO not in any queue (failed)"},
		{"orig accepted", Note{Kind: NoteStatus, Status: seatproto.OK(), Command: "ORIG 200 from-operators 1"},
			"15:04:05 ORIG 200 from-operators 1: 100 OK (the PBX is placing the call)"},
		{"orig refused", Note{Kind: NoteStatus, Status: seatproto.KO("context not allowed"), Command: "ORIG 200 x 1"},
			"15:04:05 ORIG 200 x 1: 101 KO context not allowed (refused)"},
		{"bye", Note{Kind: NoteStatus, Status: seatproto.Bye(), Command: "QUIT"},
			"15:04:05 QUIT: 900 OK (logged out)"},
		{"shutdown", Note{Kind: NoteStatus, Status: seatproto.ServerShutdown()},
			"15:04:05 900 OK server shutdown (the server is stopping)"},
		{"replaced", Note{Kind: NoteStatus, Status: seatproto.Replaced()},
			"15:04:05 999 KO replaced by a new login (this operator logged in elsewhere)"},
		{"unknown code", Note{Kind: NoteStatus, Status: seatproto.Status{Code: 555, Token: "NEW", Text: "thing"}},
			"15:04:05 555 NEW thing"},
		{"link", Note{Kind: NoteEvent, Event: linkEvent},
			`15:04:05 Link +390212345 "Demo 1" service=sales calldata=12345 uniqueid=1700000000.12`},
		{"hostile caller", Note{Kind: NoteEvent, Event: hostile},
			`15:04:05 CallerId "555\x1b[2J" "Evil\nName \"x\"" service=support queue=astcti-queue customer_id="a b" order="" note="\u202egnp.exe" uniqueid=1.2`},
		{"unknown caller", Note{Kind: NoteEvent, Event: &seatproto.Event{ID: "Hangup", Call: seatproto.Call{UniqueID: "1.3"}}},
			`15:04:05 Hangup unknown caller uniqueid=1.3`},
		{"originate failed", Note{Kind: NoteEvent, Event: &seatproto.Event{ID: seatproto.EventOriginateResponse,
			Call:      seatproto.Call{Channel: "SIP/201", Context: "from-operators", Exten: "202"},
			Originate: &seatproto.Originate{Response: "Failure", Reason: "5"}}},
			`15:04:05 OriginateResponse exten=202 context=from-operators response=Failure reason=5 (busy) uniqueid=""`},
		{"application started", Note{Kind: NoteAction, Action: &ActionResult{UniqueID: "1.1", Type: "application",
			Program: "crm-lookup", Args: []string{"--customer", "98765", "Rossi Mario", "; rm -rf /"}, Outcome: Started, PID: 4242}},
			`15:04:05 action: started crm-lookup --customer 98765 "Rossi Mario" "; rm -rf /" (pid 4242)`},
		{"browser printed", Note{Kind: NoteAction, Action: &ActionResult{UniqueID: "1.1", Type: "browser",
			URL: "http://crm.example/?caller=%2B390212345&data=12345", Outcome: Printed}},
			`15:04:05 action: browser http://crm.example/?caller=%2B390212345&data=12345 (not opened)`},
		{"browser opened", Note{Kind: NoteAction, Action: &ActionResult{Type: "browser", URL: "https://crm.example/", Outcome: Opened, PID: 7}},
			`15:04:05 action: opened https://crm.example/`},
		{"skipped", Note{Kind: NoteAction, Action: &ActionResult{UniqueID: "1.1", Type: "browser", Outcome: Skipped}},
			`15:04:05 action: skipped: already performed for call 1.1`},
		{"refused", Note{Kind: NoteAction, Action: &ActionResult{Type: "browser", URL: "file:///etc/passwd", Outcome: Refused,
			Err: errors.New("only http and https URLs are opened")}},
			`15:04:05 action: refused browser file:///etc/passwd: only http and https URLs are opened`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.note.Time = noteTime
			assert.Equal(t, tc.want, FormatText(tc.note))
		})
	}
}

func TestFormatJSON(t *testing.T) {
	tests := []struct {
		name string
		note Note
		want string
	}{
		{"connected", Note{Kind: NoteConnected, Addr: "127.0.0.1:5039", User: "alice", MAC: "00:11:22:33:44:01"},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"connected","server":"127.0.0.1:5039","user":"alice","mac":"00:11:22:33:44:01"}`},
		{"disconnected", Note{Kind: NoteDisconnected, Err: errors.New("EOF"), Retry: 1500 * time.Millisecond, Attempt: 2},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"disconnected","error":"EOF","attempt":2,"retry_in_ms":1500}`},
		{"status", Note{Kind: NoteStatus, Status: seatproto.PausePending(), Command: "PAUSE IN lunch"},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"status","code":301,"token":"PAUSE","text":"PENDING","line":"301 PAUSE PENDING","command":"PAUSE IN lunch"}`},
		{"link", Note{Kind: NoteEvent, Event: linkEvent},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"event","event":"Link","call":{"uniqueid":"1700000000.12","channel":"SIP/201-0000000a","calleridnum":"+390212345","calleridname":"Demo 1","context":"astcti-service","exten":"101","linkedid":"1700000000.12","service":"sales","queue":"","data":{"calldata":"12345"},"state":"Up"},"action":{"type":"browser","application":"http://crm.example/?caller=%2B390212345&data=12345","parameters":""}}`},
		{"originate", Note{Kind: NoteEvent, Event: &seatproto.Event{ID: "OriginateResponse",
			Call: seatproto.Call{Channel: "SIP/201"}, Originate: &seatproto.Originate{Response: "Success", Reason: "4"}}},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"event","event":"OriginateResponse","call":{"uniqueid":"","channel":"SIP/201","calleridnum":"","calleridname":"","context":"","exten":"","linkedid":"","service":"","queue":"","data":{},"state":""},"originate":{"response":"Success","reason":"4"}}`},
		{"hostile event", Note{Kind: NoteEvent, Event: &seatproto.Event{ID: "CallerId",
			Call: seatproto.Call{CallerIDName: "a\"b\n</x>&", AppData: []seatproto.Data{{Key: "k", Value: "\x1b"}}}}},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"event","event":"CallerId","call":{"uniqueid":"","channel":"","calleridnum":"","calleridname":"a\"b\n</x>&","context":"","exten":"","linkedid":"","service":"","queue":"","data":{"k":"\u001b"},"state":""}}`},
		{"action", Note{Kind: NoteAction, Action: &ActionResult{UniqueID: "1.1", Type: "application", Program: "crm",
			Args: []string{"--x", "$(id)"}, Outcome: Started, PID: 12}},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"action","action_type":"application","outcome":"started","uniqueid":"1.1","program":"crm","args":["--x","$(id)"],"pid":12}`},
		{"action refused", Note{Kind: NoteAction, Action: &ActionResult{UniqueID: "1.1", Type: "browser", URL: "file:///x",
			Outcome: Refused, Err: errors.New("nope")}},
			`{"time":"2026-11-25T15:04:05.123456789Z","type":"action","action_type":"browser","outcome":"refused","uniqueid":"1.1","url":"file:///x","error":"nope"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.note.Time = noteTime
			got := FormatJSON(tc.note)
			assert.Equal(t, tc.want+"\n", string(got))
			assert.True(t, json.Valid(got))
		})
	}
}

func TestOutputHidesKeepalive(t *testing.T) {
	var buf bytes.Buffer
	o := NewOutput(&buf, false)
	require.NoError(t, o.Note(Note{Time: noteTime, Kind: NoteStatus, Status: seatproto.OK(), Command: "NOOP", Keepalive: true}))
	require.NoError(t, o.Note(Note{Time: noteTime, Kind: NoteStatus, Status: seatproto.OK(), Command: "NOOP"}))
	assert.Equal(t, "15:04:05 NOOP: 100 OK\n", buf.String())
	buf.Reset()
	o = NewOutput(&buf, true)
	require.NoError(t, o.Note(Note{Time: noteTime, Kind: NoteStatus, Status: seatproto.InQueue("q")}))
	assert.Equal(t, `{"time":"2026-11-25T15:04:05.123456789Z","type":"status","code":200,"token":"q","text":"","line":"200 q"}`+"\n", buf.String())
}
