package seatconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// Defaults of Options.
const (
	// DefaultReadBuffer is the size of a Conn's read buffer.
	DefaultReadBuffer = 4096
	// DefaultWriteTimeout bounds the write of one command.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultDialTimeout bounds a connect with its TLS handshake.
	DefaultDialTimeout = 10 * time.Second
	// DefaultKeepalive is how often a client sends NOOP: a third of the
	// server's default keepalive timeout of 60 s (docs/protocol.md,
	// "Keepalive"). The caller runs the timer: a Conn has no goroutine.
	DefaultKeepalive = 20 * time.Second
)

// Options tune a Conn. The zero value is ready to use.
type Options struct {
	// ReadBuffer is the size of the read buffer, at least 16 bytes; 0
	// means DefaultReadBuffer. Lines longer than it are read all the same.
	ReadBuffer int
	// WriteTimeout bounds each write; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// DialTimeout bounds Dial's connect and TLS handshake; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// TLS, when set, makes Dial connect with TLS using this configuration.
	TLS *tls.Config
}

// Conn is one seat-protocol connection from a client to the server.
//
// ReadMessage and Login must not be called from two goroutines at once.
// Send, its helpers and Close are safe to call from any goroutine.
type Conn struct {
	nc           net.Conn
	br           *bufio.Reader
	writeTimeout time.Duration
	long         []byte // a line longer than br's buffer, reused

	wmu  sync.Mutex // guards wbuf and the socket's write side
	wbuf []byte
}

// New returns a Conn over nc, which may be a *tls.Conn. It reads nothing:
// the server's "100 WELCOME" is the first line ReadMessage or Login reads.
func New(nc net.Conn, opts Options) *Conn {
	size := opts.ReadBuffer
	if size <= 0 {
		size = DefaultReadBuffer
	}
	wt := opts.WriteTimeout
	if wt <= 0 {
		wt = DefaultWriteTimeout
	}
	return &Conn{nc: nc, br: bufio.NewReaderSize(nc, size), writeTimeout: wt}
}

// Dial connects to the seat listener at addr (host:port), with TLS when
// opts.TLS is set, and returns the Conn. ctx bounds the connect only.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	d := &net.Dialer{Timeout: opts.DialTimeout}
	if d.Timeout <= 0 {
		d.Timeout = DefaultDialTimeout
	}
	var (
		nc  net.Conn
		err error
	)
	if opts.TLS != nil {
		nc, err = (&tls.Dialer{NetDialer: d, Config: opts.TLS}).DialContext(ctx, "tcp", addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("seatconn: connect to %s: %w", addr, err)
	}
	return New(nc, opts), nil
}

// NetConn returns the underlying connection (to set socket options).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection at once, without QUIT. A ReadMessage in
// progress returns an error. It is safe to call from any goroutine.
func (c *Conn) Close() error { return c.nc.Close() }

// Kind says what a server line is.
type Kind uint8

// The kinds of server lines.
const (
	KindStatus    Kind = iota + 1 // a status line: Message.Status
	KindEvent                     // an event: Message.Event
	KindMalformed                 // neither: Message.Err says why
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindStatus:
		return "status"
	case KindEvent:
		return "event"
	case KindMalformed:
		return "malformed"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Message is one line the server sent.
type Message struct {
	// Raw is the line without its "\n". It aliases the Conn's buffers
	// and is valid until the next read; copy it to keep it (Clone).
	Raw []byte
	// At is when the line was framed, before it was parsed.
	At time.Time
	// Kind says which of Status, Event and Err is set.
	Kind   Kind
	Status seatproto.Status
	Event  *seatproto.Event
	// Err is why a KindMalformed line did not parse: it wraps
	// seatproto.ErrBadStatus or seatproto.ErrBadEvent.
	Err error
}

// Clone returns m with a copy of Raw that it owns.
func (m Message) Clone() Message {
	m.Raw = bytes.Clone(m.Raw)
	return m
}

// ReadMessage reads, frames and parses the next server line, waiting
// until deadline (none if zero).
//
// A malformed line is no error of the connection: it comes as a
// KindMalformed message and the next line can be read. A final status line
// (9xx, the last of the session) comes with a *ClosedError; the message is
// valid all the same. Any other error ends the connection: it wraps the
// read error (io.EOF when the server closed between lines,
// io.ErrUnexpectedEOF in the middle of one, seatproto.ErrLineTooLong for a
// line above seatproto.MaxServerLineLen, os.ErrDeadlineExceeded when the
// deadline passed).
func (c *Conn) ReadMessage(deadline time.Time) (Message, error) {
	if err := c.nc.SetReadDeadline(deadline); err != nil {
		return Message{}, fmt.Errorf("seatconn: read: %w", err)
	}
	return c.read()
}

// read is ReadMessage without touching the deadline.
func (c *Conn) read() (Message, error) {
	raw, err := c.frame()
	if err != nil {
		return Message{}, fmt.Errorf("seatconn: read: %w", err)
	}
	m := Parse(raw, time.Now())
	if m.Kind == KindStatus && m.Status.Final() {
		return m, &ClosedError{Status: m.Status}
	}
	return m, nil
}

// Parse parses one server line, without its "\n", read at the time at:
// what ReadMessage does after framing, for callers that framed the line
// themselves. The message's Raw is raw.
func Parse(raw []byte, at time.Time) Message {
	m := Message{Raw: raw, At: at}
	if seatproto.IsEvent(raw) {
		if m.Event, m.Err = seatproto.ParseEvent(raw); m.Err == nil {
			m.Kind = KindEvent
		} else {
			m.Kind = KindMalformed
		}
		return m
	}
	if m.Status, m.Err = seatproto.ParseStatus(raw); m.Err != nil {
		m.Kind = KindMalformed
		return m
	}
	m.Kind = KindStatus
	return m
}

// frame returns the next line without its "\n" or "\r\n". A line that fits
// the read buffer is returned in place, without a copy; a longer one is
// read by seatproto.ReadLine, which bounds it, after the buffer's worth
// already read.
func (c *Conn) frame() ([]byte, error) {
	frag, err := c.br.ReadSlice('\n')
	switch {
	case err == nil:
		return trimEOL(frag), nil
	case errors.Is(err, io.EOF) && len(frag) == 0:
		return nil, io.EOF
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("input ended in the middle of a line: %w", io.ErrUnexpectedEOF)
	case !errors.Is(err, bufio.ErrBufferFull):
		return nil, err
	}
	c.long = append(c.long[:0], frag...)
	rest, err := seatproto.ReadLine(c.br, seatproto.MaxServerLineLen-len(c.long))
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("input ended in the middle of a line: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return nil, err
	}
	c.long = append(c.long, rest...)
	// The "\r" of a "\r\n" split across the two reads is still there.
	return trimEOL(c.long), nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
