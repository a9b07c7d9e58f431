package config

import (
	"slices"
	"strings"
)

// ServiceType says which way a service's calls go.
type ServiceType string

// The service types: calls to operators, and the contexts operators call into.
const (
	// Inbound services receive calls: the server notifies the operator's seat.
	Inbound ServiceType = "inbound"
	// Outbound services are where operators originate calls (ORIG): a seat
	// may only dial into the context of an outbound service it belongs to.
	Outbound ServiceType = "outbound"
)

func (t ServiceType) String() string { return string(t) }

func (t ServiceType) valid() bool { return t == Inbound || t == Outbound }

// Trigger says what a seat does when it answers a call of a service.
type Trigger string

// The triggers of the design: nothing, run a program, or open a URL.
const (
	TriggerNone        Trigger = "none"
	TriggerApplication Trigger = "application"
	TriggerBrowser     Trigger = "browser"
)

func (t Trigger) String() string { return string(t) }

func (t Trigger) valid() bool {
	return t == TriggerNone || t == TriggerApplication || t == TriggerBrowser
}

// Model is a whole configuration as plain, editable values: what a Store
// holds, what a snapshot file holds and what the XML format describes.
// Validate checks it; NewSnapshot turns a valid one into an immutable,
// indexed Snapshot.
//
// The zero value is an empty, valid configuration.
type Model struct {
	Seats     []Seat     `json:"seats"`
	Operators []Operator `json:"operators"`
	Services  []Service  `json:"services"`
}

// Seat is an operator position: the PC the seat client runs on, known by its
// MAC address, and the phone on the desk, known by its Asterisk interface.
type Seat struct {
	// ID is the row id in the database it was read from, 0 for a new seat
	// or one read from XML. It is not part of the configuration's content.
	ID int64 `json:"id"`
	// Version is the row's edit counter in the Store, as read: a save or
	// delete must give the version it read (ErrStale otherwise). 0 for a
	// new row or one not read from a Store. Not part of the content.
	Version int64 `json:"version"`
	// MAC is the PC's MAC address in canonical form, lower-case and colon
	// separated ("00:11:22:33:44:01"); NormalizeMAC makes it so.
	MAC string `json:"mac"`
	// Interface is the phone's dial string: SIP/201, PJSIP/201,
	// Local/201@phones, or Local/201@from-queue/n.
	Interface string `json:"interface"`
	// Description is free text for the administrator.
	Description string `json:"description"`
}

// Operator is a person who logs in on a seat.
type Operator struct {
	// ID and Version are the row's id and edit counter, as for Seat.
	ID       int64  `json:"id"`
	Version  int64  `json:"version"`
	Username string `json:"username"`
	FullName string `json:"fullname"`
	// PasswordHash is the salted slow hash of the MD5 hex of the password
	// (see HashPassword). The password itself is never stored.
	PasswordHash string `json:"password-hash"`
	// Seat is the MAC of the operator's fixed seat, or "" for none.
	Seat string `json:"seat"`
	// Enabled operators may log in. A disabled one is refused and a live
	// session of one is ended when the configuration changes.
	Enabled bool `json:"enabled"`
	// BeginPaused operators start their session paused in their queues.
	BeginPaused bool `json:"begin-paused"`
}

// Service is a telephone service of the dialplan: the context where its
// calls reach an operator's phone, optionally a queue, and what the seat
// does when it answers.
type Service struct {
	// ID and Version are the row's id and edit counter, as for Seat; the
	// version covers the service's variables and members too.
	ID      int64       `json:"id"`
	Version int64       `json:"version"`
	Name    string      `json:"name"`
	Type    ServiceType `json:"type"`
	Context string      `json:"context"`
	// IsQueue services send their calls to Queue: the server adds the seats
	// of their logged-in operators to it as members.
	IsQueue bool    `json:"is-queue"`
	Queue   string  `json:"queue"`
	Trigger Trigger `json:"trigger"`
	// Application is the program to run (TriggerApplication) or the URL to
	// open (TriggerBrowser); Parameters is the program's argument string.
	// Both may contain ${name} placeholders (see Placeholders).
	Application string `json:"application"`
	Parameters  string `json:"parameters"`
	// Enabled services are monitored; the calls of a disabled one are not
	// notified and its queue gets no members.
	Enabled bool `json:"enabled"`
	// Variables are the names of the channel variables the dialplan sets
	// for this service (Set(customer_id=...)); the values come from the PBX.
	// Their order is the declared one, the order of <appdata> for seats.
	Variables []string `json:"variables"`
	// Members are the operators of the service, by username.
	Members []Member `json:"members"`
}

// Member is an operator's membership of a service.
type Member struct {
	Operator string `json:"operator"`
	// Penalty is the queue penalty the operator's seat gets in the
	// service's queue (QueueAdd Penalty). 0 is the best.
	Penalty int `json:"penalty"`
}

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	c := &Model{
		Seats:     slices.Clone(m.Seats),
		Operators: slices.Clone(m.Operators),
		Services:  slices.Clone(m.Services),
	}
	for i := range c.Services {
		c.Services[i].Variables = slices.Clone(c.Services[i].Variables)
		c.Services[i].Members = slices.Clone(c.Services[i].Members)
	}
	return c
}

// Normalize puts m in canonical form: MAC addresses in canonical form where
// they parse, and seats, operators, services and members sorted by their
// keys. A service's variables keep the order it declares them in: seats get
// them in that order, so it is part of the content. Two models with the same
// content are equal (apart from IDs) once normalized. It does not validate.
func (m *Model) Normalize() {
	for i := range m.Seats {
		if mac, err := NormalizeMAC(m.Seats[i].MAC); err == nil {
			m.Seats[i].MAC = mac
		}
	}
	for i := range m.Operators {
		if m.Operators[i].Seat == "" {
			continue
		}
		if mac, err := NormalizeMAC(m.Operators[i].Seat); err == nil {
			m.Operators[i].Seat = mac
		}
	}
	slices.SortStableFunc(m.Seats, func(a, b Seat) int { return strings.Compare(a.MAC, b.MAC) })
	slices.SortStableFunc(m.Operators, func(a, b Operator) int { return strings.Compare(a.Username, b.Username) })
	slices.SortStableFunc(m.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	for i := range m.Services {
		s := &m.Services[i]
		slices.SortStableFunc(s.Members, func(a, b Member) int { return strings.Compare(a.Operator, b.Operator) })
	}
}

// ClearIDs sets every ID and Version to 0, leaving only the
// configuration's content.
func (m *Model) ClearIDs() {
	for i := range m.Seats {
		m.Seats[i].ID, m.Seats[i].Version = 0, 0
	}
	for i := range m.Operators {
		m.Operators[i].ID, m.Operators[i].Version = 0, 0
	}
	for i := range m.Services {
		m.Services[i].ID, m.Services[i].Version = 0, 0
	}
}
