package seatclient

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/astcti/astcti/cti/seatproto"
)

// TestRepeatedQueueLines: the server repeats 200 lines after MAC for a
// fixed seat; the client shows each membership once, and again after the
// seat left the queue (201).
func TestRepeatedQueueLines(t *testing.T) {
	var s conn
	lines := []struct {
		st   seatproto.Status
		want bool
	}{
		{seatproto.InQueue("astcti-queue"), false},
		{seatproto.InQueue("astcti-queue-2"), false},
		{seatproto.InQueue("astcti-queue"), true},
		{seatproto.OK(), false},
		{seatproto.LeftQueue("astcti-queue"), false},
		{seatproto.InQueue("astcti-queue"), false},
		{seatproto.InQueue("astcti-queue-2"), true},
	}
	for i, l := range lines {
		assert.Equal(t, l.want, s.repeated(l.st), "line %d: %s", i, l.st)
	}
}
