package cti_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ctitest"
)

// TestSeatActionsRateLimited: a seat that sends many PAUSEs at once (each
// costs the PBX an action) has the first few (seatActionBurst) taken and
// the rest refused with "302 KO too many requests", and keeps its session. Twenty
// at once leave at least one refused unless sending them takes longer
// than fifteen intervals of the limiter.
func TestSeatActionsRateLimited(t *testing.T) {
	const n = 20
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	for range n {
		alice.Send("PAUSE IN")
	}
	// Each PAUSE gets one answer: 300 OK or 302 KO (a pending one too,
	// "pause pending"; 301 PAUSE PENDING is no answer, it tells of the
	// PBX's confirmation to come).
	answers := func() (answered, limited int) {
		for _, l := range alice.Lines() {
			switch {
			case l == "302 KO too many requests":
				limited++
				answered++
			case l == "300 OK", strings.HasPrefix(l, "302 KO "):
				answered++
			}
		}
		return answered, limited
	}
	ctitest.WaitFor(t, "every PAUSE answered", func() error {
		answered, _ := answers()
		return ctitest.Check(answered == n, "%d of %d PAUSEs answered", answered, n)
	})
	_, limited := answers()
	assert.Positive(t, limited, "PAUSEs refused by the rate limit")
	assert.LessOrEqual(t, limited, n-cti.SeatActionBurst(), "the burst is never refused")
	alice.Sync() // the session goes on
}
