// Package seatclient is the seat client of astcti: the program on an
// operator's PC that logs in to the astcti server, is told about the calls
// of the operator's phone, and performs the screen pop of each answered
// call (what AsteriskCTI called its Client). It
// speaks the seat protocol of docs/protocol.md through a seatconn.Conn
// (framing, login, commands; the wire form is seatproto's), and nothing
// else: it imports no other package of astcti. The `astcti
// client` command is a thin layer of flags over it.
//
// # The session
//
// Client.Run connects (TCP, or TLS with Config.TLS), reads "100 WELCOME",
// sends USER, PASS (the MD5 of the password) and MAC (when there is one),
// then keeps the session: a NOOP every Config.Keepalive (20 s by default,
// a third of the server's 60 s timeout), every status line and event to
// Config.Notify, the action of each Link event to Config.Runner, and the
// user's commands from Client.Send. When the connection is lost, or the
// server ends the session (900 server shutdown, 901, 902, 903, 905, or 906
// instead of the welcome: too many connections), Run
// reconnects with exponential backoff and jitter and logs in again, for
// ever. It stops for good only when:
//
//   - its context is cancelled: it sends QUIT, waits for "900 OK" (at most
//     QuitTimeout) and returns nil;
//   - the server refuses the login or the seat, at start or on a
//     reconnection (*RefusedError, ErrLoginRefused or ErrSeatRefused):
//     retrying would not help;
//   - at start, Config.Retries attempts failed before any session
//     (*UnreachableError, ErrUnreachable); 0 retries for ever;
//   - the server says "999 KO replaced by a new login" (ErrReplaced): the
//     operator logged in on another PC, and reconnecting would take the
//     session back from it.
//
// A server silent for twice the keepalive interval (it answers every NOOP)
// is taken as gone. The client pairs each status line with the command it
// answers (Note.Command; PAUSE is answered 30x, other commands 10x, each
// family in order) and marks the answers to its own NOOPs
// (Note.Keepalive). To keep the pairing sure it sends no PAUSE while a
// PAUSE waits for its answer, and no NOOP or ORIG while an ORIG does (Send
// holds the command until then; the keepalive NOOP is skipped), because
// the server answers a later command before them. When it stops, it lets
// the commands sent get their answers before it sends QUIT, so that a
// script piping "pause lunch" then "quit" into the client sees the pause's
// outcome.
//
// # Actions
//
// Runner performs a Link's action. An application is started directly
// with os/exec, its parameters split into arguments by seatproto.SplitArgs
// (quotes respected, as a POSIX shell would split them but with no
// expansion of any kind): never through a shell, so no caller id can run a
// command. On Windows, .bat and .cmd programs are refused, since Windows
// runs them through cmd.exe. A browser action opens the URL with the
// platform's opener (OpenerCommand: xdg-open, open, or rundll32
// url.dll,FileProtocolHandler), only for http and https URLs (CheckURL).
// The Runner does not wait for what it starts; a goroutine per process
// waits for it and logs how it ended. A Link re-sent for the same call and
// channel (the re-pop after a reconnection) is not performed twice.
//
// # The seat's MAC address
//
// DetectMAC picks the address of the machine's first real network
// interface (PickMAC documents the rule: no loopback, down, virtual,
// zero-MAC interface; burnt-in addresses first).
//
// # Goroutines
//
// Run's goroutine owns the session: it dials, logs in, writes every line
// (each write has a deadline; the client's lines are few and small) and
// handles every line read. One reader goroutine per connection reads lines
// (seatconn.Conn.ReadMessage, bounded by seatproto.MaxServerLineLen) and
// hands them over; Run waits for it when the connection ends. The Runner's
// goroutines each wait for one started process (Runner.Wait). ReadInput,
// which reads the user's commands, runs in its caller's goroutine.
package seatclient
