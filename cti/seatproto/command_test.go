package seatproto

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	const md5 = "5f4dcc3b5aa765d61d8327deb882cf99"
	tests := []struct {
		name string
		line string
		want Command
	}{
		{"user", "USER alice\n", Command{Verb: VerbUser, User: "alice"}},
		{"user lower case verb", "user alice", Command{Verb: VerbUser, User: "alice"}},
		{"user mixed case verb crlf", "UsEr alice\r\n", Command{Verb: VerbUser, User: "alice"}},
		{"user many spaces", "USER    bob.smith@corp  ", Command{Verb: VerbUser, User: "bob.smith@corp"}},
		{"user leading spaces", "   USER bob", Command{Verb: VerbUser, User: "bob"}},
		{"user utf8", "USER renée", Command{Verb: VerbUser, User: "renée"}},
		{"user 64 bytes", "USER " + strings.Repeat("a", 64), Command{Verb: VerbUser, User: strings.Repeat("a", 64)}},
		{"pass", "PASS " + md5, Command{Verb: VerbPass, Password: md5}},
		{"pass upper case hex is lowered", "pass " + strings.ToUpper(md5), Command{Verb: VerbPass, Password: md5}},
		{"mac colon", "MAC 00:11:22:33:44:55", Command{Verb: VerbMAC, MAC: "00:11:22:33:44:55"}},
		{"mac dash upper", "mac AA-BB-CC-DD-EE-0F", Command{Verb: VerbMAC, MAC: "aa:bb:cc:dd:ee:0f"}},
		{"mac mixed case", "MAC aA:bB:cC:dD:eE:fF", Command{Verb: VerbMAC, MAC: "aa:bb:cc:dd:ee:ff"}},
		{"mac bare", "MAC 001122AABBCC", Command{Verb: VerbMAC, MAC: "00:11:22:aa:bb:cc"}},
		{"noop", "NOOP", Command{Verb: VerbNoop}},
		{"noop trailing spaces", "noop   \r\n", Command{Verb: VerbNoop}},
		{"quit", "QUIT\n", Command{Verb: VerbQuit}},
		{"orig", "ORIG 201 astcti-out 1", Command{Verb: VerbOrig, Exten: "201", Context: "astcti-out", Priority: "1"}},
		{"orig dial chars", "orig +39*02#1 from_internal.x+y 2", Command{Verb: VerbOrig, Exten: "+39*02#1", Context: "from_internal.x+y", Priority: "2"}},
		{"orig many spaces", "ORIG   5551234    out    1  ", Command{Verb: VerbOrig, Exten: "5551234", Context: "out", Priority: "1"}},
		{"orig leading zeros dropped", "ORIG 1 out 007", Command{Verb: VerbOrig, Exten: "1", Context: "out", Priority: "7"}},
		{"orig label", "ORIG 1 out start_call-2", Command{Verb: VerbOrig, Exten: "1", Context: "out", Priority: "start_call-2"}},
		{"orig exten 40", "ORIG " + strings.Repeat("9", 40) + " out 1", Command{Verb: VerbOrig, Exten: strings.Repeat("9", 40), Context: "out", Priority: "1"}},
		{"orig context 79", "ORIG 1 " + strings.Repeat("c", 79) + " 1", Command{Verb: VerbOrig, Exten: "1", Context: strings.Repeat("c", 79), Priority: "1"}},
		{"pause in", "PAUSE IN", Command{Verb: VerbPauseIn}},
		{"pause in lower", "pause in\r\n", Command{Verb: VerbPauseIn}},
		{"pause in reason", "PAUSE IN lunch", Command{Verb: VerbPauseIn, Reason: "lunch"}},
		{"pause in reason spaces kept inside", "PAUSE   In   coffee  with  Anna  ", Command{Verb: VerbPauseIn, Reason: "coffee  with  Anna"}},
		{"pause in utf8 reason", "PAUSE IN pausa caffè ☕", Command{Verb: VerbPauseIn, Reason: "pausa caffè ☕"}},
		{"pause in reason 79 bytes", "PAUSE IN " + strings.Repeat("r", 79), Command{Verb: VerbPauseIn, Reason: strings.Repeat("r", 79)}},
		{"pause in reason with specials", `PAUSE IN <b>&"x'; rm -rf /`, Command{Verb: VerbPauseIn, Reason: `<b>&"x'; rm -rf /`}},
		{"pause out", "PAUSE OUT", Command{Verb: VerbPauseOut}},
		{"token", "token", Command{Verb: VerbToken}},
		{"resume", "RESUME AAECAwQFBgcICQoLDA0ODxAR-_xy", Command{Verb: VerbResume, Token: "AAECAwQFBgcICQoLDA0ODxAR-_xy"}},
		{"pause out lower", "pause out  ", Command{Verb: VerbPauseOut}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCommand([]byte(tc.line))
			require.NoError(t, err, "ParseCommand(%q)", tc.line)
			assert.Equal(t, tc.want, got, "ParseCommand(%q) = %+v, want %+v", tc.line, got, tc.want)

			// The canonical form parses back to the same command.
			b, err := AppendCommand(nil, got)
			require.NoError(t, err, "AppendCommand(%+v)", got)
			again, err := ParseCommand(b)
			require.NoError(t, err, "ParseCommand(AppendCommand) of %q", b)
			assert.Equal(t, got, again)
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   error  // sentinel
		status string // the answer, ErrorReply(err)
	}{
		{"empty", "", ErrEmptyLine, ""},
		{"newline only", "\r\n", ErrEmptyLine, ""},
		{"spaces only", "    \n", ErrEmptyLine, ""},
		{"unknown", "HELLO", ErrUnknownCommand, "101 KO unknown command"},
		{"unknown with args", "DIAL 201", ErrUnknownCommand, "101 KO unknown command"},
		{"verb prefix", "NOOPS", ErrUnknownCommand, "101 KO unknown command"},
		{"verb with tab", "NOOP\t", ErrUnknownCommand, "101 KO unknown command"},
		{"two CRs", "NOOP\r\r\n", ErrUnknownCommand, "101 KO unknown command"},
		{"nul", "\x00", ErrUnknownCommand, "101 KO unknown command"},
		{"html", "<event>", ErrUnknownCommand, "101 KO unknown command"},
		{"noop param", "NOOP now", ErrTooManyParams, "101 KO too many parameters"},
		{"quit param", "QUIT please", ErrTooManyParams, "101 KO too many parameters"},
		{"user missing", "USER", ErrMissingParam, "101 KO missing user name"},
		{"user missing spaces", "USER   ", ErrMissingParam, "101 KO missing user name"},
		{"user two words", "USER alice bob", ErrTooManyParams, "101 KO too many parameters"},
		{"user too long", "USER " + strings.Repeat("a", 65), ErrBadParam, ""},
		{"user control", "USER al\x01ice", ErrBadParam, ""},
		{"user invalid utf8", "USER \xff\xfe", ErrBadParam, ""},
		{"pass missing", "PASS", ErrMissingParam, "101 KO missing password"},
		{"pass short", "PASS 5f4dcc3b", ErrBadParam, "101 KO password is not an MD5 digest (32 hex digits)"},
		{"pass not hex", "PASS " + strings.Repeat("g", 32), ErrBadParam, "101 KO password is not an MD5 digest (32 hex digits)"},
		{"pass two", "PASS " + strings.Repeat("a", 32) + " x", ErrTooManyParams, "101 KO too many parameters"},
		{"mac missing", "MAC", ErrMissingParam, "101 KO missing MAC address"},
		{"mac short", "MAC 00:11:22:33:44", ErrBadParam, `101 KO invalid MAC address "00:11:22:33:44"`},
		{"mac mixed separators", "MAC 00:11-22:33:44:55", ErrBadParam, `101 KO invalid MAC address "00:11-22:33:44:55"`},
		{"mac dot separators", "MAC 00.11.22.33.44.55", ErrBadParam, ""},
		{"mac not hex", "MAC 00:11:22:33:44:5g", ErrBadParam, ""},
		{"mac bare not hex", "MAC 00112233445z", ErrBadParam, ""},
		{"mac two", "MAC 00:11:22:33:44:55 x", ErrTooManyParams, ""},
		{"orig missing all", "ORIG", ErrMissingParam, "101 KO missing exten, context and priority"},
		{"orig missing context", "ORIG 201", ErrMissingParam, "101 KO missing context and priority"},
		{"orig missing prio", "ORIG 201 out", ErrMissingParam, "101 KO missing priority"},
		{"orig too many", "ORIG 201 out 1 x", ErrTooManyParams, "101 KO too many parameters"},
		{"orig exten letters", "ORIG 20a out 1", ErrBadParam, `101 KO invalid exten "20a" (digits and + * #, at most 40)`},
		{"orig exten sip uri", "ORIG sip:evil@host out 1", ErrBadParam, ""},
		{"orig exten dial string", "ORIG 201&SIP/666 out 1", ErrBadParam, ""},
		{"orig exten 41", "ORIG " + strings.Repeat("9", 41) + " out 1", ErrBadParam, ""},
		{"orig context slash", "ORIG 201 out/x 1", ErrBadParam, ""},
		{"orig context comma", "ORIG 201 out,s 1", ErrBadParam, ""},
		{"orig context leading dash", "ORIG 201 -out 1", ErrBadParam, ""},
		{"orig context 80", "ORIG 201 " + strings.Repeat("c", 80) + " 1", ErrBadParam, ""},
		{"orig prio zero", "ORIG 201 out 0", ErrBadParam, `101 KO invalid priority "0" (a positive number or a label)`},
		{"orig prio negative", "ORIG 201 out -1", ErrBadParam, ""},
		{"orig prio plus", "ORIG 201 out +1", ErrBadParam, ""},
		{"orig prio mixed", "ORIG 201 out 1a", ErrBadParam, ""},
		{"orig prio huge", "ORIG 201 out 99999999999", ErrBadParam, ""},
		{"orig prio bad label", "ORIG 201 out la$bel", ErrBadParam, ""},
		{"pause alone", "PAUSE", ErrMissingParam, "302 KO missing IN or OUT"},
		{"pause bad word", "PAUSE NOW", ErrBadParam, `302 KO expected IN or OUT, not "NOW"`},
		{"pause out extra", "PAUSE OUT lunch", ErrTooManyParams, "302 KO too many parameters"},
		{"token extra", "TOKEN please", ErrTooManyParams, "101 KO too many parameters"},
		{"resume alone", "RESUME", ErrMissingParam, "101 KO missing token"},
		{"resume two", "RESUME abc def", ErrTooManyParams, "101 KO too many parameters"},
		{"resume not base64url", "RESUME ab+/c=", ErrBadParam, "101 KO token is not URL-safe base64"},
		{"resume too long", "RESUME " + strings.Repeat("A", MaxTokenLen+1), ErrBadParam, "101 KO token too long"},
		{"pause in newline inside", "PAUSE IN a\rb", ErrBadParam, "302 KO pause reason has control characters"},
		{"pause in tab", "PAUSE IN a\tb", ErrBadParam, "302 KO pause reason has control characters"},
		{"pause in c1", "PAUSE IN a\u0085b", ErrBadParam, "302 KO pause reason has control characters"},
		{"pause in line separator", "PAUSE IN a\u2028b", ErrBadParam, "302 KO pause reason has control characters"},
		{"pause in invalid utf8", "PAUSE IN caf\xe9", ErrBadParam, "302 KO pause reason is not UTF-8"},
		{"pause in 80 bytes", "PAUSE IN " + strings.Repeat("r", 80), ErrBadParam, "302 KO pause reason longer than 79 bytes"},
		{"too long", "NOOP" + strings.Repeat(" ", MaxLineLen), ErrLineTooLong, "101 KO line too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCommand([]byte(tc.line))
			require.Error(t, err, "ParseCommand(%q) = %+v, want an error", tc.line, got)
			assert.ErrorIs(t, err, tc.want, "ParseCommand(%q) = %v, want %v", tc.line, err, tc.want)
			assert.Equal(t, Command{}, got)
			assert.Equal(t, strings.ToLower(err.Error()[:1]), err.Error()[:1], "error strings are lower case")
			if tc.status != "" {
				assert.Equal(t, tc.status, ErrorReply(err).String())
			}
			var pe *ParseError
			if errors.As(err, &pe) {
				assert.NotEmpty(t, pe.Reason)
				assert.NotContains(t, ErrorReply(err).String(), "\n")
			}
		})
	}
}

