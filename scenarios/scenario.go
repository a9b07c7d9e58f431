// Package scenarios holds the fake PBX's scenario language and the library
// of scenario files that tests, fakeami, the demo and the load generator share.
//
// A scenario file is a txtar archive (golang.org/x/tools/txtar format, as
// read by github.com/rogpeppe/go-internal/txtar). Its comment, the text
// before the first file, says in words what the scenario shows. Its files
// are written the way an Asterisk administrator writes them:
//
//	-- extensions.conf --   dialplan contexts, extensions.conf syntax
//	-- queues.conf --       queues, queues.conf syntax
//	-- phones --            how each phone behaves, one line per interface
//	-- calls --             calls that arrive, one line per call
//	-- traffic --           random steady traffic (optional)
//	-- expect --            expected seat lines (read by tests, not by Parse)
//
// See docs/scenarios.md for the language with examples.
package scenarios

import (
	"fmt"
	"time"
)

// Scenario is a parsed scenario file. Several scenarios can be merged into
// one PBX (Merge): the demo dialplan plus a file of calls, say.
type Scenario struct {
	Name     string              // file name without extension
	Comment  string              // the archive comment: what the scenario shows
	Contexts map[string]*Context // dialplan, by context name
	Queues   map[string]*Queue   // by queue name
	Phones   map[string]*Phone   // by interface, e.g. "SIP/201"
	Calls    []Call              // in file order; each has its own start time
	Traffic  *Traffic            // nil when the scenario has no random traffic
	Expect   string              // the raw "expect" file, for tests; "" if absent
	Globals  map[string]string   // [globals] of extensions.conf, for ${VAR} expansion
}

// Context is one dialplan context.
type Context struct {
	Name   string
	Line   int    // line of its first [name] header in extensions.conf
	Source string // name given to Parse, for messages after Merge
	// Extens maps an extension (a literal such as "101", or a pattern
	// starting with "_" such as "_2XX" or "_X.") to its priorities in order.
	Extens map[string][]Step
	// Order lists the keys of Extens in file order; Match tries equally
	// specific patterns in this order (see Match).
	Order []string

	// extenSource names the scenario of each extension that Merge took
	// from another scenario than Source, for messages.
	extenSource map[string]string
}

// Step is one priority of an extension: an application and its arguments,
// split on "," (or "|", the 1.4 separator) outside quotes and (), [], {}.
// Args are the raw texts with ${VAR} references left for the PBX to expand
// when the step runs. Set is not split: its only argument is the whole
// "name=value" text, as Asterisk reads it (a value may hold commas). App is
// always spelled as in the list below, whatever the case in the file.
type Step struct {
	Priority int    // 1, 2, 3 … (an "n" priority is numbered on parse)
	Label    string // optional (name) label; "" if none
	App      string // Answer, Set, Dial, Queue, Hangup, Wait, Ringing, Busy, Read, UserEvent, Goto, NoOp, Playback
	Args     []string
	Line     int // line in the file, for error messages
}

// Queue is one queues.conf section.
type Queue struct {
	Name       string
	Strategy   string        // ringall (default), rrmemory, leastrecent, random, linear, fewestcalls
	Timeout    time.Duration // how long a member is rung per attempt (default 15 s)
	Retry      time.Duration // pause between attempts (default 5 s, as Asterisk)
	RingInUse  bool          // ring members already in a call (default true, as Asterisk)
	WrapupTime time.Duration
	Members    []Member // static members (member => lines); usually none
	Line       int      // line of its [name] header in queues.conf
	Source     string   // name given to Parse, for messages after Merge
}

// Member is a static queue member.
type Member struct {
	Interface string
	Penalty   int
	Name      string
	Line      int // line of its member => in queues.conf (of the template, if inherited)
}

// Behaviour is what a phone does when it is rung.
type Behaviour int

const (
	Answers      Behaviour = iota // rings for AnswerAfter, then answers
	NeverAnswers                  // rings until the caller gives up
	Busy                          // answers the ring with busy at once (Cause 17)
	Unreachable                   // does not exist on the network: dialling it fails at once (Cause 20/CHANUNAVAIL)
)

// Phone says how one interface behaves. Interfaces not listed answer after
// DefaultAnswerAfter and never hang up on their own.
type Phone struct {
	Interface   string // as dialled: SIP/201, PJSIP/201, Local/201@phones
	Behaviour   Behaviour
	AnswerAfter time.Duration // for Answers: ring time before answering
	TalkFor     time.Duration // for Answers: hang up this long after answering; 0 = never
	NoRinging   bool          // answers without a Ringing indication first
	Line        int
	Source      string // name given to Parse, for messages after Merge
}

// DefaultAnswerAfter is how long an unlisted phone rings before it answers.
const DefaultAnswerAfter = 2 * time.Second

// DefaultChannel is the interface calls and traffic arrive on when the
// file does not say "via": the SIP peer of the trunk, as in the SIP traces.
const DefaultChannel = "SIP/trunk"

// String returns b as the phones file writes it.
func (b Behaviour) String() string {
	switch b {
	case Answers:
		return "answers"
	case NeverAnswers:
		return "never answers"
	case Busy:
		return "busy"
	case Unreachable:
		return "unreachable"
	}
	return fmt.Sprintf("Behaviour(%d)", int(b))
}

// Call is one call that reaches the PBX from outside (a trunk): it starts at
// At, presents caller id CallerNum/CallerName, and enters Exten@Context.
type Call struct {
	At         time.Duration
	CallerNum  string
	CallerName string
	Exten      string
	Context    string
	Channel    string        // channel technology/peer it arrives on, e.g. "SIP/trunk" (default)
	HangupAt   time.Duration // caller hangs up this long after At; 0 = only when the far end does
	Digits     string        // DTMF the caller keys in once answered, read by Read(); "" if none
	Line       int
	Source     string // name given to Parse, for messages after Merge
}

// Traffic is random steady traffic: calls arrive at Rate per minute into
// Targets, from caller numbers drawn from [FromNum, ToNum], each hanging up
// after a time drawn from [MinHold, MaxHold] (the caller's patience, counted
// from arrival). Seed makes the sequence repeatable; 0 means "pick one".
type Traffic struct {
	Rate             float64 // calls per minute
	Targets          []Target
	FromNum, ToNum   int
	MinHold, MaxHold time.Duration
	Seed             int64
	Channel          string // channel the calls arrive on (default DefaultChannel)
	Line             int
	Source           string // name given to Parse, for messages after Merge
}

// Target is an extension@context that traffic calls, with a relative weight.
type Target struct {
	Exten, Context string
	Weight         int
}
