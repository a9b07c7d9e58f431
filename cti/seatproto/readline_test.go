package seatproto

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []string
		wantErr error // after the lines
	}{
		{"lf", "USER a\nNOOP\n", 10, []string{"USER a", "NOOP"}, io.EOF},
		{"crlf", "USER a\r\nNOOP\r\n", 10, []string{"USER a", "NOOP"}, io.EOF},
		{"empty lines", "\n\r\n", 10, []string{"", ""}, io.EOF},
		{"inner cr kept", "a\rb\n", 10, []string{"a\rb"}, io.EOF},
		{"exactly max", "0123456789\n", 10, []string{"0123456789"}, io.EOF},
		{"exactly max crlf", "0123456789\r\n", 10, []string{"0123456789"}, io.EOF},
		{"one over", "0123456789a\n", 10, nil, ErrLineTooLong},
		{"one over crlf", "0123456789a\r\n", 10, nil, ErrLineTooLong},
		{"cr cr over", "0123456789\r\r\n", 10, nil, ErrLineTooLong},
		{"second too long", "ok\n" + strings.Repeat("x", 11) + "\n", 10, []string{"ok"}, ErrLineTooLong},
		{"partial at eof", "NOOP\nQUI", 10, []string{"NOOP"}, io.ErrUnexpectedEOF},
		{"empty input", "", 10, nil, io.EOF},
	}
	for _, tc := range tests {
		for _, size := range []int{16, 4096} { // bufio's minimum, and a line in one read
			t.Run(tc.name+"/buf="+strconv.Itoa(size), func(t *testing.T) {
				r := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tc.in)), size)
				var got []string
				var err error
				for {
					var line []byte
					line, err = ReadLine(r, tc.max)
					if err != nil {
						break
					}
					got = append(got, string(line))
				}
				assert.Equal(t, tc.want, got)
				assert.ErrorIs(t, err, tc.wantErr, "ReadLine(%q) = %v, want %v", tc.in, err, tc.wantErr)
				if errors.Is(tc.wantErr, io.EOF) {
					assert.Equal(t, io.EOF, err, "a clean end is io.EOF itself")
				}
			})
		}
	}
}

// endless is a reader that never sends a line end.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadLineEndless(t *testing.T) {
	src := &endless{}
	r := bufio.NewReaderSize(src, 4096)
	_, err := ReadLine(r, MaxLineLen)
	require.ErrorIs(t, err, ErrLineTooLong)
	// It stopped after about MaxLineLen bytes, not at some memory limit.
	assert.LessOrEqual(t, src.n, int64(3*4096))
}

func TestReadLineDoesNotAlias(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("first\nsecond\n"), 16)
	a, err := ReadLine(r, 100)
	require.NoError(t, err)
	_, err = ReadLine(r, 100)
	require.NoError(t, err)
	assert.Equal(t, "first", string(a))
}

func TestReadLineError(t *testing.T) {
	boom := errors.New("boom")
	r := bufio.NewReader(iotest.ErrReader(boom))
	_, err := ReadLine(r, 100)
	assert.ErrorIs(t, err, boom)
}
