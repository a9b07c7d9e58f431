package calls

import "strconv"

// Service is what the tracker needs to know of a configured service.
type Service struct {
	Name    string
	Context string // dialplan context where calls reach the operator (non-queue services)
	Queue   string // "" for a non-queue service
	// Variables are the names of the dialplan variables the service
	// captures, in the order seats are given them. They are compared as
	// Asterisk compares variable names: without regard to case, and
	// ignoring the "_"/"__" inheritance prefix.
	Variables []string
}

// Catalog answers which service a call belongs to. The server implements it
// over its configuration snapshot. The tracker calls it from Apply only, on
// the goroutine that calls Apply.
type Catalog interface {
	// ServiceByContext returns the non-queue service whose calls are
	// answered in context.
	ServiceByContext(context string) (Service, bool)
	// ServiceByQueue returns the queue service of queue. Several queue
	// services may share one context and differ only by queue.
	ServiceByQueue(queue string) (Service, bool)
	// QueueServicesInContext returns the queue services whose calls enter
	// them in context, in a stable order. The tracker asks only when the
	// PBX does not say which application a channel runs (Asterisk 1.4's
	// Status), to rebuild a call after a reconnect.
	QueueServicesInContext(context string) []Service
}

// Kind says what a Change tells a seat.
type Kind uint8

const (
	// Ring: the seat's phone is ringing for a service call (the seat
	// protocol's CallerId event).
	Ring Kind = iota + 1
	// Link: the seat's phone answered the call (the seat protocol's Link
	// event, the screen pop).
	Link
	// Hangup: the seat's leg of the call ended.
	Hangup
)

func (k Kind) String() string {
	switch k {
	case Ring:
		return "Ring"
	case Link:
		return "Link"
	case Hangup:
		return "Hangup"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Change is one notification for one seat.
type Change struct {
	Kind      Kind
	Interface string // the seat interface, normalised: "SIP/201", "PJSIP/201", "Local/201@phones"
	Call      Call   // a snapshot, safe to keep
}

// Call is a snapshot of a service call as one seat sees it. It shares no
// memory with the tracker.
type Call struct {
	Uniqueid     string // the caller's uniqueid: the channel that entered the service
	Channel      string // the seat's channel (SIP/201-0000000a)
	CallerIDNum  string // of the caller, never the phone leg's own
	CallerIDName string
	Context      string // where the call entered the service
	Exten        string
	Linkedid     string // of the caller's channel; "" before Asterisk 12
	Service      string
	Queue        string // "" for a non-queue service
	Data         []Var  // the service's variables that have a value, in the order the service declares them
	State        string // the seat channel's state: Ringing (Ring), Up (Link), the last known at Hangup
}

// Var is one service variable and its value.
type Var struct {
	Name  string // as the service declares it
	Value string
}

// Stats counts what Apply did with the frames it was given.
type Stats struct {
	Frames    uint64 // frames given to Apply
	Ignored   uint64 // frames the tracker has no use for: responses, events it does not read
	Unknown   uint64 // events about channels the tracker does not know (missed Newchannel, connected mid-call)
	Malformed uint64 // events of interest that lack a header they need (Uniqueid, Channel, …)
	Changes   uint64 // changes returned
	Refused   uint64 // channels not created: the tracker held Limits.Channels, or ChannelsPerInterface of the interface
	Evicted   uint64 // legs told of that were ended to keep CallsPerInterface on their interface
	Late      uint64 // Newchannels (and CoreShowChannel, OriginateResponse) for a uniqueid already hung up, ignored
	AgedOut   uint64 // channels Retain ended: the PBX's list of channels no longer had them
	// Unreplayed counts the events that came while a list was on its way
	// and that Resync could not play again: more than maxEarly came
	// (early.go).
	Unreplayed uint64
	Channels   int // live channel objects
}
