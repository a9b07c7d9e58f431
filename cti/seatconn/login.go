package seatconn

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// ErrProtocol means the server sent, during the login, a line the
// protocol does not allow there: no "100 WELCOME", or an answer of the
// wrong code.
var ErrProtocol = errors.New("seatconn: protocol error")

// RefusedError is a login command the server answered "101 KO reason".
type RefusedError struct {
	// Verb is the refused command: VerbUser, VerbPass or VerbMAC.
	Verb seatproto.Verb
	// Status is the answer; its Text is the reason (seatproto.Reason*).
	Status seatproto.Status
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("seatconn: %v refused: %s", e.Verb, e.Status.Text)
}

// ClosedError is a final status line (900 and up): the server ends the
// session after it ("900 OK" to QUIT, "901 KO keepalive timeout",
// "999 KO replaced by a new login", …).
type ClosedError struct {
	Status seatproto.Status
}

func (e *ClosedError) Error() string {
	return "seatconn: the server ended the session: " + e.Status.String()
}

// PasswordMD5 returns what PASS sends for password: its MD5 in lower-case
// hex.
func PasswordMD5(password string) string {
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

// LoginResult is what a successful login read.
type LoginResult struct {
	// Answers are the answers to USER, PASS and (when sent) MAC, in order.
	Answers []seatproto.Status
	// Early are the lines that came during the login and answer no
	// command: 200 and 201 lines, events of calls re-popped after login.
	// They own their Raw.
	Early []Message
	// Done is when the last answer was read.
	Done time.Time
}

// Handshake is the login sequence without I/O: the welcome, then USER,
// PASS and MAC (when there is one), each sent once the previous one is
// answered. Conn.Login drives one over the connection; a caller that reads
// the connection itself (a test helper that keeps every line) feeds it the
// lines it reads (Step) and sends the commands it returns.
type Handshake struct {
	steps []step
	next  int // the step whose answer is awaited; -1 while the welcome is
	res   LoginResult
}

type step struct {
	cmd  seatproto.Command
	want int
}

// NewHandshake returns the login of user with the password's MD5
// (lower-case hex) and, when mac is not "", the seat's MAC. It refuses a
// value the server would refuse before anything is sent.
func NewHandshake(user, passwordMD5, mac string) (*Handshake, error) {
	return newHandshake(user, seatproto.Command{Verb: seatproto.VerbPass, Password: passwordMD5}, mac)
}

// NewResumeHandshake is NewHandshake with a resume token (the answer to
// TOKEN, docs/protocol.md) instead of the password: RESUME instead of
// PASS.
func NewResumeHandshake(user, token, mac string) (*Handshake, error) {
	return newHandshake(user, seatproto.Command{Verb: seatproto.VerbResume, Token: token}, mac)
}

func newHandshake(user string, credential seatproto.Command, mac string) (*Handshake, error) {
	h := &Handshake{next: -1, steps: []step{
		{seatproto.Command{Verb: seatproto.VerbUser, User: user}, seatproto.CodeOK},
		{credential, seatproto.CodeLoggedIn},
		{seatproto.Command{Verb: seatproto.VerbMAC, MAC: mac}, seatproto.CodeOK},
	}}
	if mac == "" {
		h.steps = h.steps[:2]
	}
	for _, s := range h.steps {
		if _, err := seatproto.AppendCommand(nil, s.cmd); err != nil {
			return nil, fmt.Errorf("seatconn: login: %w", err)
		}
	}
	return h, nil
}

// Step takes the next line the server sent and returns the command to send
// now, if any (send), and whether the login is over (done; Result then
// holds what it read). A line that answers no command is kept in
// Result().Early, cloned. A "101 KO" answer is a *RefusedError; a final
// status line a *ClosedError; a line that does not belong (no welcome, an
// answer of the wrong code, a malformed status line) wraps ErrProtocol.
// After an error or done, Step must not be called again.
func (h *Handshake) Step(m Message) (cmd seatproto.Command, send, done bool, err error) {
	switch {
	case m.Kind == KindMalformed && !seatproto.IsEvent(m.Raw):
		return cmd, false, false, fmt.Errorf("%w: %w", ErrProtocol, m.Err)
	case m.Kind == KindStatus && m.Status.Final():
		return cmd, false, false, &ClosedError{Status: m.Status}
	case m.Kind != KindStatus || m.Status.Code/100 != 1:
		h.res.Early = append(h.res.Early, m.Clone())
		return cmd, false, false, nil
	}
	st := m.Status
	if h.next < 0 {
		if st.Code != seatproto.CodeOK || !strings.EqualFold(st.Token, "WELCOME") {
			return cmd, false, false, fmt.Errorf("%w: the server said %q instead of 100 WELCOME", ErrProtocol, st.String())
		}
	} else {
		s := h.steps[h.next]
		h.res.Answers = append(h.res.Answers, st)
		switch st.Code {
		case s.want:
		case seatproto.CodeKO:
			return cmd, false, false, &RefusedError{Verb: s.cmd.Verb, Status: st}
		default:
			return cmd, false, false, fmt.Errorf("%w: %v answered %q", ErrProtocol, s.cmd.Verb, st.String())
		}
	}
	h.next++
	if h.next == len(h.steps) {
		h.res.Done = m.At
		return cmd, false, true, nil
	}
	return h.steps[h.next].cmd, true, false, nil
}

// Result returns what the login read so far.
func (h *Handshake) Result() *LoginResult { return &h.res }

// Login reads the server's "100 WELCOME", then sends USER, PASS (the MD5
// of password) and, when mac is not "", MAC, each once the previous one is
// answered. It is LoginMD5 with PasswordMD5(password).
func (c *Conn) Login(ctx context.Context, user, password, mac string) (*LoginResult, error) {
	return c.LoginMD5(ctx, user, PasswordMD5(password), mac)
}

// LoginMD5 is Login with the password's MD5 (lower-case hex) already
// computed; it runs a Handshake over the connection.
//
// ctx bounds the whole login: its deadline is the connection's, and its
// cancellation interrupts a read or write. The errors are Step's, and
// those of reading and writing. After an error the connection should be
// closed.
func (c *Conn) LoginMD5(ctx context.Context, user, passwordMD5, mac string) (*LoginResult, error) {
	h, err := NewHandshake(user, passwordMD5, mac)
	if err != nil {
		return nil, err
	}
	return c.login(ctx, h)
}

// Resume is Login with a resume token instead of the password. A token
// the server no longer takes (expired, the password changed, another
// server's) is a *RefusedError for VerbResume: log in with the password
// then.
func (c *Conn) Resume(ctx context.Context, user, token, mac string) (*LoginResult, error) {
	h, err := NewResumeHandshake(user, token, mac)
	if err != nil {
		return nil, err
	}
	return c.login(ctx, h)
}

// login runs h over the connection, bounded by ctx.
func (c *Conn) login(ctx context.Context, h *Handshake) (*LoginResult, error) {
	// One deadline for the whole login, set once, so that the cancellation
	// below (a deadline in the past) is never overwritten.
	deadline, _ := ctx.Deadline()
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("seatconn: login: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	err := c.handshake(h)
	if !stop() {
		return nil, fmt.Errorf("seatconn: login: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	c.nc.SetDeadline(time.Time{})
	return h.Result(), nil
}

// handshake reads lines and sends h's commands until the login is over.
func (c *Conn) handshake(h *Handshake) error {
	for {
		m, err := c.read()
		var closed *ClosedError
		if err != nil && !errors.As(err, &closed) {
			return fmt.Errorf("seatconn: login: %w", err)
		}
		cmd, send, done, err := h.Step(m)
		switch {
		case err != nil:
			return err
		case done:
			return nil
		case send:
			c.wmu.Lock()
			b, _ := seatproto.AppendCommand(c.wbuf[:0], cmd) // checked by NewHandshake
			c.wbuf = b
			err := c.writeLocked(cmd.Verb.String(), b, time.Time{})
			c.wmu.Unlock()
			if err != nil {
				return fmt.Errorf("seatconn: login: %w", err)
			}
		}
	}
}
