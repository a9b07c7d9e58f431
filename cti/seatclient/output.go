package seatclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/astcti/astcti/cti/seatproto"
)

// Output prints notes, one line each: readable text (FormatText) or JSON
// (FormatJSON). The answers to the client's own NOOPs are not printed.
// It is safe to call from any goroutine.
type Output struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

// NewOutput returns an Output that writes to w, as JSON lines when
// jsonLines is set.
func NewOutput(w io.Writer, jsonLines bool) *Output {
	return &Output{w: w, json: jsonLines}
}

// Note prints n, unless it is the answer to a keepalive NOOP.
func (o *Output) Note(n Note) error {
	if n.Kind == NoteStatus && n.Keepalive {
		return nil
	}
	var line []byte
	if o.json {
		line = FormatJSON(n)
	} else {
		line = []byte(FormatText(n) + "\n")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := o.w.Write(line)
	return err
}

// FormatText returns n as one readable line, without "\n": the local time,
// then what happened. An event shows its id, the caller's number and name,
// the service and queue, every variable as key=value and the uniqueid:
//
//	15:04:05 Link +390212345 "Demo 1" service=sales calldata=12345 uniqueid=1700000000.12
//
// Values from the outside world (caller ids, variables) are quoted with Go
// escapes when they hold anything but printable characters, so no caller
// can break the line or send escape sequences to the terminal.
func FormatText(n Note) string {
	var b strings.Builder
	b.WriteString(n.Time.Format("15:04:05"))
	b.WriteByte(' ')
	switch n.Kind {
	case NoteConnected:
		fmt.Fprintf(&b, "connected to %s as %s", n.Addr, display(n.User))
		if n.MAC != "" {
			b.WriteString(", MAC " + n.MAC)
		}
	case NoteDisconnected:
		fmt.Fprintf(&b, "disconnected: %v", n.Err)
		switch {
		case n.Attempt == 1:
			b.WriteString(" (1 attempt failed)")
		case n.Attempt > 1:
			fmt.Fprintf(&b, " (%d attempts failed)", n.Attempt)
		}
		fmt.Fprintf(&b, "; next attempt in %v", n.Retry.Round(time.Millisecond))
	case NoteStatus:
		if n.Command != "" {
			b.WriteString(n.Command + ": ")
		}
		b.WriteString(n.Status.String())
		if m := meaning(n.Status, n.Command); m != "" {
			b.WriteString(" (" + m + ")")
		}
	case NoteEvent:
		formatEvent(&b, n.Event)
	case NoteAction:
		formatAction(&b, n.Action)
	default:
		b.WriteString(n.Kind.String())
	}
	return b.String()
}

func formatEvent(b *strings.Builder, ev *seatproto.Event) {
	if ev == nil {
		b.WriteString("event")
		return
	}
	c := &ev.Call
	b.WriteString(display(ev.ID))
	field := func(k, v string) {
		b.WriteString(" " + display(k) + "=" + display(v))
	}
	if ev.Originate != nil {
		field("exten", c.Exten)
		field("context", c.Context)
		field("response", ev.Originate.Response)
		field("reason", ev.Originate.Reason)
		if m := originateReasons[ev.Originate.Reason]; m != "" && ev.Originate.Response != seatproto.OriginateSuccess {
			b.WriteString(" (" + m + ")")
		}
	} else {
		if c.CallerIDNum == "" && c.CallerIDName == "" {
			b.WriteString(" unknown caller")
		} else {
			b.WriteString(" " + display(c.CallerIDNum) + " " + strconv.Quote(c.CallerIDName))
		}
		if c.Service != "" {
			field("service", c.Service)
		}
		if c.Queue != "" {
			field("queue", c.Queue)
		}
		for _, d := range c.AppData {
			field(d.Key, d.Value)
		}
	}
	field("uniqueid", c.UniqueID)
}

// originateReasons explains Asterisk's Reason of a failed Originate
// (include/asterisk/frame.h, the last control frame of the channel).
var originateReasons = map[string]string{
	"0": "failed before ringing", "1": "hung up", "3": "no answer",
	"4": "answered", "5": "busy", "8": "congestion",
}

func formatAction(b *strings.Builder, r *ActionResult) {
	b.WriteString("action: ")
	if r == nil {
		return
	}
	what := r.URL
	if r.Type == seatproto.ActionApplication {
		var w strings.Builder
		w.WriteString(display(r.Program))
		for _, a := range r.Args {
			w.WriteString(" " + display(a))
		}
		what = w.String()
	} else {
		what = display(what)
	}
	switch r.Outcome {
	case Started:
		fmt.Fprintf(b, "started %s (pid %d)", what, r.PID)
	case Opened:
		b.WriteString("opened " + what)
	case Printed:
		b.WriteString("browser " + what + " (not opened)")
	case Skipped:
		b.WriteString("skipped: already performed for call " + display(r.UniqueID))
	default:
		fmt.Fprintf(b, "%v %s %s: %v", r.Outcome, display(r.Type), what, r.Err)
	}
}

// meaning says in words what a status line means, knowing the command it
// answers.
func meaning(st seatproto.Status, cmd string) string {
	verb, _, _ := strings.Cut(cmd, " ")
	switch st.Code {
	case seatproto.CodeOK:
		if verb == "ORIG" {
			return "the PBX is placing the call"
		}
	case seatproto.CodeKO:
		return "refused"
	case seatproto.CodeLoggedIn:
		return "logged in"
	case seatproto.CodeQueue:
		return "joined queue " + display(st.Token) // as the server sent it: control characters quoted
	case seatproto.CodeQueueLeft:
		return "left queue " + display(st.Token)
	case seatproto.CodePauseOK:
		switch {
		case strings.HasPrefix(cmd, "PAUSE IN"):
			return "paused"
		case strings.HasPrefix(cmd, "PAUSE OUT"):
			return "unpaused"
		}
		return "confirmed"
	case seatproto.CodePausePending:
		return "sent to the PBX, waiting for its confirmation"
	case seatproto.CodePauseKO:
		return "failed"
	case seatproto.CodeBye:
		if verb == "QUIT" {
			return "logged out"
		}
		return "the server is stopping"
	case seatproto.CodeKeepaliveTimeout:
		return "the server heard nothing from this client for too long"
	case seatproto.CodeSlowConsumer:
		return "this client read too slowly"
	case seatproto.CodeOperatorDisabled:
		return "this operator was disabled"
	case seatproto.CodeSeatRemoved:
		return "this seat was removed or changed"
	case seatproto.CodeReplaced:
		return "this operator logged in elsewhere"
	}
	return ""
}

// printable returns s with every character that is not printable (a
// control character, a bidirectional override) made a space: a server's
// reason goes into the client's error messages and must not reach the
// terminal raw.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
}

