package seatproto

import (
	"errors"
	"strings"
)

// Errors of the parsers. Check them with errors.Is: they are wrapped with the
// command or the value that failed.
var (
	// ErrLineTooLong means a line is longer than the bound it was read or
	// parsed with (MaxLineLen for client lines). The server answers
	// "101 KO line too long" and closes the connection: the stream is no
	// longer in step.
	ErrLineTooLong = errors.New("seatproto: line too long")
	// ErrEmptyLine means a client line held nothing but spaces. The server
	// ignores it without an answer.
	ErrEmptyLine = errors.New("seatproto: empty line")
	// ErrUnknownCommand is wrapped by the *ParseError of a line whose first
	// word is no command. The server answers "101 KO unknown command" and
	// the session goes on.
	ErrUnknownCommand = errors.New("seatproto: unknown command")
	// ErrMissingParam is wrapped by the *ParseError of a command that lacks
	// a parameter.
	ErrMissingParam = errors.New("seatproto: missing parameter")
	// ErrTooManyParams is wrapped by the *ParseError of a command with more
	// parameters than it takes.
	ErrTooManyParams = errors.New("seatproto: too many parameters")
	// ErrBadParam is wrapped by the *ParseError of a command with a
	// malformed parameter.
	ErrBadParam = errors.New("seatproto: invalid parameter")
	// ErrBadStatus means a server line is not a status line "NNN TOKEN [TEXT]".
	ErrBadStatus = errors.New("seatproto: malformed status line")
	// ErrBadEvent means a server line is not one well-formed <event> element.
	ErrBadEvent = errors.New("seatproto: malformed event")
	// ErrBadTemplate means an action template has a malformed ${placeholder}
	// or, for an application action, quotes that do not balance.
	ErrBadTemplate = errors.New("seatproto: malformed action template")
	// ErrUnknownPlaceholder means an action template names a value the call
	// does not have.
	ErrUnknownPlaceholder = errors.New("seatproto: unknown placeholder")
	// ErrActionTooLong means an expanded action is longer than MaxActionLen.
	ErrActionTooLong = errors.New("seatproto: expanded action too long")
	// ErrBadParameters means an application's parameter string does not
	// split into arguments: a quote is not closed or a backslash ends it.
	ErrBadParameters = errors.New("seatproto: malformed parameter string")
)

// ParseError is the error of a client line that ParseCommand refuses. It
// wraps ErrUnknownCommand, ErrMissingParam, ErrTooManyParams or ErrBadParam.
type ParseError struct {
	// Command is the command as the client named it, in upper case
	// ("ORIG", "PAUSE", "PAUSE IN"), or "" for an unknown command.
	Command string
	// Reason says what is wrong, in words fit for the client's
	// "101 KO <reason>" line: "missing context", `invalid exten "12a"`.
	Reason string
	// Err is the sentinel the error wraps.
	Err error
}

func (e *ParseError) Error() string {
	if e.Command == "" {
		return "seatproto: " + e.Reason
	}
	return "seatproto: " + e.Command + ": " + e.Reason
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrorReply returns the status line that answers a client line refused with
// err: "302 KO <reason>" for a malformed PAUSE, "101 KO <reason>" for any
// other *ParseError, "101 KO line too long" for ErrLineTooLong. Any other
// error gets "101 KO invalid command".
func ErrorReply(err error) Status {
	var pe *ParseError
	switch {
	case errors.As(err, &pe):
		if strings.HasPrefix(pe.Command, "PAUSE") {
			return PauseKO(pe.Reason)
		}
		return KO(pe.Reason)
	case errors.Is(err, ErrLineTooLong):
		return KO(ReasonLineTooLong)
	default:
		return KO("invalid command")
	}
}
