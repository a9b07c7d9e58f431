package ami

import (
	"errors"
	"fmt"
)

// Errors of the Client. Check them with errors.Is: they are wrapped with the
// action or the step that failed ("ami: login: …").
var (
	// ErrDisconnected means the link to Asterisk is down: the action was not
	// sent, or its answer was lost when the connection dropped. Every action
	// pending when a connection ends fails with it.
	ErrDisconnected = errors.New("ami: disconnected")
	// ErrActionTimeout means Asterisk did not answer an action (or did not
	// finish a list) within the action timeout.
	ErrActionTimeout = errors.New("ami: action timed out")
	// ErrQueueFull means the client's bounded send queue was full: the action
	// was refused at once rather than block its caller.
	ErrQueueFull = errors.New("ami: send queue full")
	// ErrAuth means Asterisk refused the login ("Authentication failed").
	ErrAuth = errors.New("ami: authentication failed")
	// ErrActionFailed is wrapped by the *ActionError of an action that
	// Asterisk answered with "Response: Error".
	ErrActionFailed = errors.New("ami: action failed")
	// ErrListTooLong means a list action produced more item events than the
	// client collects for one call.
	ErrListTooLong = errors.New("ami: list too long")
	// ErrPingTimeout means Asterisk did not answer a keepalive Ping in time;
	// the link is taken for dead and closed.
	ErrPingTimeout = errors.New("ami: ping timed out")
	// ErrSlowSubscriber is the error of a subscription closed because its
	// buffer was full when an event had to be delivered: the subscriber
	// fell behind and has missed that event and every later one.
	ErrSlowSubscriber = errors.New("ami: subscriber too slow")
	// ErrRetriesExhausted is wrapped by the error Run returns when every
	// allowed connection attempt failed.
	ErrRetriesExhausted = errors.New("ami: retries exhausted")
	// ErrClosed means the client was shut down (Close, or Run's context
	// ended), or Run was called a second time.
	ErrClosed = errors.New("ami: client closed")
)

// ActionError is the error of an action that Asterisk answered with
// "Response: Error". It wraps ErrActionFailed.
type ActionError struct {
	Action  string // the action's name, e.g. "QueueAdd"
	Message string // Asterisk's Message header, e.g. "Unable to add interface: Already there"
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("ami: %s failed: %s", e.Action, e.Message)
}

func (e *ActionError) Unwrap() error { return ErrActionFailed }
