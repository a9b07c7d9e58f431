package cti

import "github.com/astcti/astcti/cti/seatproto"

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
	CloseShutdown                            // the server is stopping
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
	case CloseShutdown:
		return "server shutdown"
	}
	return "unknown"
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
	case CloseShutdown:
		return seatproto.ServerShutdown(), true
	case CloseQuit:
		return seatproto.Bye(), true
	}
	return seatproto.Status{}, false
}
