// Package doctor tells an administrator whether a PBX is ready for
// astcti: `astcti doctor` (cmd/astcti/doctor.go) is its only caller. It
// logs in to the manager interface as the server would (cti/ami, the same
// ami.Config), loads the configuration the server would load
// (config.LoadDir), and turns what it learns into Results, one line each:
// OK, WARN (astcti works, less well, or something could not be checked)
// or FAIL (astcti will not work as configured), each with what to do.
//
// A run has three steps, all in the caller's goroutine but one:
//
//  1. gather (gather.go) asks the PBX, in a fixed order: its version
//     (the banner's manager version gives the generation of events, 1.4,
//     1.6–11 or 12+; CoreSettings or `core show version` the release),
//     the harmless probe of each write class (classes.go: an action
//     Asterisk refuses for another reason than the class, such as a
//     QueueAdd to a queue that does not exist or an Originate without a
//     channel: "Permission denied" means the class is missing, any other
//     answer that it is there; no call is placed, no member added), the
//     user's read classes from `manager show user` (which needs Command),
//     one UserEvent that should come back, the clock (Ping's timestamp,
//     else Getvar of EPOCH), the services' contexts (ShowDialPlan, else
//     `dialplan show`, parsed by dialplan.go) and the contexts they jump
//     to by Goto, Gosub or Macro (one level), each Local seat's
//     exten@context, and each queue (QueueStatus). With Options.ManagerConf
//     it also reads the user's section of manager.conf (managerconf.go:
//     templates, #include) for its eventfilter and writetimeout lines.
//  2. the checks (checks.go) judge these facts against the configuration,
//     in a stable order: config, connect, version, write …, read …,
//     eventfilter, writetimeout, clock, then each service's context, queue
//     and variables, then the seats. A variable counts as set when an
//     application of its context (or of a context it jumps to) sets it:
//     Set, MSet, Read, ReadExten or a UserEvent header (vars.go), its name
//     compared without case and without the _ or __ of inheritance.
//     Variables set before the call reaches the service's context are not
//     seen. The eventfilter lines are held to sample events of the
//     configured services (samples.go, filter.go: the legacy and the
//     advanced syntax, as main/manager.c applies them).
//  3. with Options.Watch, watch (watch.go) waits for a call into a
//     configured service and says which of the events astcti needs it
//     brought: the one way to test the read classes and eventfilter lines
//     of a user without manager.conf or Command.
//
// The one other goroutine is the session's collector (session.go), which
// hands every event of the manager connection, from its login on, to the
// watcher; the watcher's mutex guards what both read. The ami.Client's
// own goroutines end when the session is closed, before Run returns.
//
// The doctor holds no global state; its tunables (timeouts, bounds) are
// package variables in one block per file, for tests. Everything is
// bounded: the whole run by the caller's context, each action by its
// timeout, command output by the AMI reader's limits, manager.conf by
// file count, size and #include depth, the watch by its duration.
package doctor
