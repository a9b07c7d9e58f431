package seatproto

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Status codes of server lines. A code of 900 or more ends the session: the
// server closes the connection after that line (Status.Final).
const (
	CodeOK           = 100 // 100 WELCOME on connect; 100 OK to USER, MAC, NOOP, ORIG
	CodeKO           = 101 // 101 KO <reason>: a command failed; the session goes on
	CodeLoggedIn     = 102 // 102 OK: PASS accepted
	CodeToken        = 103 // 103 TOKEN <token>: the answer to TOKEN
	CodeQueue        = 200 // 200 <queue>: the seat is now a member of that queue
	CodeQueueLeft    = 201 // 201 <queue>: a new configuration removed that membership
	CodeQueueRefused = 202 // 202 <queue> <reason>: the PBX refused or did not answer that membership; the server retries
	CodePauseOK      = 300 // 300 OK: pause or unpause confirmed by the PBX
	CodePausePending = 301 // 301 PAUSE PENDING: pause sent to the PBX
	CodePauseKO      = 302 // 302 KO <reason>: pause or unpause failed

	CodeBye              = 900 // 900 OK: answer to QUIT
	CodeKeepaliveTimeout = 901 // 901 KO keepalive timeout
	CodeLoginTimeout     = 902 // 902 KO login timeout
	CodeShutdown         = 900 // 900 OK server shutdown: the server is stopping
	CodeSlowConsumer     = 903 // 903 KO slow consumer
	CodeOperatorDisabled = 904 // 904 KO operator disabled
	CodeSeatRemoved      = 905 // 905 KO seat removed
	CodeTooManyConns     = 906 // 906 KO too many connections [from your address]: instead of 100 WELCOME
	CodeReplaced         = 999 // 999 KO replaced by a new login
)

// Reasons the server gives in KO lines (docs/protocol.md says when). A KO
// line may also carry Asterisk's own message, e.g. the Message of a refused
// Originate. Clients may match these; new ones may appear.
const (
	ReasonUnknownCommand   = "unknown command"
	ReasonLineTooLong      = "line too long"
	ReasonNotAuthenticated = "not authenticated"
	ReasonUserFirst        = "send USER first"
	ReasonAuthFailed       = "authentication failed"
	ReasonTooManyFailures  = "too many failed logins, try later"
	ReasonAlreadyLoggedIn  = "already authenticated"
	ReasonUnknownSeat      = "unknown seat"
	ReasonSeatInUse        = "seat in use"
	ReasonSeatSet          = "seat already set"
	ReasonNoSeat           = "no seat"
	ReasonNotAllowed       = "context not allowed"
	ReasonPending          = "originate pending"
	ReasonRateLimited      = "too many requests"
	ReasonPBXDown          = "pbx unavailable"
	ReasonNoResume         = "resume tokens unavailable"
	ReasonNoQueue          = "not in any queue"
	ReasonNotConfirmed     = "pbx did not confirm"
	ReasonKeepalive        = "keepalive timeout"
	ReasonLoginTimeout     = "login timeout"
	ReasonTooManyConns     = "too many connections"
	ReasonTooManyFromAddr  = "too many connections from your address"
	ReasonShutdown         = "server shutdown"
	ReasonSlowConsumer     = "slow consumer"
	ReasonOperatorDisabled = "operator disabled"
	ReasonSeatRemoved      = "seat removed"
	ReasonReplaced         = "replaced by a new login"
)

// MaxStatusText is the longest Text a status line carries, in bytes;
// AppendStatus cuts a longer one.
const MaxStatusText = 512

// Status is one server status line, "NNN TOKEN [TEXT]": 101 KO unknown
// command is {101, "KO", "unknown command"}, 301 PAUSE PENDING is
// {301, "PAUSE", "PENDING"}, and in 200 astcti-queue the token is the queue.
type Status struct {
	Code  int
	Token string
	Text  string
}

// The status lines of the protocol.

// Welcome returns "100 WELCOME", the first line of every connection.
func Welcome() Status { return Status{CodeOK, "WELCOME", ""} }

// OK returns "100 OK", the answer to a successful USER, MAC, NOOP or ORIG.
func OK() Status { return Status{CodeOK, "OK", ""} }

// KO returns "101 KO reason", the answer to a command that failed.
func KO(reason string) Status { return Status{CodeKO, "KO", reason} }

// LoggedIn returns "102 OK", the answer to an accepted PASS.
func LoggedIn() Status { return Status{CodeLoggedIn, "OK", ""} }

// ResumeToken returns "103 TOKEN token", the answer to TOKEN: the token
// RESUME takes instead of PASS, until it expires.
func ResumeToken(token string) Status { return Status{CodeToken, "TOKEN", token} }

// InQueue returns "200 queue": the seat was added to queue.
func InQueue(queue string) Status { return Status{CodeQueue, queue, ""} }

// LeftQueue returns "201 queue": a new configuration removed the seat from
// queue during the session.
func LeftQueue(queue string) Status { return Status{CodeQueueLeft, queue, ""} }

// QueueRefused returns "202 queue reason": the PBX refused to add the seat
// to queue (reason is its own words), or did not answer (reason
// ReasonNotConfirmed). The server keeps retrying; a "200 queue" follows if
// the PBX accepts it later.
func QueueRefused(queue, reason string) Status { return Status{CodeQueueRefused, queue, reason} }

