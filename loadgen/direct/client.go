package direct

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// Tunables of a client, in one block so that tests can shrink them.
var (
	// loginTimeout bounds one client's connect, banner and login.
	loginTimeout = 10 * time.Second
	// logoffWait bounds the wait for "Response: Goodbye" at Close; a client
	// that gets none is closed anyway.
	logoffWait = 2 * time.Second
	// writeTimeout bounds the one write of Login and of Logoff.
	writeTimeout = time.Second
	// maxLine and maxPacket bound what one message can make a client hold
	// (the PBX's events are well under a kilobyte).
	maxLine, maxPacket = 8 << 10, 64 << 10
	// maxBeforeLogin bounds the messages read while waiting for the answer
	// to Login.
	maxBeforeLogin = 16
)

// errBadLogin is wrapped by the error of a login the PBX refused.
var errBadLogin = errors.New("login refused")

// client is one mini-CTI: its own manager session with the full event
// stream. Login happens on the goroutine that logs the fleet in; after it,
// one reader goroutine owns the Reader and the linker, and the socket's
// write side is used once more, by Close, for the Logoff.
type client struct {
	phone string
	conn  net.Conn
	r     *ami.Reader
	link  linker

	bytes  atomic.Int64 // bytes read from the socket
	events atomic.Int64 // events read
	ended  atomic.Bool  // the reader returned; set before the socket closes
}

// countingReader counts the bytes read through it into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// dial connects the client of phone and logs it in: banner, then Login
// with "Events: on", the whole stream, and no filter. ctx aborts it.
func dial(ctx context.Context, opts *Options, phone string, n int) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("direct: %s: %w", phone, err)
	}
	c := &client{phone: phone, conn: nc, link: linker{phone: phone}}
	c.r = ami.NewReader(countingReader{nc, &c.bytes})
	c.r.MaxLine, c.r.MaxPacket = maxLine, maxPacket
	// The deadline ends a login that ctx cancels or that takes too long.
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = c.login(opts, "direct-login-"+strconv.Itoa(n))
	if !stop() || err != nil {
		nc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("direct: %s: %w", phone, err)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

// login reads the banner, sends Login and reads up to its answer.
func (c *client) login(opts *Options, id string) error {
	if _, err := c.r.ReadBanner(); err != nil {
		return fmt.Errorf("banner: %w", err)
	}
	login := ami.NewAction("Login", "ActionID", id, "Username", opts.Username, "Secret", opts.Secret, "Events", "on")
	if err := c.write(login); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	for range maxBeforeLogin {
		m, err := c.r.Next()
		if err != nil {
			return fmt.Errorf("login: %w", err)
		}
		if string(m.Get("ActionID")) != id {
			continue
		}
		if resp := m.Get("Response"); string(resp) != "Success" {
			return fmt.Errorf("login as %q: %w: %s", opts.Username, errBadLogin, m.Get("Message"))
		}
		return nil
	}
	return fmt.Errorf("login: no answer within %d messages", maxBeforeLogin)
}

// write sends one action.
func (c *client) write(f *ami.Frame) error {
	b, err := ami.AppendFrame(nil, f)
	if err != nil {
		return err
	}
	c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err = c.conn.Write(b)
	return err
}

// read reads every message until the connection ends, and reports each
// link of the phone to onLink. It returns nil when the PBX answered the
// Logoff, else the error that ended the stream.
func (c *client) read(onLink func(Link), links *atomic.Int64) error {
	for {
		m, err := c.r.Next()
		if err != nil {
			return err
		}
		if m.Len() == 0 {
			continue
		}
		if string(m.Key(0)) != "Event" {
			if string(m.Get("Response")) == "Goodbye" {
				return nil
			}
			continue
		}
		c.events.Add(1)
		if uid, ok := c.link.observe(m); ok {
			links.Add(1)
			onLink(Link{Phone: c.phone, Uniqueid: uid, ReadAt: time.Now()})
		}
	}
}

// logoff asks the PBX to end the session and bounds the wait for its
// answer: the reader returns at the Goodbye, or at the read deadline.
func (c *client) logoff() error {
	c.conn.SetReadDeadline(time.Now().Add(logoffWait))
	if err := c.write(ami.NewAction("Logoff")); err != nil {
		return fmt.Errorf("direct: %s: logoff: %w", c.phone, err)
	}
	return nil
}
