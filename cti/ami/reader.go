package ami

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits for a Reader. They bound the memory a peer can make us hold: a
// stream that never sends a line end, or a message that never ends, is an
// error, not a growing buffer.
var (
	// DefaultMaxLine is the longest header line accepted, in bytes.
	DefaultMaxLine = 64 << 10
	// DefaultMaxPacket is the largest message accepted, in bytes.
	DefaultMaxPacket = 1 << 20
	// readChunk is the smallest free space a Reader asks its source to fill.
	readChunk = 32 << 10
)

// Banner prefix that every Asterisk manager sends first.
const bannerPrefix = "Asterisk Call Manager/"

// endCommand closes the output of a 1.4-style "Response: Follows" message.
const endCommand = "--END COMMAND--"

// Errors returned by Reader, wrapped in a *ProtocolError.
var (
	// ErrLineTooLong means a line exceeded the Reader's line limit.
	ErrLineTooLong = errors.New("line too long")
	// ErrPacketTooLarge means a message exceeded the Reader's size limit.
	ErrPacketTooLarge = errors.New("message too large")
	// ErrMalformed means a line is not "Key: Value" or its key holds bytes
	// no AMI peer sends (NUL and other control bytes).
	ErrMalformed = errors.New("malformed line")
	// ErrBadBanner means the first line is not an Asterisk manager banner.
	ErrBadBanner = errors.New("not an Asterisk manager banner")
)

// ProtocolError describes input that breaks the AMI framing. The connection
// that produced it cannot be trusted any further and should be closed.
type ProtocolError struct {
	Offset int64  // byte offset in the stream where the bad input starts
	Err    error  // one of the Err* sentinels
	Input  string // a short excerpt of the offending input, for logs
}

func (e *ProtocolError) Error() string {
	if e.Input == "" {
		return fmt.Sprintf("ami: %v at byte %d", e.Err, e.Offset)
	}
	return fmt.Sprintf("ami: %v at byte %d: %q", e.Err, e.Offset, e.Input)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// span marks one header line inside Message.raw: key raw[ks:ke], value
// raw[vs:ve]. Offsets are relative to the message start so that moving the
// buffer never invalidates them.
type span struct{ ks, ke, vs, ve int32 }

// Message is a message as parsed by a Reader, without copying: its bytes
// alias the Reader's buffer and are valid only until the next call to
// Reader.Next. Call Frame to keep one.
type Message struct {
	raw    []byte
	fields []span
	output []span // command output lines (ks:ke), for "Response: Follows"
}

// Len returns the number of header fields.
func (m *Message) Len() int { return len(m.fields) }

// Key returns the key of field i.
func (m *Message) Key(i int) []byte { s := m.fields[i]; return m.raw[s.ks:s.ke] }

// Value returns the value of field i.
func (m *Message) Value(i int) []byte { s := m.fields[i]; return m.raw[s.vs:s.ve] }

// Get returns the value of the first field named key (ASCII case-insensitive),
// or nil.
func (m *Message) Get(key string) []byte {
	for i := range m.fields {
		if equalFoldBytes(m.Key(i), key) {
			return m.Value(i)
		}
	}
	return nil
}

// Frame copies the message into a Frame that its caller owns. It costs two
// allocations (three with command output): one string holding every byte,
// and the field slice.
func (m *Message) Frame() *Frame {
	f := &Frame{}
	m.FrameInto(f)
	return f
}

// FrameInto copies the message into f, reusing f's field slice.
func (m *Message) FrameInto(f *Frame) {
	last := 0
	if n := len(m.fields); n > 0 {
		last = int(m.fields[n-1].ve)
	}
	if n := len(m.output); n > 0 && int(m.output[n-1].ke) > last {
		last = int(m.output[n-1].ke)
	}
	s := string(m.raw[:last])
	f.Fields = f.Fields[:0]
	for _, sp := range m.fields {
		f.Fields = append(f.Fields, Field{Key: s[sp.ks:sp.ke], Value: s[sp.vs:sp.ve]})
	}
	f.Output = nil
	if m.output != nil {
		f.Output = make([]string, len(m.output))
		for i, sp := range m.output {
			f.Output[i] = s[sp.ks:sp.ke]
		}
	}
}

// Reader reads AMI messages from a byte stream: the banner first, then
// messages of "Key: Value" lines ending in an empty line. Lines may end in
// "\r\n" or "\n". A Reader is not safe for concurrent use.
type Reader struct {
	src        io.Reader
	buf        []byte
	start, end int   // unread input is buf[start:end]
	consumed   int64 // stream offset of buf[0]
	msg        Message
	err        error // sticky error from src
	MaxLine    int   // longest line accepted; DefaultMaxLine if 0
	MaxPacket  int   // largest message accepted; DefaultMaxPacket if 0
}

// NewReader returns a Reader that reads from src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, 64<<10)}
}

