package seatconn

import (
	"fmt"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// Send writes one command, in the wire form of seatproto.AppendCommand,
// which refuses a command the server would refuse. The write has the
// Options.WriteTimeout deadline. It returns once the line is written, not
// when it is answered. It is safe to call from any goroutine.
func (c *Conn) Send(cmd seatproto.Command) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := seatproto.AppendCommand(c.wbuf[:0], cmd)
	if err != nil {
		return fmt.Errorf("seatconn: %v: %w", cmd.Verb, err)
	}
	c.wbuf = b
	return c.writeLocked(cmd.Verb.String(), b, time.Now().Add(c.writeTimeout))
}

// SendRaw writes line and a "\n" as they are, for tests that send what no
// client should: garbage, long lines, a command in lower case. It is safe
// to call from any goroutine.
func (c *Conn) SendRaw(line string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(append(c.wbuf[:0], line...), '\n')
	return c.writeLocked("raw line", c.wbuf, time.Now().Add(c.writeTimeout))
}

// writeLocked writes b with the given deadline (none if zero). c.wmu must
// be held. what names the line in the error, never its parameters: a
// password must not reach a log.
func (c *Conn) writeLocked(what string, b []byte, deadline time.Time) error {
	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("seatconn: send %s: %w", what, err)
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("seatconn: send %s: %w", what, err)
	}
	return nil
}

// Noop sends NOOP, the keepalive (answered "100 OK").
func (c *Conn) Noop() error { return c.Send(seatproto.Command{Verb: seatproto.VerbNoop}) }

// PauseIn sends "PAUSE IN [reason]" (answered 301, then 300 or 302).
func (c *Conn) PauseIn(reason string) error {
	return c.Send(seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: reason})
}

// PauseOut sends "PAUSE OUT" (answered 300 or 302).
func (c *Conn) PauseOut() error { return c.Send(seatproto.Command{Verb: seatproto.VerbPauseOut}) }

// Orig sends "ORIG exten context priority" (answered 100 or 101, then an
// OriginateResponse event).
func (c *Conn) Orig(exten, context, priority string) error {
	return c.Send(seatproto.Command{Verb: seatproto.VerbOrig, Exten: exten, Context: context, Priority: priority})
}

// RequestToken sends TOKEN (answered "103 TOKEN token", the resume token
// that Resume takes, or "101 KO" when the server has none to give).
func (c *Conn) RequestToken() error { return c.Send(seatproto.Command{Verb: seatproto.VerbToken}) }

// Quit sends QUIT (answered "900 OK", then the server closes).
func (c *Conn) Quit() error { return c.Send(seatproto.Command{Verb: seatproto.VerbQuit}) }
