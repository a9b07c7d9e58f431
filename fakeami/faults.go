package fakeami

import (
	"strings"
	"sync"

	"github.com/astcti/astcti/cti/ami"
)

// Fault is what Faults does to an action instead of handing it on.
type Fault int

const (
	// FaultRefuse answers the action "Response: Error" with the fault's
	// message, as Asterisk refuses an action.
	FaultRefuse Fault = iota + 1
	// FaultIgnore never answers the action, as a PBX too busy to read it
	// (the client's action timeout ends it).
	FaultIgnore
)

// Faults is an Engine in front of another that refuses or ignores the next
// actions of a name, for tests of a failing PBX: "refuse the next two
// QueueAdds, then let them through". It is safe for concurrent use.
type Faults struct {
	Engine
	mu    sync.Mutex
	rules []faultRule
}

type faultRule struct {
	action  string // lower case
	fault   Fault
	left    int
	message string
}

// NewFaults returns a Faults in front of e, with no fault yet.
func NewFaults(e Engine) *Faults { return &Faults{Engine: e} }

// Add makes the next n actions named action (case-insensitive) meet fault;
// message is the Message of a FaultRefuse. Rules apply in the order added.
func (f *Faults) Add(action string, fault Fault, n int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, faultRule{strings.ToLower(action), fault, n, message})
}

// Do implements Engine: the first rule for the action with actions left
// decides; with none, the action goes to the engine behind.
func (f *Faults) Do(s Sink, a *ami.Frame) {
	if fault, msg := f.take(strings.ToLower(a.Action())); fault != 0 {
		if fault == FaultRefuse {
			s.Send(response(a.ActionID(), "Error", msg))
		}
		return
	}
	f.Engine.Do(s, a)
}

func (f *Faults) take(action string) (Fault, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rules {
		r := &f.rules[i]
		if r.action == action && r.left > 0 {
			r.left--
			return r.fault, r.message
		}
	}
	return 0, ""
}
