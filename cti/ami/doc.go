// Package ami speaks the Asterisk Manager Interface: the codec (Reader,
// Writer, Frame) and the Client, the one manager connection the whole CTI
// server shares.
//
// # Codec
//
// An AMI stream is a banner line ("Asterisk Call Manager/11.0.0"), then
// messages of "Key: Value" lines ending in an empty line. Keys repeat and
// keep their order, so a Frame is an ordered []Field with case-insensitive,
// first-match Get (as Asterisk's astman_get_header) and Values for repeated
// keys. Reader parses without copying: Next returns a Message aliasing its
// buffer, and Message.Frame copies it into one string. The Reader bounds
// every line (MaxLine) and message (MaxPacket), so a hostile peer gets a
// *ProtocolError, never unbounded memory. AppendFrame and Writer refuse keys
// and values that would inject a line end. Asterisk 1.4's command output
// ("Response: Follows" … "--END COMMAND--") lands in Frame.Output.
//
// # Client
//
// Run is the supervisor: connect, read the banner, log in (plain secret or
// MD5 challenge), wait for FullyBooted where the PBX sends it, read the PBX
// start time with CoreStatus, serve the link, and on any failure reconnect
// after a pause, until its context ends or Close is called.
//
// Each connection has one reader and one writer goroutine. The reader only
// reads, parses, copies and hands off, because Asterisk drops a manager
// client that does not read within its writetimeout (100 ms by default). A
// response goes to the Call with its ActionID (client-generated, unique); the
// item events of a list action (QueueStatus, CoreShowChannels, Status, …:
// "EventList: start" in modern Asterisk, "… will follow" in 1.4) go to that
// Call's Items up to the closing …Complete event; every other event goes to
// the subscribers. The writer owns the socket's write side: actions reach it
// through a bounded queue, so Go never blocks (a full queue fails the call
// with ErrQueueFull), and it fails actions whose deadline passed
// (ErrActionTimeout) and sends the keepalive Ping (ErrPingTimeout closes the
// link). When a connection ends, every pending action fails with
// ErrDisconnected.
//
// Go (in the style of net/rpc, for the hub goroutine, which must never
// block) and Do (blocking, for everybody else) send actions. Subscribe gives
// an ordered stream of Items, each subscription with its own bounded buffer:
// a subscriber that lets it fill is closed with ErrSlowSubscriber, so no
// subscriber can stall the reader or the others, and none loses an event
// without knowing. Link changes travel in the same stream: a LinkUp (link
// and attempt number, banner version, PBX start time, whether the PBX
// restarted) before a connection's first event, a LinkDown after its last.
// After a LinkUp the owner resynchronises; after RestartYes it also knows
// that every channel and dynamic queue member is gone.
//
// Every exported method of Client and Subscription is safe for concurrent
// use. Reader, Writer and Frame are not: one goroutine owns each.
package ami
