package cti_test

import (
	"strings"
	"testing"

	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatproto"
)

// TestSeatLineLength: the seat reader's buffer is much shorter than the
// longest line the protocol allows; a line up to that limit is still read
// whole and answered (here as an unknown command), and the session goes
// on, while a line one byte longer is refused and the connection closed.
func TestSeatLineLength(t *testing.T) {
	tests := []struct {
		name   string
		length int // of the line before its "\r\n"
		want   string
		closed bool
	}{
		{name: "longer than the read buffer", length: 1000, want: `^101 KO unknown command$`},
		{name: "the longest line", length: seatproto.MaxLineLen, want: `^101 KO unknown command$`},
		{name: "one byte too long", length: seatproto.MaxLineLen + 1, want: `^101 KO line too long$`, closed: true},
	}
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := srv.Dial()
			st.Expect(`^100 WELCOME$`)
			st.Send("HELLO " + strings.Repeat("x", tc.length-len("HELLO ")))
			st.Expect(tc.want)
			if tc.closed {
				st.ExpectClosed()
				return
			}
			st.Send("NOOP")
			st.Expect(`^100 OK$`)
		})
	}
}
