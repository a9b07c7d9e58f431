// Package seatproto is the seat protocol, the line protocol between the
// astcti server and the programs on operator seats, as message types with
// their parsers and formatters. It does no I/O and starts no goroutines:
// the server, the load generator, the seat client and the tests share it.
// docs/protocol.md is the full description, with every decision taken
// where the contract (docs/seat-protocol.md) leaves a point open.
//
// In brief: TCP, UTF-8, one message per line ending in "\n" in both
// directions ("\r\n" is accepted from clients). A client line is at most
// MaxLineLen bytes; ReadLine reads lines with a bound and never holds an
// endless one.
//
// The client sends commands, case-insensitive, parameters separated by
// spaces (Command, ParseCommand, AppendCommand):
//
//	USER name · PASS md5hex · MAC 00:11:22:33:44:55 · NOOP · QUIT
//	ORIG exten context priority · PAUSE IN [reason] · PAUSE OUT
//
// The server sends status lines "NNN TOKEN [TEXT]" (Status, AppendStatus,
// ParseStatus; the constructors Welcome, OK, KO… name every line of the
// protocol) and events, one line of XML each (Event, AppendEvent,
// ParseEvent); a client tells them apart by the first byte (IsEvent):
//
//	100 WELCOME
//	102 OK
//	200 astcti-queue
//	<event id="Link"><call><uniqueid>1700000000.12</uniqueid>…</call><action type="application">…</action></event>
//
// A status line of code 900 or more is the last of the session (Final):
// 900 OK answers QUIT; 901–905 and 999 say why the server ends it.
//
// A Link event may carry an action: the service's trigger, with ${name}
// placeholders replaced by the call's values (Expand, Call.Value). The
// parameters of an application action are split into arguments by
// SplitArgs, never by a shell, and Expand quotes every value so that no
// caller id can change that split.
//
// Every function of the package is safe to call from any goroutine on
// values that nobody modifies.
package seatproto
