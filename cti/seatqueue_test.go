package cti

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeatQueueBounds: Send refuses the line that would pass the queue's
// bound in lines or in bytes, and closes the seat as a slow consumer; a
// line within both bounds is queued. Nothing drains the queue here: the
// seat's writer is taken to be running, stuck on a full socket.
func TestSeatQueueBounds(t *testing.T) {
	tests := []struct {
		name   string
		lines  []int // lengths of the lines sent, in order
		queued int   // how many are queued before the seat is closed
	}{
		{name: "within both bounds", lines: []int{10, 10, 10, 10}, queued: 4},
		{name: "one line too many", lines: []int{10, 10, 10, 10, 10}, queued: 4},
		{name: "bytes passed", lines: []int{60, 41}, queued: 1},
		{name: "bytes reached", lines: []int{60, 40}, queued: 2},
	}
	defer func(l, b int) { seatQueueLines, seatQueueBytes = l, b }(seatQueueLines, seatQueueBytes)
	seatQueueLines, seatQueueBytes = 4, 100
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := pipeSeat(t)
			c.writing = true
			queued := 0
			for _, n := range tc.lines {
				if c.Send([]byte(strings.Repeat("x", n-1) + "\n")) {
					queued++
				}
			}
			assert.Equal(t, tc.queued, queued, "lines queued")
			assert.Equal(t, tc.queued < len(tc.lines), c.closing.Load(), "closed")
			if tc.queued < len(tc.lines) {
				assert.Equal(t, CloseSlowConsumer, c.Reason())
			}
		})
	}
}

// TestSeatCloseFlushes: Close lets the writer write every line queued
// before it, then the line that tells why, then hang up; a line sent after
// Close is refused.
func TestSeatCloseFlushes(t *testing.T) {
	c, peer := pipeSeat(t)
	for _, l := range []string{"one\n", "two\n", "three\n"} {
		require.True(t, c.Send([]byte(l)))
	}
	c.Close(CloseSlowConsumer)
	assert.False(t, c.Send([]byte("late\n")), "a line after Close")
	got, err := io.ReadAll(bufio.NewReader(peer))
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\nthree\n903 KO slow consumer\n", string(got))
	<-c.done
}

// pipeSeat returns a seat connection of a server that is not running, over
// an in-memory pipe, and the pipe's other end.
func pipeSeat(t *testing.T) (*seatConn, net.Conn) {
	ours, peer := net.Pipe()
	t.Cleanup(func() { ours.Close(); peer.Close() })
	return newSeatConn(New(Config{}), 1, ours), peer
}