// ReadBanner reads the "Asterisk Call Manager/x.y.z" line that opens a
// manager session and returns the version after the slash.
func (r *Reader) ReadBanner() (string, error) {
	line, off, err := r.readLine()
	if err != nil {
		return "", err
	}
	if !bytes.HasPrefix(line, []byte(bannerPrefix)) {
		return "", r.protoErr(off, ErrBadBanner, line)
	}
	return string(line[len(bannerPrefix):]), nil
}

// readLine returns the next line without its line end.
func (r *Reader) readLine() ([]byte, int, error) {
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			off := r.start
			line := trimCR(r.buf[r.start : r.start+i])
			r.start += i + 1
			if len(line) > r.maxLine() {
				return nil, off, r.protoErr(off, ErrLineTooLong, line)
			}
			return line, off, nil
		}
		if r.end-r.start > r.maxLine() {
			return nil, r.start, r.protoErr(r.start, ErrLineTooLong, r.buf[r.start:r.end])
		}
		if err := r.fill(r.start); err != nil {
			return nil, r.start, err
		}
	}
}

// Next reads the next message. The returned Message is valid until the next
// call. Blank lines between messages are skipped. At the end of the stream it
// returns io.EOF, or io.ErrUnexpectedEOF when the stream ends inside a
// message. Errors that break the framing are *ProtocolError and leave the
// Reader unusable.
func (r *Reader) Next() (*Message, error) {
	m := &r.msg
	m.fields = m.fields[:0]
	m.output = nil
	pos := r.start  // start of this message in buf
	scan := r.start // start of the next line to examine
	follows := false
	for {
		i := bytes.IndexByte(r.buf[scan:r.end], '\n')
		if i < 0 {
			if r.end-scan > r.maxLine() {
				return nil, r.protoErr(scan, ErrLineTooLong, r.buf[scan:r.end])
			}
			if r.end-pos > r.maxPacket() {
				return nil, r.protoErr(pos, ErrPacketTooLarge, r.buf[pos:min(pos+64, r.end)])
			}
			shift, partial := pos, scan > pos || r.end > scan
			if err := r.fill(pos); err != nil {
				if err == io.EOF && partial {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			pos, scan = pos-shift, scan-shift
			continue
		}
		lineStart, lineEnd := scan, scan+i
		scan = lineEnd + 1
		if lineEnd > lineStart && r.buf[lineEnd-1] == '\r' {
			lineEnd--
		}
		if lineEnd-lineStart > r.maxLine() {
			return nil, r.protoErr(lineStart, ErrLineTooLong, r.buf[lineStart:lineEnd])
		}
		if scan-pos > r.maxPacket() {
			return nil, r.protoErr(pos, ErrPacketTooLarge, r.buf[pos:min(pos+64, r.end)])
		}
		if follows {
			done, err := r.followsLine(pos, lineStart, lineEnd)
			if err != nil {
				return nil, err
			}
			if done {
				follows = false
			}
			continue
		}
		if lineEnd == lineStart {
			if len(m.fields) == 0 && m.output == nil {
				pos = scan // a blank line between messages
				continue
			}
			m.raw = r.buf[pos:scan]
			r.start = scan
			return m, nil
		}
		if err := r.headerLine(pos, lineStart, lineEnd); err != nil {
			return nil, err
		}
		m.raw = r.buf[pos:scan]
		if len(m.fields) == 1 && equalFoldBytes(m.Key(0), "Response") && equalFoldBytes(m.Value(0), "Follows") {
			follows = true
			m.output = []span{}
		}
	}
}

// headerLine records buf[lineStart:lineEnd] as a "Key: Value" field of the
// message starting at pos.
func (r *Reader) headerLine(pos, lineStart, lineEnd int) error {
	line := r.buf[lineStart:lineEnd]
	colon := keyEnd(line)
	if colon <= 0 {
		return r.protoErr(lineStart, ErrMalformed, line)
	}
	vs := colon + 1
	if vs < len(line) && line[vs] == ' ' {
		vs++
	}
	base := lineStart - pos
	r.msg.fields = append(r.msg.fields, span{
		ks: int32(base), ke: int32(base + colon),
		vs: int32(base + vs), ve: int32(base + len(line)),
	})
	return nil
}

// keyEnd returns the index of the colon that ends the key of a header line,
// or -1 when the line has none or its key holds a control byte (NUL, CR, …),
// which no AMI peer sends and which marks binary garbage. One pass over the
// short key is cheaper than several searches of the whole line.
func keyEnd(line []byte) int {
	for i, c := range line {
		if c == ':' {
			return i
		}
		if c < ' ' && c != '\t' {
			return -1
		}
	}
	return -1
}

// followsLine handles one line of a "Response: Follows" message: the
// Privilege and ActionID headers that precede the output, the output lines,
// and the "--END COMMAND--" marker (which 1.4 may append to the last output
// line when the output lacks a final newline). It reports whether the marker
// was seen; the empty line after it ends the message.
func (r *Reader) followsLine(pos, lineStart, lineEnd int) (bool, error) {
	m := &r.msg
	line := r.buf[lineStart:lineEnd]
	base := int32(lineStart - pos)
	if len(m.output) == 0 && isFollowsHeader(line) {
		return false, r.headerLine(pos, lineStart, lineEnd)
	}
	if bytes.HasSuffix(line, []byte(endCommand)) {
		if n := len(line) - len(endCommand); n > 0 {
			m.output = append(m.output, span{ks: base, ke: base + int32(n)})
		}
		return true, nil
	}
	m.output = append(m.output, span{ks: base, ke: base + int32(len(line))})
	return false, nil
}

// isFollowsHeader reports whether a line inside command output is one of the
// headers Asterisk writes before the output itself.
func isFollowsHeader(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	k := line[:colon]
	return equalFoldBytes(k, "Privilege") || equalFoldBytes(k, "ActionID")
}

// fill reads more input, keeping buf[keep:end]. It moves the kept bytes to
// the front of the buffer and grows the buffer when the kept part fills it.
func (r *Reader) fill(keep int) error {
	if r.err != nil {
		return r.err
	}
	if keep > 0 {
		n := copy(r.buf, r.buf[keep:r.end])
		r.consumed += int64(keep)
		r.start = max(r.start-keep, 0)
		r.end = n
	}
	if len(r.buf)-r.end < readChunk {
		limit := r.maxPacket() + r.maxLine() + readChunk
		size := min(2*len(r.buf)+readChunk, limit)
		if size > len(r.buf) {
			nb := make([]byte, size)
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}

func (r *Reader) maxLine() int {
	if r.MaxLine > 0 {
		return r.MaxLine
	}
	return DefaultMaxLine
}

func (r *Reader) maxPacket() int {
	if r.MaxPacket > 0 {
		return r.MaxPacket
	}
	return DefaultMaxPacket
}

func (r *Reader) protoErr(off int, err error, input []byte) error {
	const excerpt = 40
	if len(input) > excerpt {
		input = input[:excerpt]
	}
	return &ProtocolError{Offset: r.consumed + int64(off), Err: err, Input: string(input)}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// equalFoldBytes compares b with the ASCII string s without regard to case.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		cb, cs := b[i], s[i]
		if cb == cs {
			continue
		}
		if cb|0x20 != cs|0x20 || (cb|0x20) < 'a' || (cb|0x20) > 'z' {
			return false
		}
	}
	return true
}
