package seatconn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/astcti/astcti/cti/seatproto"
)

// readerConn is a net.Conn that reads from r, a few bytes at a time.
type readerConn struct {
	net.Conn
	r     io.Reader
	chunk int
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.chunk)]) }

// FuzzFrame checks that framing with a small buffer, in chunks, gives the
// lines seatproto.ReadLine gives with a buffer that holds them whole.
func FuzzFrame(f *testing.F) {
	f.Add([]byte("100 WELCOME\n200 q\r\n"), uint8(3), uint8(16))
	f.Add([]byte(linkLine+"\n300 OK\r\n900 OK"), uint8(7), uint8(16))
	f.Add([]byte("200 abcdefghijkl\r\n\n\r\n"), uint8(1), uint8(16))
	f.Fuzz(func(t *testing.T, in []byte, chunk, buf uint8) {
		c := New(&readerConn{r: bytes.NewReader(in), chunk: int(chunk)%32 + 1}, Options{ReadBuffer: int(buf)})
		want := bufio.NewReaderSize(bytes.NewReader(in), len(in)+16)
		for {
			wl, werr := seatproto.ReadLine(want, seatproto.MaxServerLineLen)
			gl, gerr := c.frame()
			if !bytes.Equal(wl, gl) {
				t.Fatalf("frame = %q, ReadLine = %q", gl, wl)
			}
			if (werr == nil) != (gerr == nil) || errors.Is(werr, io.EOF) != errors.Is(gerr, io.EOF) ||
				errors.Is(werr, io.ErrUnexpectedEOF) != errors.Is(gerr, io.ErrUnexpectedEOF) {
				t.Fatalf("frame error %v, ReadLine error %v", gerr, werr)
			}
			if werr != nil {
				return
			}
		}
	})
}
