package seatclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/astcti/astcti/cti/seatproto"
)

// InputKind says what a line of the user's input asks for.
type InputKind uint8

// The kinds of input lines.
const (
	// InputNone: an empty line.
	InputNone InputKind = iota
	// InputCommand: send Input.Command to the server.
	InputCommand
	// InputQuit: leave (QUIT, then exit).
	InputQuit
	// InputHelp: show InputHelp.
	InputHelp
)

// Input is one parsed line of the user's input.
type Input struct {
	Kind    InputKind
	Command seatproto.Command
}

// InputHelpText lists the commands ParseInput understands.
const InputHelpText = `commands:
  pause [REASON]        pause in every queue (the reason is optional)
  unpause               unpause
  call EXTEN [CONTEXT]  call EXTEN from this seat's phone (default context: --context)
  quit                  log out and exit
  help                  this list`

// ParseInput parses one line the user typed: pause [reason], unpause,
// call EXTEN [CONTEXT], quit or help; words are case-insensitive and
// separated by spaces or tabs. call uses defaultContext when the line
// names none, at priority 1. The command is checked as the server would
// check it (seatproto.AppendCommand), so a refusal comes at once.
func ParseInput(line, defaultContext string) (Input, error) {
	line = strings.TrimSpace(line)
	word, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		word, rest = line[:i], strings.TrimSpace(line[i+1:])
	}
	args := strings.Fields(rest)
	var in Input
	switch strings.ToLower(word) {
	case "":
		return in, nil
	case "quit", "exit":
		if len(args) > 0 {
			return in, fmt.Errorf("%s takes no argument", word)
		}
		in.Kind = InputQuit
		return in, nil
	case "help", "?":
		in.Kind = InputHelp
		return in, nil
	case "pause":
		in.Command = seatproto.Command{Verb: seatproto.VerbPauseIn, Reason: rest}
	case "unpause":
		if len(args) > 0 {
			return in, errors.New("unpause takes no argument")
		}
		in.Command = seatproto.Command{Verb: seatproto.VerbPauseOut}
	case "call":
		switch len(args) {
		case 0:
			return in, errors.New("usage: call EXTEN [CONTEXT]")
		case 1:
			if defaultContext == "" {
				return in, errors.New("no context: type call EXTEN CONTEXT, or start the client with --context")
			}
			in.Command = seatproto.Command{Verb: seatproto.VerbOrig, Exten: args[0], Context: defaultContext, Priority: "1"}
		case 2:
			in.Command = seatproto.Command{Verb: seatproto.VerbOrig, Exten: args[0], Context: args[1], Priority: "1"}
		default:
			return in, errors.New("usage: call EXTEN [CONTEXT]")
		}
	default:
		return in, fmt.Errorf("unknown command %q (type help)", word)
	}
	if _, err := seatproto.AppendCommand(nil, in.Command); err != nil {
		var pe *seatproto.ParseError
		if errors.As(err, &pe) {
			return in, errors.New(pe.Reason)
		}
		return in, err
	}
	in.Kind = InputCommand
	return in, nil
}

// ReadInput reads the user's commands from r, one per line, and sends them
// with c until r ends or the user types quit, which calls quit. Errors
// (a mistyped command, no session) and the help go to msgs; the server's
// answers come as notes.
//
// ReadInput blocks in r's Read; a caller that stops the client without
// waiting for the end of r leaves it blocked there (the standard input of
// a process cannot be interrupted).
func ReadInput(ctx context.Context, r io.Reader, c *Client, defaultContext string, msgs io.Writer, quit func()) error {
	br := bufio.NewReaderSize(r, seatproto.MaxLineLen+2)
	for {
		line, err := seatproto.ReadLine(br, seatproto.MaxLineLen)
		if errors.Is(err, seatproto.ErrLineTooLong) {
			fmt.Fprintln(msgs, "line too long")
			return err
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		in, err := ParseInput(string(line), defaultContext)
		if err != nil {
			fmt.Fprintln(msgs, err)
			continue
		}
		switch in.Kind {
		case InputQuit:
			quit()
			return nil
		case InputHelp:
			fmt.Fprintln(msgs, InputHelpText)
		case InputCommand:
			if err := c.Send(ctx, in.Command); err != nil {
				if errors.Is(err, context.Canceled) {
					return nil
				}
				fmt.Fprintln(msgs, err)
			}
		}
	}
}
