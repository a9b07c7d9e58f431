package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// Operator is an operator of the simulation's configuration: a login, the
// MAC address of its seat and the seat's phone.
type Operator struct {
	Name      string `json:"name"`
	Password  string `json:"password"`
	MAC       string `json:"mac"`
	Interface string `json:"interface"`
}

// FreeOperator is the operator the simulation keeps for the user's own seat
// client: nobody logs in as carol but the user.
var FreeOperator = Operator{Name: "carol", Password: "carol", MAC: "00:11:22:33:44:03", Interface: "SIP/203"}

// MaxSeats bounds Config.Seats.
const MaxSeats = 200

// extraNames are the names of the simulated operators after alice and bob.
var extraNames = []string{
	"dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "lucy", "mike",
	"nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "ursula", "victor", "wendy",
}

// Operators returns the n operators the simulation plays: alice and bob of
// the demo configuration (seats ...:44:01 and ...:44:02, phones SIP/201 and
// SIP/202), then operators with seats 00:11:22:33:45:NN on phones SIP/3NN.
// The password of each is its name.
func Operators(n int) []Operator {
	ops := []Operator{
		{Name: "alice", Password: "alice", MAC: "00:11:22:33:44:01", Interface: "SIP/201"},
		{Name: "bob", Password: "bob", MAC: "00:11:22:33:44:02", Interface: "SIP/202"},
	}
	for k := 1; len(ops) < n; k++ {
		name := fmt.Sprintf("op%d", k+2)
		if k <= len(extraNames) {
			name = extraNames[k-1]
		}
		ops = append(ops, Operator{
			Name: name, Password: name,
			MAC:       fmt.Sprintf("00:11:22:33:45:%02x", k),
			Interface: fmt.Sprintf("SIP/%d", 300+k),
		})
	}
	return ops[:max(n, 0)]
}