func TestParseCommandMaxLine(t *testing.T) {
	// Exactly MaxLineLen bytes, "\r\n" not counted, is accepted.
	line := "PAUSE IN x" + strings.Repeat(" ", MaxLineLen-len("PAUSE IN x"))
	require.Len(t, line, MaxLineLen)
	c, err := ParseCommand([]byte(line + "\r\n"))
	require.NoError(t, err)
	assert.Equal(t, Command{Verb: VerbPauseIn, Reason: "x"}, c)

	_, err = ParseCommand([]byte(line + " \r\n"))
	assert.ErrorIs(t, err, ErrLineTooLong)
}

func TestPasswordNotEchoed(t *testing.T) {
	secret := strings.Repeat("s", 31) + "!"
	_, err := ParseCommand([]byte("PASS " + secret))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, ErrorReply(err).String(), secret)
}

func TestAppendCommand(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"user", Command{Verb: VerbUser, User: "alice"}, "USER alice\n"},
		{"pass lowered", Command{Verb: VerbPass, Password: "5F4DCC3B5AA765D61D8327DEB882CF99"}, "PASS 5f4dcc3b5aa765d61d8327deb882cf99\n"},
		{"mac canonical", Command{Verb: VerbMAC, MAC: "00-11-22-AA-BB-CC"}, "MAC 00:11:22:aa:bb:cc\n"},
		{"noop", Command{Verb: VerbNoop}, "NOOP\n"},
		{"quit", Command{Verb: VerbQuit}, "QUIT\n"},
		{"orig", Command{Verb: VerbOrig, Exten: "201", Context: "out", Priority: "01"}, "ORIG 201 out 1\n"},
		{"pause in", Command{Verb: VerbPauseIn}, "PAUSE IN\n"},
		{"pause in reason", Command{Verb: VerbPauseIn, Reason: " lunch break "}, "PAUSE IN lunch break\n"},
		{"pause out", Command{Verb: VerbPauseOut}, "PAUSE OUT\n"},
		{"token", Command{Verb: VerbToken}, "TOKEN\n"},
		{"resume", Command{Verb: VerbResume, Token: "ab-_9Z"}, "RESUME ab-_9Z\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendCommand([]byte("x"), tc.cmd)
			require.NoError(t, err)
			assert.Equal(t, "x"+tc.want, string(got), "AppendCommand(%+v)", tc.cmd)
			assert.Equal(t, strings.TrimSuffix(tc.want, "\n"), tc.cmd.String())
		})
	}
}

