package ami

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrUnsafeField means a key or value holds a line end or NUL. Written as is,
// it would end the header early and let text from a caller id or a seat
// become a header or a whole action of its own (AMI injection).
var ErrUnsafeField = errors.New("ami: key or value holds a line end")

// AppendFrame appends f in wire form ("Key: Value\r\n" lines, then an empty
// line) to dst. Command output, if any, is written the 1.4 way, closed by
// "--END COMMAND--". It refuses fields that would break the framing.
func AppendFrame(dst []byte, f *Frame) ([]byte, error) {
	for _, fl := range f.Fields {
		if !safeKey(fl.Key) || !safeValue(fl.Value) {
			return dst, fmt.Errorf("%w: %q", ErrUnsafeField, fl.Key)
		}
		dst = append(dst, fl.Key...)
		dst = append(dst, ": "...)
		dst = append(dst, fl.Value...)
		dst = append(dst, "\r\n"...)
	}
	if f.Output != nil {
		for _, o := range f.Output {
			if strings.ContainsAny(o, "\r\n\x00") {
				return dst, fmt.Errorf("%w: command output", ErrUnsafeField)
			}
			dst = append(dst, o...)
			dst = append(dst, '\n')
		}
		dst = append(dst, endCommand+"\r\n"...)
	}
	return append(dst, "\r\n"...), nil
}

func safeKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, ":\r\n\x00")
}

func safeValue(v string) bool {
	return !strings.ContainsAny(v, "\r\n\x00")
}

// Writer writes AMI messages to a stream. It is not safe for concurrent use;
// one goroutine owns a connection's Writer.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 16<<10)}
}

// WriteBanner writes the manager banner for version, e.g. "11.0.0".
func (w *Writer) WriteBanner(version string) error {
	if _, err := w.w.WriteString(bannerPrefix + version + "\r\n"); err != nil {
		return err
	}
	return nil
}

// WriteFrame buffers f. Call Flush to send what was buffered.
func (w *Writer) WriteFrame(f *Frame) error {
	var err error
	w.buf, err = AppendFrame(w.buf[:0], f)
	if err != nil {
		return err
	}
	_, err = w.w.Write(w.buf)
	return err
}

// Flush sends everything buffered.
func (w *Writer) Flush() error { return w.w.Flush() }
