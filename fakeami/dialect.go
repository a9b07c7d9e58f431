package fakeami

import (
	"fmt"

	"github.com/astcti/astcti/cti/ami"
)

// Dialect is the generation of manager events a fake PBX speaks.
type Dialect int

const (
	// Dialect14 speaks Asterisk 1.4: Link/Unlink, Dial with Source and
	// Destination, Join/Leave, QueueMemberPaused with Location, AppData with '|'.
	Dialect14 Dialect = iota
	// DialectModern speaks Asterisk 12–22: DialBegin/DialEnd, Bridge*,
	// QueueCallerJoin, VarSet, Linkedid, AppData with ','.
	DialectModern
)

// ParseDialect reads a dialect name as given on the command line.
func ParseDialect(s string) (Dialect, error) {
	switch s {
	case "1.4":
		return Dialect14, nil
	case "modern", "22", "20":
		return DialectModern, nil
	}
	return 0, fmt.Errorf("unknown dialect %q (want 1.4 or modern)", s)
}

func (d Dialect) String() string {
	switch d {
	case Dialect14:
		return "1.4"
	case DialectModern:
		return "modern"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ManagerVersion is the version the banner announces, as the recorded
// Asterisk builds announce it.
func (d Dialect) ManagerVersion() string {
	if d == Dialect14 {
		return "1.0"
	}
	return "11.0.0"
}

// Sink receives the frames meant for one manager session: responses to its
// actions and the events it may see. Send must not block: a session queues
// the frame or, when its queue is full, drops the session (as Asterisk drops
// a manager client that does not read).
type Sink interface {
	Send(f *ami.Frame)
}
