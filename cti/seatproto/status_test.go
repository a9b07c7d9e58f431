package seatproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusLines(t *testing.T) {
	tests := []struct {
		name  string
		st    Status
		want  string
		final bool
	}{
		{"welcome", Welcome(), "100 WELCOME", false},
		{"ok", OK(), "100 OK", false},
		{"ko", KO("unknown command"), "101 KO unknown command", false},
		{"logged in", LoggedIn(), "102 OK", false},
		{"queue", InQueue("astcti-queue"), "200 astcti-queue", false},
		{"left queue", LeftQueue("astcti-queue"), "201 astcti-queue", false},
		{"pause ok", PauseOK(), "300 OK", false},
		{"pause pending", PausePending(), "301 PAUSE PENDING", false},
		{"pause ko", PauseKO("not in any queue"), "302 KO not in any queue", false},
		{"bye", Bye(), "900 OK", true},
		{"keepalive", KeepaliveTimeout(), "901 KO keepalive timeout", true},
		{"shutdown", ServerShutdown(), "900 OK server shutdown", true},
		{"slow consumer", SlowConsumer(), "903 KO slow consumer", true},
		{"operator disabled", OperatorDisabled(), "904 KO operator disabled", true},
		{"seat removed", SeatRemoved(), "905 KO seat removed", true},
		{"replaced", Replaced(), "999 KO replaced by a new login", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendStatus(nil, tc.st)
			assert.Equal(t, tc.want+"\n", string(b), "AppendStatus(%+v)", tc.st)
			assert.Equal(t, tc.want, tc.st.String())
			assert.Equal(t, tc.final, tc.st.Final())
			assert.False(t, IsEvent(b))

			got, err := ParseStatus(b)
			require.NoError(t, err, "ParseStatus(%q)", b)
			assert.Equal(t, tc.st, got, "ParseStatus(%q) = %+v, want %+v", b, got, tc.st)
		})
	}
}

func TestAppendStatusHostile(t *testing.T) {
	tests := []struct {
		name string
		st   Status
		want string
	}{
		{"newline in reason", KO("bad\nQUIT"), "101 KO bad QUIT"},
		{"crlf in reason", KO("a\r\n200 fake"), "101 KO a  200 fake"},
		{"line separator", KO("a\u2028b\u0085c"), "101 KO a b c"},
		{"invalid utf8", KO("caf\xe9"), "101 KO caf\uFFFD"},
		{"spaces around", KO("  x  "), "101 KO x"},
		{"only controls", KO("\n\r\t"), "101 KO"},
		{"space in token", InQueue("my queue"), "200 my_queue"},
		{"empty token", Status{Code: 200}, "200 -"},
		{"code too small", Status{Code: 7, Token: "OK"}, "999 OK"},
		{"code too big", Status{Code: 1000, Token: "OK"}, "999 OK"},
		{"long reason cut", KO(strings.Repeat("é", MaxStatusText)), "101 KO " + strings.Repeat("é", MaxStatusText/2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendStatus(nil, tc.st)
			assert.Equal(t, tc.want+"\n", string(b))
			assert.Equal(t, 1, strings.Count(string(b), "\n"))
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Status
	}{
		{"crlf", "100 OK\r\n", Status{100, "OK", ""}},
		{"no newline", "101 KO not authenticated", Status{101, "KO", "not authenticated"}},
		{"many spaces", "302   KO    busy  now  ", Status{302, "KO", "busy  now"}},
		{"seed typo order", "302 busy KO", Status{302, "busy", "KO"}},
		{"unknown code", "555 NEW thing", Status{555, "NEW", "thing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStatus([]byte(tc.line))
			require.NoError(t, err, "ParseStatus(%q)", tc.line)
			assert.Equal(t, tc.want, got, "ParseStatus(%q) = %+v, want %+v", tc.line, got, tc.want)
		})
	}
}

func TestParseStatusErrors(t *testing.T) {
	for _, line := range []string{
		"", "\n", "100", "100 ", "100  ", "10 OK", "1000 OK", "099 OK", "abc OK", "100OK",
		"<event id=\"Link\"></event>", " 100 OK", "1x0 OK",
	} {
		t.Run(line, func(t *testing.T) {
			got, err := ParseStatus([]byte(line))
			assert.ErrorIs(t, err, ErrBadStatus, "ParseStatus(%q) = %+v, want an error", line, got)
		})
	}
}

func TestIsEvent(t *testing.T) {
	assert.True(t, IsEvent([]byte(`<event id="Link">`)))
	assert.False(t, IsEvent([]byte("100 OK")))
	assert.False(t, IsEvent(nil))
}
