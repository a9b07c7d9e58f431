package fakeami

import (
	"fmt"
	"strings"
	"time"
)

// LoadQueue and LoadService are the queue of a LoadScenario and the
// extension@context that queues a caller in it: traffic for a load run is
// `rate 500/s to 600@from-trunk …`.
const (
	LoadQueue   = "loadq"
	LoadService = "600@from-trunk"
)

// LoadScenario returns a scenario file for load runs: phones SIP/10000,
// SIP/10001, … (members of them) that answer after answerAfter and hang up
// after talking for talk, all static members of one queue, LoadQueue, with
// the given strategy (rrmemory, …) and ringinuse no; and the service
// LoadService that answers and queues the caller. It merges over the demo
// PBX (whose [from-trunk] it extends).
func LoadScenario(members int, strategy string, answerAfter, talk time.Duration) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "A load PBX: %d phones, all members of the %s queue %s.\n", members, strategy, LoadQueue)
	b.WriteString("-- extensions.conf --\n[from-trunk]\nexten => 600,1,Answer()\n same => n,Queue(" + LoadQueue + ")\n same => n,Hangup()\n")
	fmt.Fprintf(&b, "-- queues.conf --\n[%s]\nstrategy = %s\nringinuse = no\ntimeout = 15\nretry = 1\n", LoadQueue, strategy)
	for i := range members {
		fmt.Fprintf(&b, "member => SIP/%d\n", 10000+i)
	}
	b.WriteString("-- phones --\n")
	for i := range members {
		fmt.Fprintf(&b, "SIP/%d answers after %s talks %s\n", 10000+i, answerAfter, talk)
	}
	return []byte(b.String())
}