// display returns s as it is when it is non-empty and made of printable
// characters other than space, '"' and '\', and otherwise quoted with Go
// escapes.
func display(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsPrint(r) || r == ' ' || r == '"' || r == '\\'
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// The JSON forms of the notes.
type (
	jsonConnected struct {
		Time   string `json:"time"`
		Type   string `json:"type"`
		Server string `json:"server"`
		User   string `json:"user"`
		MAC    string `json:"mac"`
	}
	jsonDisconnected struct {
		Time      string `json:"time"`
		Type      string `json:"type"`
		Error     string `json:"error"`
		Attempt   int    `json:"attempt"`
		RetryInMS int64  `json:"retry_in_ms"`
	}
	jsonStatus struct {
		Time    string `json:"time"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
		Token   string `json:"token"`
		Text    string `json:"text"`
		Line    string `json:"line"`
		Command string `json:"command,omitempty"`
	}
	jsonEvent struct {
		Time      string         `json:"time"`
		Type      string         `json:"type"`
		Event     string         `json:"event"`
		Call      jsonCall       `json:"call"`
		Originate *jsonOriginate `json:"originate,omitempty"`
		Action    *jsonAction    `json:"action,omitempty"`
	}
	jsonCall struct {
		UniqueID     string            `json:"uniqueid"`
		Channel      string            `json:"channel"`
		CallerIDNum  string            `json:"calleridnum"`
		CallerIDName string            `json:"calleridname"`
		Context      string            `json:"context"`
		Exten        string            `json:"exten"`
		LinkedID     string            `json:"linkedid"`
		Service      string            `json:"service"`
		Queue        string            `json:"queue"`
		Data         map[string]string `json:"data"`
		State        string            `json:"state"`
	}
	jsonOriginate struct {
		Response string `json:"response"`
		Reason   string `json:"reason"`
	}
	jsonAction struct {
		Type        string `json:"type"`
		Application string `json:"application"`
		Parameters  string `json:"parameters"`
	}
	jsonActionResult struct {
		Time       string   `json:"time"`
		Type       string   `json:"type"`
		ActionType string   `json:"action_type"`
		Outcome    string   `json:"outcome"`
		UniqueID   string   `json:"uniqueid"`
		Program    string   `json:"program,omitempty"`
		Args       []string `json:"args,omitempty"`
		URL        string   `json:"url,omitempty"`
		PID        int      `json:"pid,omitempty"`
		Error      string   `json:"error,omitempty"`
	}
)

// FormatJSON returns n as one line of JSON with its "\n". Every line has
// "time" (RFC 3339 with nanoseconds) and "type" (NoteKind.String:
// connected, disconnected, status, event, action); the other fields are
// those of the kind:
//
//	{"time":"…","type":"connected","server":"127.0.0.1:5039","user":"alice","mac":"00:11:22:33:44:01"}
//	{"time":"…","type":"disconnected","error":"…","attempt":1,"retry_in_ms":1000}
//	{"time":"…","type":"status","code":301,"token":"PAUSE","text":"PENDING","line":"301 PAUSE PENDING","command":"PAUSE IN lunch"}
//	{"time":"…","type":"event","event":"Link","call":{"uniqueid":"…",…,"data":{"calldata":"12345"},"state":"Up"},"action":{"type":"browser","application":"http://…","parameters":""}}
//	{"time":"…","type":"action","action_type":"browser","outcome":"printed","uniqueid":"…","url":"http://…"}
//
// A call's variables are the object "data"; "originate" is set on
// OriginateResponse. Characters are not HTML-escaped ("&" stays "&").
func FormatJSON(n Note) []byte {
	t := n.Time.Format(time.RFC3339Nano)
	typ := n.Kind.String()
	var v any
	switch n.Kind {
	case NoteConnected:
		v = jsonConnected{t, typ, n.Addr, n.User, n.MAC}
	case NoteDisconnected:
		errText := ""
		if n.Err != nil {
			errText = n.Err.Error()
		}
		v = jsonDisconnected{t, typ, errText, n.Attempt, n.Retry.Milliseconds()}
	case NoteStatus:
		v = jsonStatus{t, typ, n.Status.Code, n.Status.Token, n.Status.Text, n.Status.String(), n.Command}
	case NoteEvent:
		v = eventJSON(t, typ, n.Event)
	case NoteAction:
		r := n.Action
		if r == nil {
			r = &ActionResult{}
		}
		j := jsonActionResult{Time: t, Type: typ, ActionType: r.Type, Outcome: r.Outcome.String(),
			UniqueID: r.UniqueID, Program: r.Program, Args: r.Args, URL: r.URL, PID: r.PID}
		if r.Err != nil {
			j.Error = r.Err.Error()
		}
		v = j
	default:
		v = struct {
			Time string `json:"time"`
			Type string `json:"type"`
		}{t, typ}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Cannot happen: every field is a string, a number or a map of strings.
		return []byte(`{"time":"` + t + `","type":"error"}` + "\n")
	}
	return buf.Bytes()
}

func eventJSON(t, typ string, ev *seatproto.Event) jsonEvent {
	if ev == nil {
		return jsonEvent{Time: t, Type: typ}
	}
	c := &ev.Call
	j := jsonEvent{Time: t, Type: typ, Event: ev.ID, Call: jsonCall{
		UniqueID: c.UniqueID, Channel: c.Channel, CallerIDNum: c.CallerIDNum, CallerIDName: c.CallerIDName,
		Context: c.Context, Exten: c.Exten, LinkedID: c.LinkedID, Service: c.Service, Queue: c.Queue,
		Data: make(map[string]string, len(c.AppData)), State: c.State,
	}}
	for _, d := range c.AppData {
		j.Call.Data[d.Key] = d.Value
	}
	if o := ev.Originate; o != nil {
		j.Originate = &jsonOriginate{o.Response, o.Reason}
	}
	if a := ev.Action; a != nil {
		j.Action = &jsonAction{a.Type, a.Application, a.Parameters}
	}
	return j
}
