package cti

import (
	"strings"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// CloseReason says why a seat session ended.
type CloseReason int

const (
	CloseQuit             CloseReason = iota // the seat sent QUIT
	CloseReadError                           // the connection broke or the seat hung up
	CloseKeepalive                           // nothing received within the keepalive timeout
	CloseLineTooLong                         // the seat sent a line over the limit
	CloseTooManyFailures                     // too many failed logins on this connection
	CloseSlowConsumer                        // the seat did not read its notifications
	CloseReplaced                            // the operator logged in again elsewhere
	CloseOperatorDisabled                    // a new configuration disabled or removed the operator
	CloseSeatRemoved                         // a new configuration removed or changed the seat
	CloseSeatInUse                           // the operator's fixed seat is held by another operator's session
	CloseShutdown                            // the server is stopping
	CloseLoginTimeout                        // not logged in within the login timeout

	closeReasonLast = CloseLoginTimeout
)

func (r CloseReason) String() string {
	switch r {
	case CloseQuit:
		return "quit"
	case CloseReadError:
		return "connection closed"
	case CloseKeepalive:
		return "keepalive timeout"
	case CloseLineTooLong:
		return "line too long"
	case CloseTooManyFailures:
		return "too many failed logins"
	case CloseSlowConsumer:
		return "slow consumer"
	case CloseReplaced:
		return "replaced by a new login"
	case CloseOperatorDisabled:
		return "operator disabled"
	case CloseSeatRemoved:
		return "seat removed"
	case CloseSeatInUse:
		return "seat in use"
	case CloseShutdown:
		return "server shutdown"
	case CloseLoginTimeout:
		return "login timeout"
	}
	return "unknown"
}

// label is the reason as a metric label: its String in snake case.
func (r CloseReason) label() string { return strings.ReplaceAll(r.String(), " ", "_") }

// closeReasonLabels are the labels of every reason, for the metrics.
func closeReasonLabels() []string {
	var out []string
	for r := CloseQuit; r <= closeReasonLast; r++ {
		out = append(out, r.label())
	}
	return out
}

// closedSeat is a seat session that ended, as /status shows it.
type closedSeat struct {
	At        time.Time `json:"at"`
	Seat      uint64    `json:"seat"` // the connection's number in the logs (seat=)
	Remote    string    `json:"remote"`
	Operator  string    `json:"operator"`
	Interface string    `json:"interface,omitempty"`
	Reason    string    `json:"reason"`
}

// closedRing keeps the last sessions that ended, overwriting the oldest
// (nats ring.go). Only the hub uses it.
type closedRing struct {
	seats []closedSeat // a ring once full
	next  int          // where the next one goes once full
	size  int
}

func newClosedRing(size int) closedRing { return closedRing{size: size} }

// add records the end of s for reason.
func (r *closedRing) add(s *session, reason CloseReason) {
	c := closedSeat{
		At: time.Now(), Seat: s.conn.id, Remote: s.conn.remote,
		Operator: s.operator, Interface: s.iface, Reason: reason.String(),
	}
	if len(r.seats) < r.size {
		r.seats = append(r.seats, c)
		return
	}
	r.seats[r.next] = c
	r.next = (r.next + 1) % r.size
}

// list returns the sessions kept, newest first.
func (r *closedRing) list() []closedSeat {
	out := make([]closedSeat, 0, len(r.seats))
	for i := range len(r.seats) {
		out = append(out, r.seats[(r.next+len(r.seats)-1-i)%len(r.seats)])
	}
	return out
}

// finalLine is the status line a seat is sent as its session ends for r,
// or false when none is (the connection is gone, or the seat sent QUIT and
// was answered already).
func (r CloseReason) finalLine() (seatproto.Status, bool) {
	switch r {
	case CloseKeepalive:
		return seatproto.KeepaliveTimeout(), true
	case CloseLineTooLong:
		return seatproto.KO(seatproto.ReasonLineTooLong), true
	case CloseTooManyFailures:
		return seatproto.KO(seatproto.ReasonTooManyFailures), true
	case CloseSlowConsumer:
		return seatproto.SlowConsumer(), true
	case CloseReplaced:
		return seatproto.Replaced(), true
	case CloseOperatorDisabled:
		return seatproto.OperatorDisabled(), true
	case CloseSeatRemoved:
		return seatproto.SeatRemoved(), true
	case CloseSeatInUse:
		return seatproto.KO(seatproto.ReasonSeatInUse), true
	case CloseShutdown:
		return seatproto.ServerShutdown(), true
	case CloseQuit:
		return seatproto.Bye(), true
	case CloseLoginTimeout:
		return seatproto.LoginTimeout(), true
	}
	return seatproto.Status{}, false
}
