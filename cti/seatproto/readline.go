package seatproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ReadLine reads one line from r and returns it without its "\n" and
// without a "\r" just before the "\n". The slice is the caller's: it does
// not alias r's buffer.
//
// A line longer than max bytes (not counting its "\r\n" or "\n") is an error
// wrapping ErrLineTooLong, returned once more than max+1 bytes have come
// without a "\n" (at the latest when r's buffer is full, so give r a
// buffer no bigger than max): an endless line never makes ReadLine hold
// more than max+1 bytes beside r's own buffer. After that error, and after any error,
// r is in the middle of a line and the connection should be closed.
//
// At the end of the input ReadLine returns io.EOF if no byte of a new line
// was read, and an error wrapping io.ErrUnexpectedEOF if the input ended
// in the middle of a line (that line is dropped). Other errors of r are
// returned as they are; the bytes of the line read so far are dropped.
//
// ReadLine is not safe for concurrent use on one r.
func ReadLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		switch {
		case err == nil:
			line = trimEOL(append(line, frag...))
			if len(line) > max {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			// A "\r" may be the last byte before the "\n", hence max+1.
			if len(line)+len(frag) > max+1 {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
			}
			line = append(line, frag...)
		case errors.Is(err, io.EOF):
			if len(line)+len(frag) > max+1 {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
			}
			if len(line)+len(frag) > 0 {
				return nil, fmt.Errorf("seatproto: input ended in the middle of a line: %w", io.ErrUnexpectedEOF)
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}
