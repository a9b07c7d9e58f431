// Package fakeami is a fake Asterisk PBX that behaves like one, for tests,
// demos and load runs. It is not a player of canned bytes: a PBX keeps a
// model of channels, bridges, queues and queue members, runs a small
// dialplan (Answer, Set, Dial, Queue, Read, UserEvent, Goto, Hangup, …),
// rings phones as a scenario says they behave, and reacts to the manager
// actions it receives (QueueAdd, QueuePause, Originate, …) the way Asterisk
// does, in the events of Asterisk 1.4 or of Asterisk 12–22 (Dialect).
//
// The package has three parts:
//
//   - PBX, the model (pbx.go and the files it names). One mutex guards it;
//     it does no I/O and calls Sinks, which must not block, in one global
//     order. Run drives its clock: scheduled calls, ring timers, traffic.
//   - Server, the manager interface over TCP (server.go): banner, Login with
//     a plain secret or the MD5 challenge, Ping, Events and Logoff, and the
//     rest of each logged-in session's actions handed to the PBX. Its
//     manager users (users.go, manager.go) have read and write classes and
//     eventfilter lines, enforced as Asterisk enforces them, and the
//     manager answers `manager show user` about them. Each
//     session has a reader and a writer goroutine and a bounded queue; a
//     client that does not read is dropped, as Asterisk drops it. A Replay
//     (replay.go) stands in for the PBX to play a recorded trace instead.
//   - Control, the HTTP control API (control.go) that tests and demos use
//     to post scenarios, read the model's state and restart the PBX.
//
// Listen (running.go) serves the three on their listeners, as cmd/fakeami
// and the load generator's PBX child run them, and stops them in order,
// waiting for every goroutine; Start does the same for tests, without the
// control API.
//
// The conformance tests hold the PBX's output to the recordings of real
// Asterisk in testdata/ami-traces: field names and order of every event,
// and the order of the events that matter to a CTI server.
package fakeami
