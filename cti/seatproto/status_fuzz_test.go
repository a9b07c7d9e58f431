package seatproto

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseStatus checks the status lines a client reads: ParseStatus
// never panics; a line it accepts has a code of 100–999 and a token;
// AppendStatus of what it read is one line, which ParseStatus reads back
// as the same status when the fields were already clean (valid UTF-8,
// no control characters, no space in the token).
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		"100 WELCOME", "102 OK", "200 astcti-queue\r\n", "202 q no such queue", "301 PAUSE PENDING",
		"903 KO slow consumer\n", "999 KO replaced by a new login", "100  OK  spaced  ", "099 X", "1000 X",
		"100 ", "abc OK", "200 q\x00x", "200 \xff\xfe", "100\tOK",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		st, err := ParseStatus(line)
		if err != nil {
			return
		}
		if st.Code < 100 || st.Code > 999 || st.Token == "" {
			t.Fatalf("ParseStatus(%q) = %+v: code or token out of bounds", line, st)
		}
		out := AppendStatus(nil, st)
		if bytes.IndexByte(out, '\n') != len(out)-1 || bytes.IndexByte(out, '\r') >= 0 {
			t.Fatalf("AppendStatus(%+v) = %q: not one line", st, out)
		}
		clean := func(s string) bool { return utf8.ValidString(s) && strings.IndexFunc(s, notTextRune) < 0 }
		if !clean(st.Token) || !clean(st.Text) || len(st.Token) > MaxStatusText || len(st.Text) > MaxStatusText {
			return
		}
		back, err := ParseStatus(out)
		if err != nil || back != st {
			t.Fatalf("ParseStatus(AppendStatus(%+v)) = %+v, %v", st, back, err)
		}
	})
}
