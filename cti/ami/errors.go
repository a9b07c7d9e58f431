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

// RetriesError is the error of Run when Config.Retries connection attempts
// in a row failed. It wraps ErrRetriesExhausted and the last attempt's
// error, and reads "AMI ADDR: N connection attempts failed: LAST".
type RetriesError struct {
	Addr     string // Config.Addr
	Attempts int    // the attempts made, all failed
	Err      error  // the last attempt's error
}

func (e *RetriesError) Error() string {
	attempts := "attempts"
	if e.Attempts == 1 {
		attempts = "attempt"
	}
	return fmt.Sprintf("AMI %s: %d connection %s failed: %v", e.Addr, e.Attempts, attempts, e.Err)
}

func (e *RetriesError) Unwrap() []error { return []error{ErrRetriesExhausted, e.Err} }

// LoginError is the error of a login that Asterisk refused. It wraps
// ErrAuth, and says where the secret came from (Config.SecretFrom), never
// the secret.
type LoginError struct {
	Username   string
	MD5        bool   // the MD5 challenge was used
	SecretFrom string // Config.SecretFrom
	Message    string // Asterisk's Message header, e.g. "Authentication failed"
}

func (e *LoginError) Error() string {
	how := ""
	if e.MD5 {
		how = " with the MD5 challenge"
	}
	from := ""
	if e.SecretFrom != "" {
		from = "secret from " + e.SecretFrom + "; "
	}
	// Asterisk answers the same for a wrong user, a wrong secret and an
	// address outside the user's permit= (main/manager.c authenticate).
	return fmt.Sprintf("login as %q%s refused: %s (%scheck the user's secret, permit= and deny= in manager.conf)",
		e.Username, how, e.Message, from)
}

func (e *LoginError) Unwrap() error { return ErrAuth }