// configModel returns the demo configuration (config.Demo) with every
// operator of ops after alice and bob, and the free operator, added with
// their seats. Every operator is a member of every service with penalty 1,
// so that the queue shares its calls among all of them (in the demo bob has
// penalty 2 and would get queue calls only when alice is busy).
func configModel(ops []Operator) (*config.Model, error) {
	m := config.Demo()
	have := map[string]bool{}
	for _, o := range m.Operators {
		have[o.Username] = true
	}
	for _, o := range append(ops[:len(ops):len(ops)], FreeOperator) {
		if have[o.Name] {
			continue
		}
		have[o.Name] = true
		m.Seats = append(m.Seats, config.Seat{MAC: o.MAC, Interface: o.Interface, Description: "Simulated seat of " + o.Name})
		op := config.Operator{Username: o.Name, FullName: capitalize(o.Name), Seat: o.MAC, Enabled: true}
		if err := op.SetPassword(o.Password); err != nil {
			return nil, err
		}
		m.Operators = append(m.Operators, op)
	}
	for i := range m.Services {
		s := &m.Services[i]
		s.Members = s.Members[:0]
		for _, o := range m.Operators {
			s.Members = append(s.Members, config.Member{Operator: o.Username, Penalty: 1})
		}
	}
	return m, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// simQueue replaces the demo's astcti-queue: the same settings, but the
// member who has waited longest since a call is rung first, one at a time,
// so that every seat (the user's too) gets its share of the calls.
const simQueue = `
[astcti-queue]
strategy = leastrecent
timeout = 15
retry = 2
ringinuse = no
wrapuptime = 0
joinempty = yes
leavewhenempty = no
`

// pbxScenario returns the demo PBX with the simulation's queue and phones
// merged over it (see phones).
func pbxScenario(ph *phones) (*scenarios.Scenario, error) {
	text := "The simulation's queue and phones.\n-- queues.conf --\n" + simQueue + "-- phones --\n" + ph.all()
	frag, err := scenarios.ParseFragment("sim", []byte(text))
	if err != nil {
		return nil, err
	}
	return scenarios.Merge(scenarios.Demo(), frag)
}

// phones is how the seats' phones behave in the simulation: each answers
// after a time drawn in [1 s, 3 s] and talks for one drawn in [3 s, 10 s]
// (in the demo SIP/202, bob's phone, never answers), and is busy while it
// has a call, as an operator's phone with a call limit of 1. Without that
// limit the demo's Dial(SIP/201&SIP/202) would pile every sales call on
// the phone that answers first. The times are drawn again now and then.
// Its methods are called from one goroutine.
type phones struct {
	ifaces []string
	rng    *rand.Rand
	lines  map[string]string // interface → its line of the phones file
	busy   map[string]bool   // interfaces with a call
}

func newPhones(ifaces []string, rng *rand.Rand) *phones {
	ph := &phones{ifaces: ifaces, rng: rng, lines: map[string]string{}, busy: map[string]bool{}}
	ph.draw()
	return ph
}

// draw draws new times for every phone.
func (ph *phones) draw() {
	for _, iface := range ph.ifaces {
		answer := time.Second + time.Duration(ph.rng.IntN(21))*100*time.Millisecond
		talk := 3*time.Second + time.Duration(ph.rng.IntN(71))*100*time.Millisecond
		ph.lines[iface] = fmt.Sprintf("%s answers after %s talks %s\n", iface, answer, talk)
	}
}

// all returns the phones file of every phone.
func (ph *phones) all() string {
	var b strings.Builder
	for _, iface := range ph.ifaces {
		b.WriteString(ph.line(iface))
	}
	return b.String()
}

func (ph *phones) line(iface string) string {
	if ph.busy[iface] {
		return iface + " busy\n"
	}
	return ph.lines[iface]
}

// redraw draws new times and returns the phones to play: those without a
// call.
func (ph *phones) redraw() *scenarios.Scenario {
	ph.draw()
	var b strings.Builder
	for _, iface := range ph.ifaces {
		if !ph.busy[iface] {
			b.WriteString(ph.line(iface))
		}
	}
	return ph.scenario(b.String())
}

// update takes the PBX's channels and returns the phones to play: those
// that got their first call (now busy) or ended their last one; nil when
// none changed.
func (ph *phones) update(st fakeami.State) *scenarios.Scenario {
	inCall := map[string]bool{}
	for _, ch := range st.Channels {
		inCall[channelInterface(ch.Name)] = true
	}
	var b strings.Builder
	for _, iface := range ph.ifaces {
		if inCall[iface] != ph.busy[iface] {
			ph.busy[iface] = inCall[iface]
			b.WriteString(ph.line(iface))
		}
	}
	return ph.scenario(b.String())
}

func (ph *phones) scenario(lines string) *scenarios.Scenario {
	if lines == "" {
		return nil
	}
	sc, err := scenarios.ParseFragment("sim-phones", []byte("-- phones --\n"+lines))
	if err != nil {
		panic(err) // cannot happen: the lines are ours
	}
	return sc
}

// firstCalls start the traffic: two queue calls at once, so that the
// first screen pops come within seconds of the start (leastrecent gives
// them to two different seats). The random traffic starts after them, at
// trafficAfter.
func firstCalls() *scenarios.Scenario {
	sc, err := scenarios.ParseFragment("sim-first-calls", []byte(`-- calls --
at 1s from "Caller 7001" <7001> to 102@from-trunk
at 1500ms from "Caller 7002" <7002> to 102@from-trunk
`))
	if err != nil {
		panic(err) // cannot happen: the text is ours
	}
	return sc
}

// trafficScenario returns the random traffic the simulation places: calls
// at rate (a scenario rate: 12/min, 0.5/s, 300/h; "0" for none, nil is
// returned) into 101 (sales, no queue) and 102 (support, the queue; twice
// as many), callers 7000–7999 who hang up after 10–60 s if the call has not
// ended before.
func trafficScenario(rate string, seed int64) (*scenarios.Scenario, error) {
	if rate == "0" {
		return nil, nil
	}
	text := fmt.Sprintf("-- traffic --\nrate %s to 101@from-trunk 102@from-trunk*2 from 7000-7999 patience 10s-60s seed %d\n", rate, seed)
	sc, err := scenarios.ParseFragment("sim-traffic", []byte(text))
	if err != nil {
		var se *scenarios.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("rate: %s", se.Msg)
		}
		return nil, err
	}
	return sc, nil
}

// CheckRate reports whether rate is a rate the simulation takes: 12/min,
// 0.5/s, 300/h, or 0 for no random traffic.
func CheckRate(rate string) error {
	_, err := trafficScenario(rate, 1)
	return err
}
