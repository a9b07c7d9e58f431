package seatclient

import (
	"strconv"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// NoteKind says what a Note is about.
type NoteKind uint8

// The kinds of notes.
const (
	// NoteConnected: the client logged in (Addr, User, MAC).
	NoteConnected NoteKind = iota + 1
	// NoteDisconnected: an attempt failed or the session ended (Err); the
	// client tries again after Retry (Attempt counts the failed attempts
	// in a row).
	NoteDisconnected
	// NoteStatus: a status line from the server (Status), with the
	// command it answers (Command) if any. Keepalive marks the answer to
	// the client's own NOOP.
	NoteStatus
	// NoteEvent: a call event (Event).
	NoteEvent
	// NoteAction: what the client did with a Link's action (Action).
	NoteAction
)

var noteKindNames = [...]string{
	NoteConnected:    "connected",
	NoteDisconnected: "disconnected",
	NoteStatus:       "status",
	NoteEvent:        "event",
	NoteAction:       "action",
}

// String returns the kind as the JSON output names it: "connected",
// "event"…
func (k NoteKind) String() string {
	if int(k) < len(noteKindNames) && noteKindNames[k] != "" {
		return noteKindNames[k]
	}
	return "NoteKind(" + strconv.Itoa(int(k)) + ")"
}

// Note is one thing the client tells its user: a connection change, a
// status line, an event, or an action it performed. Only the fields of
// its Kind are set. Output prints notes as text or JSON lines.
type Note struct {
	Time time.Time
	Kind NoteKind

	// Addr, User and MAC are the server, the operator and the MAC sent
	// ("" when none was sent), on NoteConnected.
	Addr, User, MAC string

	// Err is why the attempt failed or the session ended, Retry the pause
	// before the next attempt and Attempt the number of failed attempts in
	// a row, on NoteDisconnected.
	Err     error
	Retry   time.Duration
	Attempt int

	// Status is the line, Command the command it answers as it was sent
	// ("PAUSE IN lunch"; "" for a line that answers nothing, like
	// "200 queue"), and Keepalive reports an answer to the client's own
	// NOOP, on NoteStatus.
	Status    seatproto.Status
	Command   string
	Keepalive bool

	// Event is the event, on NoteEvent.
	Event *seatproto.Event

	// Action is the outcome of a Link's action, on NoteAction.
	Action *ActionResult
}
