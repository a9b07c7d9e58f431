package ami

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
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
	// outputEnd is set once "--END COMMAND--" has been read.
	outputEnd bool
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

// Frame copies the message into a Frame that its caller owns. It costs three
// allocations (four with command output): the Frame, its field slice and
// one string holding every byte.
func (m *Message) Frame() *Frame {
	f := &Frame{Fields: make([]Field, 0, len(m.fields))}
	m.FrameInto(f)
	return f
}

// FrameInto copies the message into f, reusing f's field slice when it is
// large enough: one allocation, the string.
func (m *Message) FrameInto(f *Frame) {
	m.fill(f, string(m.raw[:m.textLen()]))
}

// textLen returns how many bytes of raw the message's fields and output
// lines span: raw without the empty line that ends it.
func (m *Message) textLen() int {
	last := 0
	if n := len(m.fields); n > 0 {
		last = int(m.fields[n-1].ve)
	}
	if n := len(m.output); n > 0 && int(m.output[n-1].ke) > last {
		last = int(m.output[n-1].ke)
	}
	return last
}

// fill sets f's fields and output from text, a copy of (at least) the
// message's first textLen bytes, reusing f's field slice when it is large
// enough.
func (m *Message) fill(f *Frame, text string) {
	if cap(f.Fields) < len(m.fields) {
		f.Fields = make([]Field, 0, len(m.fields))
	}
	f.Fields = f.Fields[:0]
	for _, sp := range m.fields {
		f.Fields = append(f.Fields, Field{Key: text[sp.ks:sp.ke], Value: text[sp.vs:sp.ve]})
	}
	f.Output = nil
	if m.output != nil {
		f.Output = make([]string, len(m.output))
		for i, sp := range m.output {
			f.Output[i] = text[sp.ks:sp.ke]
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
	// text is a copy of buffered input from stream offset textAt on,
	// shared by the frames of the messages it holds (FrameShared).
	text      string
	textAt    int64
	MaxLine   int // longest line accepted; DefaultMaxLine if 0
	MaxPacket int // largest message accepted; DefaultMaxPacket if 0
}

// NewReader returns a Reader that reads from src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, 64<<10)}
}

// sharedText is how much buffered input FrameShared copies at once: small
// enough for the allocator's fast path and for what a kept string keeps
// alive, large enough for tens of messages.
const sharedText = 16 << 10

// FrameShared copies the message Next returned last into f, as FrameInto
// does, except that its strings share their memory with the frames of the
// messages read with it: when a message lies outside the last copy, the
// Reader copies the buffered input from it on (sharedText bytes, or the
// message if longer) into one string, instead of one string per message.
// The cost is in what a kept string keeps: the whole copy it points into.
// It suits frames whose holders are done with them soon or copy what they
// keep, as the call tracker does.
func (r *Reader) FrameShared(f *Frame) {
	m := &r.msg
	pos := r.start - len(m.raw) // m.raw ends where the next message starts
	at := r.consumed + int64(pos)
	n := int64(m.textLen())
	if at < r.textAt || at+n > r.textAt+int64(len(r.text)) {
		end := min(r.end, pos+max(sharedText, int(n)))
		r.text, r.textAt = string(r.buf[pos:end]), at
	}
	m.fill(f, r.text[at-r.textAt:])
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
		if len(trimCR(r.buf[r.start:r.end])) > r.maxLine() {
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
//
// The header lines are parsed by scanHeaders, one tight loop over the
// buffered input. The limits are checked when that loop stops (at the end of
// a message or of the buffered input, once per fill), not once per line.
// Whatever the read boundaries, the first error in stream order is the one
// reported.
func (r *Reader) Next() (*Message, error) {
	m := &r.msg
	if cap(m.fields) > maxKeptFields {
		m.fields = nil // do not keep the spans of a hostile message forever
	}
	m.fields = m.fields[:0]
	m.output = nil
	m.outputEnd = false
	pos, scan := r.start, r.start // message start, next line to examine
	maxLine, maxPacket := r.maxLine(), r.maxPacket()
	follows := false   // inside 1.4 command output
	var checked [2]int // fields and output lines checked by longLine
	for {
		lim := min(r.end, pos+maxPacket)
		var res scanResult
		if follows {
			res, scan = r.scanFollows(pos, scan, lim, maxLine)
		} else {
			var rel int
			res, rel, m.fields = scanHeaders(r.buf[pos:lim], scan-pos, m.fields)
			if res == scanKey {
				res, rel, m.fields = slowLine(r.buf[pos:lim], rel, m.fields, maxLine)
				if res == scanBlank {
					pos, scan = pos+rel, pos+rel // a blank line between messages
					continue
				}
			}
			scan = pos + rel
			if m.output == nil && len(m.fields) > 0 && isFollows(r.buf[pos:], m.fields[0]) {
				// 1.4 command output: the lines after the first are
				// output, not headers. Rare, so parse them again.
				follows = true
				m.fields = m.fields[:1]
				m.output = []span{}
				scan = pos + lineAfter(r.buf[pos:r.end], int(m.fields[0].ve))
				continue
			}
		}
		// Every line before scan is complete and parsed.
		if scan-pos > maxLine {
			if off, ok := longLine(m, pos, maxLine, &checked); ok {
				return nil, r.protoErr(off, ErrLineTooLong, r.buf[off:min(off+64, r.end)])
			}
		}
		switch res {
		case scanKey:
			continue // slowLine took the line
		case scanDone:
			m.raw = r.buf[pos:scan]
			r.start = scan
			return m, nil
		case scanLong:
			return nil, r.protoErr(scan, ErrLineTooLong, r.buf[scan:min(scan+64, r.end)])
		case scanBad:
			return nil, r.protoErr(scan, ErrMalformed, lineAt(r.buf[:r.end], scan))
		}
		// scanMore: the input ends inside a line (or a blank line's CR).
		// Judge a partial line that is already too long as scanHeaders
		// will judge it once complete, so that where the reads happened
		// to end never changes the error.
		if partial := trimCR(r.buf[scan:lim]); len(partial) > maxLine {
			if !follows {
				if k := keyEnd(partial[:maxLine+1]); k == 0 || (k < 0 && -1-k <= maxLine) {
					return nil, r.protoErr(scan, ErrMalformed, partial[:min(len(partial), 64)])
				}
			}
			return nil, r.protoErr(scan, ErrLineTooLong, partial[:min(len(partial), 64)])
		}
		if lim-pos >= maxPacket {
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
	}
}

// maxKeptFields bounds the field spans a Reader keeps between messages.
const maxKeptFields = 1 << 12

// scanResult says why scanHeaders or scanFollows stopped.
type scanResult uint8

const (
	scanMore  scanResult = iota // the input ends inside a line
	scanDone                    // an empty line ended the message
	scanBlank                   // a blank line before the first header
	scanKey                     // a line for slowLine: TAB in the key, or malformed
	scanBad                     // a malformed line
	scanLong                    // a line longer than the limit
)

// SWAR constants: a byte value in every lane of a uint64.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// scanHeaders parses the complete "Key: Value" lines of msg[scan:], where msg
// starts at the first byte of the message, and appends their spans to fs. It
// returns why it stopped, where (the start of the first line not consumed,
// or just after the empty line that ended the message), and fs.
//
// Each line is one pass, eight bytes at a time: up to the first ':' or
// control byte (a line end is one), then up to the line feed (the "has zero
// byte" and "has byte less than n" tricks; the lowest flagged lane is always
// exact). This loop is the hot path of the whole server, so it does nothing
// else and calls nothing on the way: a key holding a control byte (TAB is
// allowed, anything else marks binary garbage), a line without colon and a
// blank line before the first header are left to slowLine, and the limits
// and the "Response: Follows" form are checked by the caller once it
// returns.
func scanHeaders(msg []byte, scan int, fs []span) (scanResult, int, []span) {
	n := len(msg)
	for {
		ls := scan
		// Key: find the first ':' or control byte (a line end is one).
		i := ls
		for {
			if i+8 <= n {
				x := binary.LittleEndian.Uint64(msg[i:])
				y := x ^ (':' * lanes01)
				t := ((y - lanes01) &^ y) | ((x - ' '*lanes01) &^ x)
				if t &= lanes80; t != 0 {
					i += bits.TrailingZeros64(t) >> 3
					break
				}
				i += 8
				continue
			}
			for i < n && msg[i] >= ' ' && msg[i] != ':' {
				i++
			}
			if i == n {
				return scanMore, ls, fs
			}
			break
		}
		if msg[i] != ':' || i == ls {
			if i == ls && len(fs) > 0 {
				// An empty line ends the message.
				if msg[i] == '\n' {
					return scanDone, i + 1, fs
				}
				if msg[i] == '\r' && i+1 < n && msg[i+1] == '\n' {
					return scanDone, i + 2, fs
				}
			}
			return scanKey, ls, fs
		}
		// Value: find the line feed.
		j := i + 1
		for {
			if j+8 <= n {
				y := binary.LittleEndian.Uint64(msg[j:]) ^ ('\n' * lanes01)
				if t := (y - lanes01) &^ y & lanes80; t != 0 {
					j += bits.TrailingZeros64(t) >> 3
					break
				}
				j += 8
				continue
			}
			for j < n && msg[j] != '\n' {
				j++
			}
			if j == n {
				return scanMore, ls, fs
			}
			break
		}
		e := j // end of the line without its CR; msg[i] is the colon
		if msg[e-1] == '\r' {
			e--
		}
		vs := i + 1
		if vs < e && msg[vs] == ' ' {
			vs++
		}
		fs = append(fs, span{ks: int32(ls), ke: int32(i), vs: int32(vs), ve: int32(e)})
		scan = j + 1
	}
}

// slowLine takes the complete line at msg[ls:] that scanHeaders left: a key
// holding a TAB is a field (scanKey, with the start of the next line); any
// other control byte in the key, an empty key or a missing colon make it
// malformed (scanBad), or too long when the bad byte lies past maxLine
// (scanLong), as it would be judged before it was complete.
func slowLine(msg []byte, ls int, fs []span, maxLine int) (scanResult, int, []span) {
	k := bytes.IndexByte(msg[ls:], '\n')
	if k < 0 {
		return scanMore, ls, fs
	}
	j := ls + k
	e := j
	if e > ls && msg[e-1] == '\r' {
		e--
	}
	if e == ls {
		return scanBlank, j + 1, fs // before the first header: scanHeaders ends messages itself
	}
	k = keyEnd(msg[ls:e])
	if k <= 0 {
		if max(-1-k, 0) > maxLine {
			return scanLong, ls, fs
		}
		return scanBad, ls, fs
	}
	i := ls + k
	vs := valueStart(msg[:e], i)
	return scanKey, j + 1, append(fs, span{ks: int32(ls), ke: int32(i), vs: int32(vs), ve: int32(e)})
}

// isFollows reports whether field sp of the message msg is "Response:
// Follows", which opens 1.4-style command output.
func isFollows(msg []byte, sp span) bool {
	return equalFoldBytes(msg[sp.ks:sp.ke], "Response") && equalFoldBytes(msg[sp.vs:sp.ve], "Follows")
}

// lineAfter returns the start of the line after the one whose content ends
// at e (before its optional CR).
func lineAfter(msg []byte, e int) int {
	if msg[e] == '\r' {
		e++
	}
	return e + 1
}

// scanFollows consumes the complete lines of a "Response: Follows" message
// in r.buf[scan:lim]: the output lines, then the "--END COMMAND--" marker,
// which must be followed by the empty line that ends the message, as
// Asterisk 1.4 writes it (main/manager.c, action_command). Command output is
// rare (1.4's Command action), so it takes the simple path of one search per
// line.
func (r *Reader) scanFollows(pos, scan, lim, maxLine int) (scanResult, int) {
	if r.msg.outputEnd {
		return r.followsEnd(scan, lim)
	}
	for {
		i := bytes.IndexByte(r.buf[scan:lim], '\n')
		if i < 0 {
			return scanMore, scan
		}
		lineStart, lineEnd := scan, scan+i
		if lineEnd > lineStart && r.buf[lineEnd-1] == '\r' {
			lineEnd--
		}
		if lineEnd-lineStart > maxLine {
			return scanLong, scan
		}
		scan += i + 1
		if r.followsLine(pos, lineStart, lineEnd) {
			r.msg.outputEnd = true
			return r.followsEnd(scan, lim)
		}
	}
}

// followsEnd expects the empty line after "--END COMMAND--".
func (r *Reader) followsEnd(scan, lim int) (scanResult, int) {
	switch {
	case scan < lim && r.buf[scan] == '\n':
		return scanDone, scan + 1
	case scan+1 < lim && r.buf[scan] == '\r' && r.buf[scan+1] == '\n':
		return scanDone, scan + 2
	case scan == lim || (scan+1 == lim && r.buf[scan] == '\r'):
		return scanMore, scan
	}
	return scanBad, scan
}

// longLine finds the first complete line of m longer than maxLine and
// returns its offset in the buffer. checked counts the fields and output
// lines already found short, so that each line is looked at once.
func longLine(m *Message, pos, maxLine int, checked *[2]int) (int, bool) {
	for _, s := range m.fields[min(checked[0], len(m.fields)):] {
		if int(s.ve-s.ks) > maxLine {
			return pos + int(s.ks), true
		}
	}
	for _, s := range m.output[min(checked[1], len(m.output)):] {
		if int(s.ke-s.ks) > maxLine {
			return pos + int(s.ks), true
		}
	}
	checked[0], checked[1] = len(m.fields), len(m.output)
	return 0, false
}

// keyEnd returns the index of the colon that ends the key of a header line.
// When the line has none or its key holds a control byte other than TAB,
// it returns -1-k, where k is the offset of the bad byte (or of the line
// end).
func keyEnd(line []byte) int {
	for i, c := range line {
		if c == ':' {
			return i
		}
		if c < ' ' && c != '\t' {
			return -1 - i
		}
	}
	return -1 - len(line)
}

// lineAt returns the line starting at off, for error messages.
func lineAt(buf []byte, off int) []byte {
	line := buf[off:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return trimCR(line)
}

// followsLine handles one line of a "Response: Follows" message: the
// Privilege and ActionID headers that precede the output, the output lines,
// and the "--END COMMAND--" marker (which 1.4 may append to the last output
// line when the output lacks a final newline). It reports whether the marker
// was seen.
func (r *Reader) followsLine(pos, lineStart, lineEnd int) bool {
	m := &r.msg
	line := r.buf[lineStart:lineEnd]
	base := int32(lineStart - pos)
	if len(m.output) == 0 {
		if colon := isFollowsHeader(line); colon > 0 {
			m.fields = append(m.fields, span{ks: base, ke: base + int32(colon), vs: base + int32(valueStart(line, colon)), ve: base + int32(len(line))})
			return false
		}
	}
	if bytes.HasSuffix(line, []byte(endCommand)) {
		if n := len(line) - len(endCommand); n > 0 {
			m.output = append(m.output, span{ks: base, ke: base + int32(n)})
		}
		return true
	}
	m.output = append(m.output, span{ks: base, ke: base + int32(len(line))})
	return false
}

// valueStart returns where the value of a header line starts: after the
// colon and one optional space.
func valueStart(line []byte, colon int) int {
	vs := colon + 1
	if vs < len(line) && line[vs] == ' ' {
		vs++
	}
	return vs
}

// isFollowsHeader reports whether a line inside command output is one of the
// headers Asterisk writes before the output itself.
// It returns the index of the colon, or -1.
func isFollowsHeader(line []byte) int {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return -1
	}
	k := line[:colon]
	if equalFoldBytes(k, "Privilege") || equalFoldBytes(k, "ActionID") {
		return colon
	}
	return -1
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
