package fakeami

import (
	"fmt"
	"strings"
	"time"
)

// loadQueue is the queue of loadScenario, reached at 600@from-trunk.
const loadQueue = "loadq"

// loadScenario is a PBX for load runs: one queue with every phone as a
// static member, phones SIP/10000… that answer after answerAfter and hang
// up after talk, and the service 600@from-trunk that queues the caller.
func loadScenario(members int, strategy string, answerAfter, talk time.Duration) string {
	var b strings.Builder
	b.WriteString("A load PBX.\n-- extensions.conf --\n[from-trunk]\nexten => 600,1,Answer()\n same => n,Queue(" + loadQueue + ")\n same => n,Hangup()\n")
	fmt.Fprintf(&b, "-- queues.conf --\n[%s]\nstrategy = %s\nringinuse = no\ntimeout = 15\nretry = 1\n", loadQueue, strategy)
	for i := range members {
		fmt.Fprintf(&b, "member => SIP/%d\n", 10000+i)
	}
	b.WriteString("-- phones --\n")
	for i := range members {
		fmt.Fprintf(&b, "SIP/%d answers after %s talks %s\n", 10000+i, answerAfter, talk)
	}
	return b.String()
}
