package ami

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami/amitrace"
)

// readAll parses a whole stream (banner first when banner is true) and
// returns the frames.
func readAll(t testing.TB, src io.Reader, banner bool) (string, []*Frame) {
	t.Helper()
	r := NewReader(src)
	var version string
	if banner {
		var err error
		version, err = r.ReadBanner()
		require.NoError(t, err)
	}
	var frames []*Frame
	for {
		m, err := r.Next()
		if err == io.EOF {
			return version, frames
		}
		require.NoError(t, err)
		frames = append(frames, m.Frame())
	}
}

func encodeAll(t testing.TB, version string, frames []*Frame) []byte {
	t.Helper()
	var out []byte
	if version != "" {
		out = append(out, bannerPrefix+version+"\r\n"...)
	}
	for _, f := range frames {
		var err error
		out, err = AppendFrame(out, f)
		require.NoError(t, err)
	}
	return out
}

// chunkReader returns its chunks one Read at a time, as the socket did.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n == len(c.chunks[0]) {
		c.chunks = c.chunks[1:]
	} else {
		c.chunks[0] = c.chunks[0][n:]
	}
	return n, nil
}

// TestTracesRoundTrip parses every recorded stream, both directions, and
// writes it back: the bytes must be the same, and reading with the recorded
// read boundaries must give the same frames as reading it whole.
func TestTracesRoundTrip(t *testing.T) {
	files, err := amitrace.All()
	require.NoError(t, err)
	for _, path := range files {
		tr, err := amitrace.Load(path)
		require.NoError(t, err)
		t.Run(tr.Name, func(t *testing.T) {
			version, frames := readAll(t, bytes.NewReader(tr.Received), true)
			require.NotEmpty(t, frames)
			assert.Equal(t, string(tr.Received), string(encodeAll(t, version, frames)), "received bytes round-trip")

			_, chunked := readAll(t, &chunkReader{chunks: tr.RecvChunks()}, true)
			assert.Equal(t, frames, chunked, "recorded read boundaries")
			_, shared := readShared(&chunkReader{chunks: tr.RecvChunks()}, true, DefaultMaxLine, DefaultMaxPacket)
			assert.Equal(t, io.EOF, shared.err)
			assert.Equal(t, frames, shared.frames, "frames sharing copies of the input (FrameShared)")

			if tr.Sent != nil {
				_, actions := readAll(t, bytes.NewReader(tr.Sent), false)
				require.NotEmpty(t, actions)
				assert.NotEmpty(t, actions[0].Action())
				assert.Equal(t, string(tr.Sent), string(encodeAll(t, "", actions)), "sent bytes round-trip")
			}
		})
	}
}

