package cti

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

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

// TestSeatSlowConsumerLine: a seat that stops reading until its queue
// overflows, then reads again, gets the lines that were on their way,
// whole (the one a write cut short is finished), then
// "903 KO slow consumer" as its last line, then the end of the connection. The server
// waits for room for that line only seatFinalLineTimeout, here long
// enough for the test to start reading.
func TestSeatSlowConsumerLine(t *testing.T) {
	defer func(l, b int, d time.Duration) {
		seatQueueLines, seatQueueBytes, seatFinalLineTimeout = l, b, d
	}(seatQueueLines, seatQueueBytes, seatFinalLineTimeout)
	seatQueueLines, seatQueueBytes, seatFinalLineTimeout = 16, 1<<20, time.Minute
	c, peer := tcpSeat(t)
	require.NoError(t, peer.(*net.TCPConn).SetReadBuffer(16<<10))

	// The peer does not read: the writer fills the socket buffers, then
	// blocks, then the queue overflows. Bounded: 64 MiB is far more than
	// loopback's socket buffers hold.
	line := func(i int) string { return fmt.Sprintf("%06d %s", i, strings.Repeat("x", 1000)) }
	// Until the writer is stuck (a line not taken within 200 ms), each
	// line waits to be taken, so that the queue overflows behind a
	// blocked write, not before the writer has started.
	stuck := false
	sent := 0
	for sent < 1<<16 && c.Send([]byte(line(sent)+"\n")) {
		sent++
		for i := 0; !stuck && c.outBytes.Load() > 0; i++ {
			stuck = i >= 200
			time.Sleep(time.Millisecond) // a bounded poll of the writer
		}
	}
	require.Less(t, sent, 1<<16, "the queue never overflowed")
	require.Equal(t, CloseSlowConsumer, c.Reason())

	got, err := io.ReadAll(peer)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	require.NotEmpty(t, lines)
	assert.Equal(t, "903 KO slow consumer", lines[len(lines)-1], "the last line")
	for i, l := range lines[:len(lines)-1] {
		if l != line(i) {
			t.Fatalf("line %d of %d is %.20q…, want %.20q…", i, len(lines), l, line(i))
		}
	}
	t.Logf("%d lines queued, %d read before the 903", sent, len(lines)-1)
	<-c.done
}

// tcpSeat returns a seat connection of a server that is not running, over
// a TCP connection on 127.0.0.1, and the connection's other end.
func tcpSeat(t *testing.T) (*seatConn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	ours, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { ours.Close(); peer.Close() })
	return newSeatConn(New(Config{}), 1, ours), peer
}
