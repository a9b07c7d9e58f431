package seatclient

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/astcti/astcti/cti/seatproto"
)

func TestParseInput(t *testing.T) {
	orig := func(exten, context string) Input {
		return Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbOrig, Exten: exten, Context: context, Priority: "1"}}
	}
	tests := []struct {
		line string
		want Input
		err  string
	}{
		{"", Input{}, ""},
		{"   \t ", Input{}, ""},
		{"pause", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseIn}}, ""},
		{"pause lunch", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: "lunch"}}, ""},
		{"  PAUSE   lunch  break ", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: "lunch  break"}}, ""},
		{"pause\tlunch", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: "lunch"}}, ""},
		{"Pause café ☕", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: "café ☕"}}, ""},
		{"pause x\x1b[31m", Input{}, "control characters"},
		{"pause 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890", Input{}, "reason"},
		{"unpause", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseOut}}, ""},
		{"UNPAUSE", Input{Kind: InputCommand, Command: seatproto.Command{Verb: seatproto.VerbPauseOut}}, ""},
		{"unpause now", Input{}, "unpause takes no argument"},
		{"call 200", orig("200", "from-operators"), ""},
		{"call +390212345", orig("+390212345", "from-operators"), ""},
		{"call *72#", orig("*72#", "from-operators"), ""},
		{"CALL 200 sales-out", orig("200", "sales-out"), ""},
		{"call", Input{}, "usage: call EXTEN [CONTEXT]"},
		{"call 200 ctx extra", Input{}, "usage: call EXTEN [CONTEXT]"},
		{"call 12a", Input{}, `invalid exten "12a"`},
		{"call 200&SIP/999", Input{}, "invalid exten"},
		{"call 200 bad/context", Input{}, "invalid context"},
		{"quit", Input{Kind: InputQuit}, ""},
		{"QUIT", Input{Kind: InputQuit}, ""},
		{"exit", Input{Kind: InputQuit}, ""},
		{"quit now", Input{}, "quit takes no argument"},
		{"help", Input{Kind: InputHelp}, ""},
		{"?", Input{Kind: InputHelp}, ""},
		{"orig 200 from-operators 1", Input{}, `unknown command "orig"`},
		{"USER bob", Input{}, `unknown command "USER"`},
	}
	for _, tc := range tests {
		got, err := ParseInput(tc.line, "from-operators")
		if tc.err != "" {
			if assert.Error(t, err, "ParseInput(%q)", tc.line) {
				assert.Contains(t, err.Error(), tc.err, "ParseInput(%q)", tc.line)
			}
			continue
		}
		if assert.NoError(t, err, "ParseInput(%q)", tc.line) {
			assert.Equal(t, tc.want, got, "ParseInput(%q)", tc.line)
		}
	}
}

func TestParseInputNoDefaultContext(t *testing.T) {
	_, err := ParseInput("call 200", "")
	assert.ErrorContains(t, err, "no context")
	got, err := ParseInput("call 200 from-operators", "")
	assert.NoError(t, err)
	assert.Equal(t, "from-operators", got.Command.Context)
}
