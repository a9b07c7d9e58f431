package seatconn

import (
	"net"
	"testing"
	"time"
)

// repeatConn is a net.Conn whose reads give line over and over.
type repeatConn struct {
	net.Conn
	line []byte
	off  int
}

func (r *repeatConn) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.line[r.off:])
		n += k
		r.off = (r.off + k) % len(r.line)
	}
	return n, nil
}

func (r *repeatConn) SetReadDeadline(time.Time) error { return nil }

// BenchmarkReadLink reads a Link event line: framing alone allocates
// nothing; the rest is encoding/xml's parse.
func BenchmarkReadLink(b *testing.B) {
	line := []byte(linkLine + "\n")
	c := New(&repeatConn{line: line}, Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		m, err := c.ReadMessage(time.Time{})
		if err != nil || m.Kind != KindEvent {
			b.Fatalf("ReadMessage = %v, %v", m.Kind, err)
		}
	}
}

// BenchmarkFrameLink frames the same line without parsing it.
func BenchmarkFrameLink(b *testing.B) {
	line := []byte(linkLine + "\n")
	c := New(&repeatConn{line: line}, Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if raw, err := c.frame(); err != nil || len(raw) != len(line)-1 {
			b.Fatalf("frame = %d bytes, %v", len(raw), err)
		}
	}
}
