package loadgen

import (
	"fmt"
	"sync"
	"time"

	"github.com/astcti/astcti/fakeami"
)

// Delivery is what the seats' Link lines say of the calls the fake PBX
// linked: every linked call must give exactly one Link, at the seat of
// the phone that answered, with the call's data.
type Delivery struct {
	Linked       int `json:"linked"`       // calls the PBX connected to a phone (GET /links)
	Notified     int `json:"notified"`     // of those, told to the right seat
	Lost         int `json:"lost"`         // linked, never told to the right seat
	Duplicated   int `json:"duplicated"`   // Link lines beyond the first at the right seat
	Misdelivered int `json:"misdelivered"` // Link lines at another seat, or for no linked call
	WrongData    int `json:"wrong_data"`   // Link lines whose customer_id is not the caller's number
	// Repopped counts the Link lines of a call at its seat in a later
	// session than the first Link's: the re-pop of a live call to a seat
	// that logged in again (docs/protocol.md), not a duplicate.
	Repopped int `json:"repopped"`
	// Excused counts the linked calls never told whose link fell in a
	// fault's outage (Options.Faults): they need not pop, and are not
	// lost; a second Link for one still counts as duplicated.
	Excused int `json:"excused"`
	// Wrong names the first Link lines with wrong data (at most
	// maxNamed): the call, the seat, and the data read.
	Wrong []string `json:"wrong,omitempty"`
	// Duplicates names the first calls that popped more than once (at
	// most maxNamed): their uniqueid, seat, and when the PBX linked them
	// and the seat read each Link, since the run's start.
	Duplicates []string `json:"duplicates,omitempty"`
	// LostCalls names the first lost calls (at most maxNamed): their
	// uniqueid, seat, and when the PBX linked them.
	LostCalls []string `json:"lost_calls,omitempty"`
	// Wrong, Duplicates and LostCalls each end with the fault last begun
	// before the PBX linked the call, and where the link fell in its
	// outage (nearestFault).
}

// maxNamed bounds the calls a Delivery names.
const maxNamed = 20

// Zero reports whether nothing was lost, duplicated, misdelivered or wrong.
func (d Delivery) Zero() bool {
	return d.Lost == 0 && d.Duplicated == 0 && d.Misdelivered == 0 && d.WrongData == 0
}

// noticeLog keeps the notices of an approach's clients, which add to it
// from their goroutines.
type noticeLog struct {
	mu   sync.Mutex
	list []notice
}

func (l *noticeLog) add(n notice) {
	l.mu.Lock()
	l.list = append(l.list, n)
	l.mu.Unlock()
}

func (l *noticeLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.list)
}

// take returns a copy of the notices so far.
func (l *noticeLog) take() []notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]notice(nil), l.list...)
}

// latency is one notification: when the PBX linked the call, since the
// run's start, and how long the seat took to read its Link.
type latency struct {
	at, took time.Duration
}

// verify matches the seats' notices against the PBX's links. A notice for
// a call the PBX never linked counts as misdelivered. start is the run's
// start, the origin of the latencies' times. A call linked in one of
// outs that was never told is excused, not lost.
func verify(w world, links []fakeami.Link, notices []notice, start time.Time, outs []outage) (Delivery, []latency) {
	byCall := make(map[string][]notice, len(links))
	for _, n := range notices {
		byCall[n.uid] = append(byCall[n.uid], n)
	}
	var d Delivery
	lats := make([]latency, 0, len(links))
	seen := make(map[string]bool, len(links))
	for _, l := range links {
		d.Linked++
		seen[l.Uniqueid] = true
		want := w.seatOf(l.Member)
		right := 0
		sessions := map[uint32]int{} // Link lines at the right seat, by session
		for _, n := range byCall[l.Uniqueid] {
			if n.badFor {
				d.WrongData++
				if len(d.Wrong) < maxNamed {
					d.Wrong = append(d.Wrong, fmt.Sprintf("%s at seat %d (session %d), linked at %v, read at %v: %s %q; %s",
						l.Uniqueid, n.seat, n.session, time.Duration(l.UnixNano-start.UnixNano()), time.Duration(n.at-start.UnixNano()), dataVar, n.data,
						nearestFault(outs, l.UnixNano, start)))
				}
			}
			if int(n.seat) != want {
				d.Misdelivered++
				continue
			}
			if right++; right == 1 {
				lats = append(lats, latency{
					at:   time.Duration(l.UnixNano - start.UnixNano()),
					took: time.Duration(n.at - l.UnixNano),
				})
			}
			sessions[n.session]++
		}
		dups := 0
		for _, k := range sessions {
			dups += k - 1
		}
		switch {
		case right == 0 && excused(outs, want, l.UnixNano):
			d.Excused++
		case right == 0:
			d.Lost++
			if len(d.LostCalls) < maxNamed {
				d.LostCalls = append(d.LostCalls, fmt.Sprintf("%s at seat %d, linked at %v; %s",
					l.Uniqueid, want, time.Duration(l.UnixNano-start.UnixNano()), nearestFault(outs, l.UnixNano, start)))
			}
		default:
			d.Notified++
			d.Duplicated += dups
			d.Repopped += len(sessions) - 1
			if dups > 0 && len(d.Duplicates) < maxNamed {
				s := fmt.Sprintf("%s at seat %d, linked at %v, read at", l.Uniqueid, want, time.Duration(l.UnixNano-start.UnixNano()))
				for _, n := range byCall[l.Uniqueid] {
					s += fmt.Sprintf(" %v (session %d)", time.Duration(n.at-start.UnixNano()), n.session)
				}
				d.Duplicates = append(d.Duplicates, s+"; "+nearestFault(outs, l.UnixNano, start))
			}
		}
	}
	for uid, ns := range byCall {
		if !seen[uid] {
			d.Misdelivered += len(ns)
		}
	}
	return d, lats
}
