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

// Login reads the server's "100 WELCOME", then sends USER, PASS (the MD5
// of password) and, when mac is not "", MAC, each once the previous one is
// answered. It is LoginMD5 with PasswordMD5(password).
func (c *Conn) Login(ctx context.Context, user, password, mac string) (*LoginResult, error) {
	return c.LoginMD5(ctx, user, PasswordMD5(password), mac)
}

// LoginMD5 is Login with the password's MD5 (lower-case hex) already
// computed.
//
// ctx bounds the whole login: its deadline is the connection's, and its
// cancellation interrupts a read or write. A "101 KO" answer is a
// *RefusedError; a final status line a *ClosedError; a line that does not
// belong (no welcome, an answer of the wrong code, a malformed status)
// wraps ErrProtocol. After an error the connection should be closed.
func (c *Conn) LoginMD5(ctx context.Context, user, passwordMD5, mac string) (*LoginResult, error) {
	steps := []struct {
		cmd  seatproto.Command
		want int
	}{
		{seatproto.Command{Verb: seatproto.VerbUser, User: user}, seatproto.CodeOK},
		{seatproto.Command{Verb: seatproto.VerbPass, Password: passwordMD5}, seatproto.CodeLoggedIn},
		{seatproto.Command{Verb: seatproto.VerbMAC, MAC: mac}, seatproto.CodeOK},
	}
	if mac == "" {
		steps = steps[:2]
	}
	for _, s := range steps { // refuse bad values before anything is sent
		if _, err := seatproto.AppendCommand(nil, s.cmd); err != nil {
			return nil, fmt.Errorf("seatconn: login: %w", err)
		}
	}
	// One deadline for the whole login, set once, so that the cancellation
	// below (a deadline in the past) is never overwritten.
	deadline, _ := ctx.Deadline()
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("seatconn: login: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	res := &LoginResult{}
	err := c.login(res, steps)
	if !stop() {
		return nil, fmt.Errorf("seatconn: login: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	c.nc.SetDeadline(time.Time{})
	return res, nil
}

func (c *Conn) login(res *LoginResult, steps []struct {
	cmd  seatproto.Command
	want int
}) error {
	st, err := c.answer(res)
	if err != nil {
		return fmt.Errorf("seatconn: login: welcome: %w", err)
	}
	if st.Code != seatproto.CodeOK || !strings.EqualFold(st.Token, "WELCOME") {
		return fmt.Errorf("%w: the server said %q instead of 100 WELCOME", ErrProtocol, st.String())
	}
	for _, s := range steps {
		c.wmu.Lock()
		b, _ := seatproto.AppendCommand(c.wbuf[:0], s.cmd) // checked by LoginMD5
		c.wbuf = b
		err := c.writeLocked(s.cmd.Verb.String(), b, time.Time{})
		c.wmu.Unlock()
		if err != nil {
			return fmt.Errorf("seatconn: login: %w", err)
		}
		st, err := c.answer(res)
		if err != nil {
			return fmt.Errorf("seatconn: login: %v: %w", s.cmd.Verb, err)
		}
		res.Answers = append(res.Answers, st)
		switch st.Code {
		case s.want:
		case seatproto.CodeKO:
			return &RefusedError{Verb: s.cmd.Verb, Status: st}
		default:
			return fmt.Errorf("%w: %v answered %q", ErrProtocol, s.cmd.Verb, st.String())
		}
	}
	res.Done = time.Now()
	return nil
}

// answer reads up to the next status line that answers a command (1xx),
// keeping the lines before it in res.Early.
func (c *Conn) answer(res *LoginResult) (seatproto.Status, error) {
	for {
		m, err := c.read()
		if err != nil {
			return seatproto.Status{}, err
		}
		switch {
		case m.Kind == KindMalformed && !seatproto.IsEvent(m.Raw):
			return seatproto.Status{}, fmt.Errorf("%w: %w", ErrProtocol, m.Err)
		case m.Kind == KindStatus && m.Status.Code/100 == 1:
			return m.Status, nil
		}
		res.Early = append(res.Early, m.Clone())
	}
}