// PauseOK returns "300 OK": the PBX confirmed a pause or an unpause.
func PauseOK() Status { return Status{CodePauseOK, "OK", ""} }

// PausePending returns "301 PAUSE PENDING": the pause went to the PBX.
func PausePending() Status { return Status{CodePausePending, "PAUSE", "PENDING"} }

// PauseKO returns "302 KO reason": a pause or unpause failed.
func PauseKO(reason string) Status { return Status{CodePauseKO, "KO", reason} }

// Bye returns "900 OK", the answer to QUIT.
func Bye() Status { return Status{CodeBye, "OK", ""} }

// KeepaliveTimeout returns "901 KO keepalive timeout".
func KeepaliveTimeout() Status { return Status{CodeKeepaliveTimeout, "KO", ReasonKeepalive} }

// LoginTimeout returns "902 KO login timeout": the connection did not log
// in within the server's login timeout.
func LoginTimeout() Status { return Status{CodeLoginTimeout, "KO", ReasonLoginTimeout} }

// TooManyConns returns "906 KO too many connections", or with fromAddr
// "906 KO too many connections from your address": the server refuses the
// connection, instead of its 100 WELCOME, because it holds as many as it
// takes in total or from the client's address. The client tries again
// later.
func TooManyConns(fromAddr bool) Status {
	if fromAddr {
		return Status{CodeTooManyConns, "KO", ReasonTooManyFromAddr}
	}
	return Status{CodeTooManyConns, "KO", ReasonTooManyConns}
}

// ServerShutdown returns "900 OK server shutdown": the same code as the
// answer to QUIT, so a client written for AsteriskCTI's older protocol,
// which knows only 900, takes it as the end of the session.
func ServerShutdown() Status { return Status{CodeShutdown, "OK", ReasonShutdown} }

// SlowConsumer returns "903 KO slow consumer".
func SlowConsumer() Status { return Status{CodeSlowConsumer, "KO", ReasonSlowConsumer} }

// OperatorDisabled returns "904 KO operator disabled".
func OperatorDisabled() Status { return Status{CodeOperatorDisabled, "KO", ReasonOperatorDisabled} }

// SeatRemoved returns "905 KO seat removed".
func SeatRemoved() Status { return Status{CodeSeatRemoved, "KO", ReasonSeatRemoved} }

// Replaced returns "999 KO replaced by a new login".
func Replaced() Status { return Status{CodeReplaced, "KO", ReasonReplaced} }

// Final reports whether the server closes the session after s.
func (s Status) Final() bool { return s.Code >= 900 }

// String returns the status line without its "\n".
func (s Status) String() string {
	b := AppendStatus(nil, s)
	return string(b[:len(b)-1])
}

// AppendStatus appends s as one line, with its "\n", to dst. It keeps the
// line one line whatever the fields hold: in Token and Text, invalid UTF-8
// becomes U+FFFD and control characters become spaces; spaces in Token
// become '_'; spaces around Text are dropped, and Text is cut to
// MaxStatusText bytes. A Code outside 100–999 is written as 999.
func AppendStatus(dst []byte, s Status) []byte {
	code := s.Code
	if code < 100 || code > 999 {
		code = 999
	}
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	tok := cleanLine(s.Token, MaxStatusText)
	if tok == "" {
		tok = "-"
	}
	dst = append(dst, strings.ReplaceAll(tok, " ", "_")...)
	if text := cleanLine(s.Text, MaxStatusText); text != "" {
		dst = append(dst, ' ')
		dst = append(dst, text...)
	}
	return append(dst, '\n')
}

// cleanLine makes s fit in one protocol line: valid UTF-8, no control or
// line-separator characters (they become spaces), no spaces around it, at
// most max bytes cut at a character boundary.
func cleanLine(s string, max int) string {
	clean := utf8.ValidString(s) && strings.IndexFunc(s, notTextRune) < 0
	if !clean {
		var b strings.Builder
		for _, r := range s { // invalid bytes come as U+FFFD
			if notTextRune(r) {
				r = ' '
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	s = strings.Trim(s, " ")
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = strings.TrimRight(s[:i], " ")
	}
	return s
}

// ParseStatus parses a server status line, with or without its "\n": three
// digits (100–999), one or more spaces, a token, then optionally spaces and
// a text that runs to the end of the line (spaces around it dropped).
func ParseStatus(line []byte) (Status, error) {
	line = trimEOL(line)
	if len(line) < 5 || !isDigit(line[0]) || line[0] == '0' || !isDigit(line[1]) || !isDigit(line[2]) || line[3] != ' ' {
		return Status{}, fmt.Errorf("%w: %.60q", ErrBadStatus, line)
	}
	i := skipSpaces(line, 4)
	j := nextSpace(line, i)
	if i == j {
		return Status{}, fmt.Errorf("%w: no token: %.60q", ErrBadStatus, line)
	}
	s := Status{
		Code:  int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0'),
		Token: string(line[i:j]),
		Text:  strings.Trim(string(line[j:]), " "),
	}
	return s, nil
}

// IsEvent reports whether a server line is an event (it starts with '<')
// rather than a status line (it starts with a digit).
func IsEvent(line []byte) bool { return len(line) > 0 && line[0] == '<' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