func TestAppendCommandRefuses(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
	}{
		{"zero", Command{}},
		{"unknown verb", Command{Verb: 99}},
		{"user empty", Command{Verb: VerbUser}},
		{"user injection", Command{Verb: VerbUser, User: "alice\nQUIT"}},
		{"user space", Command{Verb: VerbUser, User: "alice bob"}},
		{"pass empty", Command{Verb: VerbPass}},
		{"pass clear text", Command{Verb: VerbPass, Password: "secret"}},
		{"mac bad", Command{Verb: VerbMAC, MAC: "nope"}},
		{"orig exten", Command{Verb: VerbOrig, Exten: "1 2", Context: "out", Priority: "1"}},
		{"orig context", Command{Verb: VerbOrig, Exten: "1", Context: "", Priority: "1"}},
		{"orig prio", Command{Verb: VerbOrig, Exten: "1", Context: "out", Priority: "x y"}},
		{"pause reason injection", Command{Verb: VerbPauseIn, Reason: "lunch\r\nQUIT"}},
		{"resume empty", Command{Verb: VerbResume}},
		{"resume injection", Command{Verb: VerbResume, Token: "abc\nQUIT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendCommand(nil, tc.cmd)
			assert.Error(t, err, "AppendCommand(%+v) = %q, want an error", tc.cmd, got)
			assert.Contains(t, tc.cmd.String(), "invalid")
		})
	}
}

func TestVerbString(t *testing.T) {
	assert.Equal(t, "PAUSE OUT", VerbPauseOut.String())
	assert.Equal(t, "Verb(0)", Verb(0).String())
	assert.Equal(t, "Verb(200)", Verb(200).String())
}
