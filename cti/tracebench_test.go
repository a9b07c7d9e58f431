package cti

import (
	"bytes"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// traceChunk is how many messages of a recorded stream traceConn serves
// per read, and traceWindow how many chunks the reader may be ahead of
// the hub: like a TCP window, it keeps the benchmark's reader from
// overflowing the hub's subscription, as a real socket would by blocking.
const (
	traceChunk  = 64
	traceWindow = 8
)

// traceConn is an in-memory manager connection for benchmarks: it sends a
// banner, answers every action with Success (Goodbye to Logoff), and once
// the client asked for CoreStatus (the last step of its login) it serves a
// recorded stream of events again and again, in chunks of whole messages,
// one chunk per credit. The hub's side gives a credit back for each chunk
// it has taken in (Credit).
type traceConn struct {
	chunks  [][]byte // the recording's events, traceChunk a chunk
	events  []int    // how many events each chunk holds
	credits chan struct{}
	wake    chan struct{} // an answer is waiting
	closed  chan struct{}
	once    sync.Once

	mu        sync.Mutex
	answers   []byte // answers to actions, read between chunks
	written   []byte // actions written and not yet answered
	streaming bool
	cur       []byte // the rest of the chunk being read
	next      int    // the chunk after cur

	// Of the hub's side (Credit): the chunk it takes events from, and how
	// many of them are still to come.
	taken, left int
}

// newTraceConn splits stream, a recording without its banner, into chunks.
func newTraceConn(tb testing.TB, stream []byte) *traceConn {
	tb.Helper()
	tc := &traceConn{
		credits: make(chan struct{}, traceWindow),
		wake:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
		answers: []byte("Asterisk Call Manager/11.0.0\r\n"),
	}
	tc.chunks, tc.events = eventChunks(tb, stream)
	for range traceWindow {
		tc.credits <- struct{}{}
	}
	tc.left = tc.events[0]
	return tc
}

// eventChunks returns the events of a recorded stream, in chunks of
// traceChunk (the last one may be shorter) and how many events each
// holds. The recording's responses answered the actions of the recorded
// session: they are left out. The modern recordings hold no command
// output, so every message ends at the first empty line.
func eventChunks(tb testing.TB, stream []byte) (chunks [][]byte, events []int) {
	tb.Helper()
	var chunk []byte
	n := 0
	for len(stream) > 0 {
		i := bytes.Index(stream, []byte("\r\n\r\n"))
		if i < 0 {
			tb.Fatalf("trace: %d bytes after the last message", len(stream))
		}
		if bytes.HasPrefix(stream, []byte("Event:")) {
			chunk = append(chunk, stream[:i+4]...)
			n++
		}
		stream = stream[i+4:]
		if n == traceChunk || (len(stream) == 0 && n > 0) {
			chunks, events = append(chunks, chunk), append(events, n)
			chunk, n = nil, 0
		}
	}
	return chunks, events
}

// Credit tells the connection that the hub received one more event: after
// each chunk's events it may serve one more chunk.
func (tc *traceConn) Credit() {
	if tc.left--; tc.left == 0 {
		tc.credits <- struct{}{}
		tc.taken = (tc.taken + 1) % len(tc.chunks)
		tc.left = tc.events[tc.taken]
	}
}

func (tc *traceConn) Read(p []byte) (int, error) {
	for {
		tc.mu.Lock()
		switch {
		case len(tc.cur) > 0:
			n := copy(p, tc.cur)
			tc.cur = tc.cur[n:]
			tc.mu.Unlock()
			return n, nil
		case len(tc.answers) > 0:
			n := copy(p, tc.answers)
			tc.answers = tc.answers[n:]
			tc.mu.Unlock()
			return n, nil
		}
		streaming := tc.streaming
		tc.mu.Unlock()
		var credits chan struct{}
		if streaming {
			credits = tc.credits
		}
		select {
		case <-credits:
			tc.mu.Lock()
			tc.cur = tc.chunks[tc.next]
			tc.next = (tc.next + 1) % len(tc.chunks)
			tc.mu.Unlock()
		case <-tc.wake:
		case <-tc.closed:
			return 0, net.ErrClosed
		}
	}
}

// Write answers each complete action written.
func (tc *traceConn) Write(p []byte) (int, error) {
	select {
	case <-tc.closed:
		return 0, net.ErrClosed
	default:
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.written = append(tc.written, p...)
	for {
		i := bytes.Index(tc.written, []byte("\r\n\r\n"))
		if i < 0 {
			break
		}
		r := ami.NewReader(bytes.NewReader(tc.written[:i+4]))
		m, err := r.Next()
		if err != nil {
			return 0, err
		}
		tc.answer(string(m.Get("Action")), string(m.Get("ActionID")))
		tc.written = tc.written[i+4:]
	}
	select {
	case tc.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// answer queues the answer to one action. tc.mu must be held.
func (tc *traceConn) answer(action, id string) {
	switch {
	case ami.EqualFold(action, "Logoff"):
		tc.answers = append(tc.answers, "Response: Goodbye\r\nActionID: "+id+"\r\n\r\n"...)
	case ami.EqualFold(action, "CoreStatus"):
		tc.answers = append(tc.answers, "Response: Success\r\nActionID: "+id+
			"\r\nCoreStartupDate: 2026-12-01\r\nCoreStartupTime: 08:00:00\r\n\r\n"...)
		tc.streaming = true
	default:
		tc.answers = append(tc.answers, "Response: Success\r\nActionID: "+id+"\r\n\r\n"...)
	}
}

func (tc *traceConn) Close() error {
	tc.once.Do(func() { close(tc.closed) })
	return nil
}

var traceAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5038}

func (tc *traceConn) LocalAddr() net.Addr                { return traceAddr }
func (tc *traceConn) RemoteAddr() net.Addr               { return traceAddr }
func (tc *traceConn) SetDeadline(t time.Time) error      { return nil }
func (tc *traceConn) SetReadDeadline(t time.Time) error  { return nil }
func (tc *traceConn) SetWriteDeadline(t time.Time) error { return nil }

// loadStream returns a recorded stream without its banner line.
func loadStream(tb testing.TB, name string) []byte {
	tb.Helper()
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), name))
	if err != nil {
		tb.Fatal(err)
	}
	i := bytes.Index(tr.Received, []byte("\r\n"))
	return tr.Received[i+2:]
}
