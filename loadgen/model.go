package loadgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// The load run's world: N operators, each at a seat whose phone is
// SIP/<firstPhone+i>, all members of every queue service; one more
// service that dials a phone directly. The dialplan of every service sets
// customer_id to the caller's number, so a seat can check that its Link
// carries the data of its own call.
const (
	firstPhone   = 10000
	operatorPass = "loadgen"
	dataVar      = "customer_id"
	// directExten is the extension of the direct service: it dials the
	// phone whose number is the caller's, so that random caller numbers in
	// the phones' range are random direct calls.
	directExten   = "700"
	directContext = "loadgen-direct"
	queuePrefix   = "loadq"
)

// world names the seats, queues and services of a run of n seats.
type world struct {
	seats  int
	queues int
	// refused is how many seats (the first ones) are also members of a
	// service whose queue the PBX does not have: the PBX refuses their
	// QueueAdd, and the server must tell them so (202).
	refused int
}

// refusedQueue is the queue of the refused service: no queue of the
// scenario has that name.
const refusedQueue = "loadq-missing"

func (w world) operator(i int) string { return fmt.Sprintf("lg%05d", i) }
func (w world) phone(i int) string    { return fmt.Sprintf("SIP/%d", firstPhone+i) }
func (w world) queue(q int) string    { return fmt.Sprintf("%s%d", queuePrefix, q+1) }
func (w world) queueContext(q int) string {
	return fmt.Sprintf("loadgen-q%d", q+1)
}

// mac is the seat's MAC: a locally administered unicast address.
func (w world) mac(i int) string {
	return fmt.Sprintf("02:4c:47:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
}

// seatOf returns the seat index of a phone interface, or -1.
func (w world) seatOf(iface string) int {
	var n int
	if _, err := fmt.Sscanf(iface, "SIP/%d", &n); err != nil {
		return -1
	}
	if i := n - firstPhone; i >= 0 && i < w.seats && w.phone(i) == iface {
		return i
	}
	return -1
}

// model is the server's configuration. Every operator has the same
// password, hashed once: a hash per operator would cost as much as the
// logins of a storm, for nothing a load run measures.
func (w world) model() (*config.Model, error) {
	hash, err := config.HashPassword(config.MD5Hex(operatorPass))
	if err != nil {
		return nil, err
	}
	m := &config.Model{}
	members := make([]config.Member, w.seats)
	for i := range w.seats {
		op := config.Operator{Username: w.operator(i), PasswordHash: hash, Seat: w.mac(i), Enabled: true}
		m.Operators = append(m.Operators, op)
		m.Seats = append(m.Seats, config.Seat{MAC: op.Seat, Interface: w.phone(i)})
		members[i] = config.Member{Operator: op.Username}
	}
	for q := range w.queues {
		m.Services = append(m.Services, config.Service{
			Name: w.queue(q), Type: config.Inbound, Context: w.queueContext(q),
			IsQueue: true, Queue: w.queue(q), Trigger: config.TriggerNone, Enabled: true,
			Variables: []string{dataVar}, Members: members,
		})
	}
	if w.refused > 0 {
		m.Services = append(m.Services, config.Service{
			Name: "refused", Type: config.Inbound, Context: "loadgen-refused",
			IsQueue: true, Queue: refusedQueue, Trigger: config.TriggerNone, Enabled: true,
			Members: members[:w.refused],
		})
	}
	m.Services = append(m.Services, config.Service{
		Name: "direct", Type: config.Inbound, Context: directContext,
		Trigger: config.TriggerNone, Enabled: true, Variables: []string{dataVar},
	})
	return m, nil
}

// scenario is the fake PBX's scenario: the services' dialplan, the queues
// (empty: the server adds the seats' phones as they log in, as in a call
// centre; with static, every phone is a member from the start) and the
// phones, which answer after answerAfter and hang up after
// talking for talk.
func (w world) scenario(strategy string, answerAfter, talk time.Duration, static bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "A load run: %d phones, %d %s queues, a direct service.\n", w.seats, w.queues, strategy)
	b.WriteString("-- extensions.conf --\n")
	for q := range w.queues {
		fmt.Fprintf(&b, "[%s]\nexten => 1,1,Answer()\n same => n,Set(%s=${CALLERID(num)})\n same => n,Queue(%s)\n same => n,Hangup()\n",
			w.queueContext(q), dataVar, w.queue(q))
	}
	fmt.Fprintf(&b, "[%s]\nexten => %s,1,Set(%s=${CALLERID(num)})\n same => n,Dial(SIP/${CALLERID(num)},20)\n same => n,Hangup()\n",
		directContext, directExten, dataVar)
	b.WriteString("-- queues.conf --\n")
	for q := range w.queues {
		fmt.Fprintf(&b, "[%s]\nstrategy = %s\nringinuse = no\ntimeout = 15\nretry = 1\n", w.queue(q), strategy)
		if static {
			for i := range w.seats {
				fmt.Fprintf(&b, "member => %s\n", w.phone(i))
			}
		}
	}
	b.WriteString("-- phones --\n")
	for i := range w.seats {
		fmt.Fprintf(&b, "%s answers after %s talks %s\n", w.phone(i), answerAfter, talk)
	}
	return b.String()
}

// traffic is the fake PBX's traffic line: rate calls a second, a share
// direct of them to the direct service, the rest spread over the queues,
// callers drawn from the phones' numbers, each waiting patience at most.
func (w world) traffic(rate float64, directPercent int, patience time.Duration, seed int64) string {
	var targets []string
	queuePercent := 100 - directPercent
	for q := range w.queues {
		if queuePercent > 0 {
			targets = append(targets, fmt.Sprintf("1@%s*%d", w.queueContext(q), queuePercent))
		}
	}
	if directPercent > 0 {
		targets = append(targets, fmt.Sprintf("%s@%s*%d", directExten, directContext, directPercent*w.queues))
	}
	return fmt.Sprintf("rate %s/s to %s from %d-%d patience %s seed %d",
		formatRate(rate), strings.Join(targets, " "), firstPhone, firstPhone+w.seats-1, patience, seed)
}

func formatRate(r float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", r), "0"), ".")
}