func TestReaderParses(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []*Frame
	}{{
		name:  "bare line feeds",
		input: "Event: Hangup\nUniqueid: 1.2\n\n",
		want:  []*Frame{{Fields: []Field{{"Event", "Hangup"}, {"Uniqueid", "1.2"}}}},
	}, {
		name:  "value holding colon space",
		input: "Event: UserEvent\r\nAppData: AstCTI,customer_id: 4711\r\n\r\n",
		want:  []*Frame{{Fields: []Field{{"Event", "UserEvent"}, {"AppData", "AstCTI,customer_id: 4711"}}}},
	}, {
		name:  "empty value and no space",
		input: "Event: X\r\nAccountCode: \r\nBare:v\r\n\r\n",
		want:  []*Frame{{Fields: []Field{{"Event", "X"}, {"AccountCode", ""}, {"Bare", "v"}}}},
	}, {
		name:  "repeated keys keep order",
		input: "Event: Status\r\nChanVariable: a=1\r\nChanVariable: b=2\r\n\r\n",
		want:  []*Frame{{Fields: []Field{{"Event", "Status"}, {"ChanVariable", "a=1"}, {"ChanVariable", "b=2"}}}},
	}, {
		name:  "blank lines between messages",
		input: "\r\n\r\nPing: Pong\r\n\r\n\r\nEvent: A\r\n\r\n",
		want:  []*Frame{{Fields: []Field{{"Ping", "Pong"}}}, {Fields: []Field{{"Event", "A"}}}},
	}, {
		name: "command output, 1.4 style",
		input: "Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n" +
			"Asterisk 1.4.44 built by root\nline: two\n\nafter blank\n--END COMMAND--\r\n\r\n",
		want: []*Frame{{
			Fields: []Field{{"Response", "Follows"}, {"Privilege", "Command"}, {"ActionID", "c1"}},
			Output: []string{"Asterisk 1.4.44 built by root", "line: two", "", "after blank"},
		}},
	}, {
		name:  "command output without final newline",
		input: "Response: Follows\r\nPrivilege: Command\r\nNo such command 'x'--END COMMAND--\r\n\r\n",
		want: []*Frame{{
			Fields: []Field{{"Response", "Follows"}, {"Privilege", "Command"}},
			Output: []string{"No such command 'x'"},
		}},
	}, {
		name:  "modern command output",
		input: "Response: Success\r\nMessage: Command output follows\r\nOutput: Asterisk 22\r\nOutput: more\r\n\r\n",
		want: []*Frame{{Fields: []Field{{"Response", "Success"}, {"Message", "Command output follows"},
			{"Output", "Asterisk 22"}, {"Output", "more"}}}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := readAll(t, strings.NewReader(tc.input), false)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestReaderRefuses(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		name   string
		input  string
		banner bool
		want   error
	}{
		{"not a banner", "HTTP/1.1 200 OK\r\n", true, ErrBadBanner},
		{"endless line", "Event: " + long, false, ErrLineTooLong},
		{"long line", "Event: " + long + "\r\n\r\n", false, ErrLineTooLong},
		{"endless message", strings.Repeat("Key: value\r\n", 40), false, ErrPacketTooLarge},
		{"line without colon", "Event: A\r\ngarbage\r\n\r\n", false, ErrMalformed},
		{"empty key", ": value\r\n\r\n", false, ErrMalformed},
		{"binary", "Ev\x00ent: AB\r\n\r\n", false, ErrMalformed},
		{"binary garbage", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n\r\n", false, ErrMalformed},
		{"bare carriage return in key", "Ev\rent: AB\r\n\r\n", false, ErrMalformed},
		{"endless command output", "Response: Follows\r\n" + strings.Repeat("out\n", 100), false, ErrPacketTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.input))
			r.MaxLine, r.MaxPacket = 100, 300
			var err error
			if tc.banner {
				_, err = r.ReadBanner()
			} else {
				for err == nil {
					_, err = r.Next()
				}
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var pe *ProtocolError
			assert.True(t, errors.As(err, &pe), "%v is a *ProtocolError", err)
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	r := NewReader(strings.NewReader("Event: A\r\n\r\nEvent: B\r\nUniq"))
	_, err := r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestWriterRefusesInjection(t *testing.T) {
	tests := []struct {
		name string
		f    *Frame
	}{
		{"newline in value", NewAction("QueuePause", "Reason", "lunch\r\nAction: Originate")},
		{"bare newline", NewAction("QueuePause", "Reason", "a\nb")},
		{"colon in key", NewAction("Setvar", "Var:x", "1")},
		{"empty key", NewAction("Setvar", "", "1")},
		{"NUL", NewAction("Setvar", "Value", "a\x00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := AppendFrame(nil, tc.f)
			assert.ErrorIs(t, err, ErrUnsafeField)
		})
	}
}

func TestFrameAccess(t *testing.T) {
	f := NewAction("Originate", "Variable", "a=1", "variable", "b=2", "Async", "true")
	assert.Equal(t, "Originate", f.Action())
	assert.Equal(t, "true", f.Get("ASYNC"))
	assert.Equal(t, []string{"a=1", "b=2"}, f.Values("Variable"))
	f.Set("ActionID", "x1")
	assert.Equal(t, "x1", f.ActionID())
	f.Del("variable")
	assert.Nil(t, f.Values("Variable"))
	assert.False(t, f.IsEvent())
	assert.True(t, EqualFold("Cause-txt", "cause-TXT"))
	assert.False(t, EqualFold("a[", "A{"))
}

// TestReaderErrorsIgnoreReadBoundaries reads hostile streams whole and one
// byte per Read: the error and its offset must not depend on where the
// reads ended, including lines that are both too long and malformed.
func TestReaderErrorsIgnoreReadBoundaries(t *testing.T) {
	long := strings.Repeat("x", 150)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"long line then malformed", "Event: " + long + "\r\nbad\r\n\r\n", ErrLineTooLong},
		{"malformed key in a long line", "Ev\x00nt: " + long + "\r\n\r\n", ErrMalformed},
		{"long key without colon", long + long + "\r\n\r\n", ErrLineTooLong},
		{"short line without colon", "Event: A\r\nnocolon\r\n\r\n", ErrMalformed},
		{"line of exactly the limit", "Event: " + strings.Repeat("y", 93) + "\r\n\r\n", io.EOF},
		{"empty key in a long line", ": " + long + "\r\n\r\n", ErrMalformed},
		{"message too large", strings.Repeat("Key: value\r\n", 40) + "\r\n", ErrPacketTooLarge},
		{"header after command output", "Response: Follows\r\nout\n--END COMMAND--\r\nX: y\r\n\r\n", ErrMalformed},
		{"long command output line", "Response: Follows\r\n" + long + "\n--END COMMAND--\r\n\r\n", ErrLineTooLong},
		{"truncated", "Event: A\r\n", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := func(src io.Reader) error {
				r := NewReader(src)
				r.MaxLine, r.MaxPacket = 100, 300
				for {
					if _, err := r.Next(); err != nil {
						return err
					}
				}
			}
			whole := read(strings.NewReader(tc.in))
			var bytewise [][]byte
			for i := range len(tc.in) {
				bytewise = append(bytewise, []byte{tc.in[i]})
			}
			cut := read(&chunkReader{chunks: bytewise})
			assert.ErrorIs(t, whole, tc.want)
			assert.True(t, sameErr(whole, cut), "Next() = %v read whole, %v byte by byte", whole, cut)
		})
	}
}

func TestReaderTabInKey(t *testing.T) {
	_, got := readAll(t, strings.NewReader("Ev\tent: A\r\nX-Long\tKey-Beyond-Eight: v\r\n\r\n"), false)
	assert.Equal(t, []*Frame{{Fields: []Field{{"Ev\tent", "A"}, {"X-Long\tKey-Beyond-Eight", "v"}}}}, got)
}
