package seatclient

import (
	"errors"
	"fmt"

	"github.com/astcti/astcti/cti/seatproto"
)

// Errors of Run and Send. Check them with errors.Is; the typed errors below
// carry the details.
var (
	// ErrLoginRefused is wrapped by the *RefusedError of a login the server
	// refused (USER or PASS answered 101 KO): a wrong password, an unknown
	// or disabled operator, too many failed logins. Retrying does not help.
	ErrLoginRefused = errors.New("login refused")
	// ErrSeatRefused is wrapped by the *RefusedError of a MAC the server
	// refused: no seat has it (unknown seat), or another operator's live
	// session holds its seat (seat in use); and by that of a PASS or
	// RESUME refused with "seat in use": the operator's fixed seat is held
	// by another operator's session. It is never a session taken over
	// (ErrReplaced): the other session was there first.
	ErrSeatRefused = errors.New("seat refused")
	// ErrUnreachable is wrapped by the *UnreachableError Run returns when it
	// could not log in within Config.Retries attempts at start.
	ErrUnreachable = errors.New("server unreachable")
	// ErrReplaced means the server ended the session with
	// "999 KO replaced by a new login": the same operator logged in
	// elsewhere. Run does not reconnect, or the two clients would take the
	// session from each other for ever.
	ErrReplaced = errors.New("replaced by a new login")
	// ErrNotConnected is returned by Send while the client has no session
	// (it is connecting or waiting to reconnect).
	ErrNotConnected = errors.New("seatclient: not connected to the server")
	// ErrStopped is returned by Send once Run has returned, or while the
	// client is leaving (it sent QUIT).
	ErrStopped = errors.New("seatclient: client stopped")
	// ErrProtocol means the server sent something the protocol does not
	// allow where it came (no 100 WELCOME, a malformed status line, an
	// answer of the wrong family). The connection is dropped and retried.
	ErrProtocol = errors.New("seatclient: protocol error")
)

// RefusedError is the server's refusal of the login or of the seat: a
// "101 KO reason" answer to USER, PASS or MAC. It wraps ErrLoginRefused or
// ErrSeatRefused.
type RefusedError struct {
	// Verb is the refused command: seatproto.VerbUser, VerbPass or VerbMAC.
	Verb seatproto.Verb
	// MAC is the address sent, for a refused MAC.
	MAC string
	// Reason is the server's reason ("authentication failed",
	// "unknown seat", "seat in use", …; seatproto.Reason*).
	Reason string
}

func (e *RefusedError) Error() string {
	switch {
	case e.Verb == seatproto.VerbMAC:
		return fmt.Sprintf("seatclient: seat refused for MAC %s: %s", e.MAC, e.Reason)
	case e.Reason == seatproto.ReasonSeatInUse:
		return "seatclient: the operator's fixed seat is in use by another operator"
	}
	return "seatclient: login refused: " + e.Reason
}

func (e *RefusedError) Unwrap() error {
	if e.Verb == seatproto.VerbMAC || e.Reason == seatproto.ReasonSeatInUse {
		return ErrSeatRefused
	}
	return ErrLoginRefused
}

// UnreachableError is Run's error when no attempt at start reached a logged
// in session: Config.Retries attempts failed. It wraps ErrUnreachable and
// the last attempt's error.
type UnreachableError struct {
	Addr     string
	Attempts int
	// Err is the last attempt's error.
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("seatclient: cannot reach the server at %s after %d attempts: %v", e.Addr, e.Attempts, e.Err)
}

func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// ClosedError is a session the server ended with a final status line
// (900 and up) the client did not ask for: "900 OK server shutdown",
// "901 KO keepalive timeout", "905 KO seat removed"… The client
// reconnects, except after 999 (ErrReplaced), which it wraps.
type ClosedError struct {
	Status seatproto.Status
}

func (e *ClosedError) Error() string {
	return "seatclient: the server ended the session: " + e.Status.String()
}

func (e *ClosedError) Unwrap() error {
	if e.Status.Code == seatproto.CodeReplaced {
		return ErrReplaced
	}
	return nil
}
