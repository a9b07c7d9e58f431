package ami

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// panics counts the panics recovered in connection goroutines. Tests
// require it to stay zero.
var panics atomic.Int64

// conn is one TCP connection to the manager interface, with its two
// goroutines: the reader, which only reads, parses, copies and hands off
// (Asterisk drops a manager client that does not read within its
// writetimeout, 100 ms by default: manager.conf.sample), and the writer,
// which owns the socket's write side, the action deadlines and the
// keepalive Pings. Run owns the conn and waits for both.
type conn struct {
	c   *Client
	nc  net.Conn
	r   *Reader
	w   *Writer
	log *slog.Logger

	queue    chan *Call    // actions waiting for the writer
	bannerCh chan string   // the banner version, from the reader
	booted   chan struct{} // closed by the reader at FullyBooted
	dead     chan struct{} // closed by fail

	mu      sync.Mutex       // guards closed and pending; never held while taking publisher.mu
	closed  bool             // no more actions are accepted
	pending map[string]*Call // sent actions by ActionID
	lists   atomic.Int32     // pending calls collecting list items

	failOnce    sync.Once
	err         error       // why the conn ended; written once, before dead is closed
	closing     atomic.Bool // shutting down on purpose: read errors mean ErrClosed
	sawShutdown atomic.Bool // a Shutdown event came
	wg          sync.WaitGroup
}

func newConn(c *Client, nc net.Conn) *conn {
	return &conn{
		c:        c,
		nc:       nc,
		r:        NewReader(nc),
		w:        NewWriter(nc),
		log:      c.log.With("conn", nc.LocalAddr().String()),
		queue:    make(chan *Call, sendQueue),
		bannerCh: make(chan string, 1),
		booted:   make(chan struct{}),
		dead:     make(chan struct{}),
		pending:  make(map[string]*Call),
	}
}

// start starts the reader and the writer.
func (cn *conn) start() {
	cn.wg.Add(2)
	go cn.readLoop()
	go cn.writeLoop()
}

// fail ends the connection with err (the first error wins) and closes the
// socket, which ends the reader. It is safe to call from any goroutine.
func (cn *conn) fail(err error) {
	cn.failOnce.Do(func() {
		cn.mu.Lock()
		cn.closed = true
		cn.mu.Unlock()
		cn.err = err
		close(cn.dead)
		cn.nc.Close()
	})
}

// finish waits for both goroutines and fails every action still queued or
// pending with ErrDisconnected. Only Run calls it, once the conn failed.
func (cn *conn) finish() {
	cn.wg.Wait()
	cn.mu.Lock()
	calls := make([]*Call, 0, len(cn.pending)+len(cn.queue))
	for id, call := range cn.pending {
		delete(cn.pending, id)
		calls = append(calls, call)
	}
	cn.mu.Unlock()
	for done := false; !done; {
		select {
		case call := <-cn.queue:
			calls = append(calls, call)
		default:
			done = true
		}
	}
	for _, call := range calls {
		call.finish(fmt.Errorf("%s: %w", call.name, ErrDisconnected))
	}
}

// send queues call for the writer without blocking.
func (cn *conn) send(call *Call) {
	cn.mu.Lock()
	if cn.closed {
		cn.mu.Unlock()
		call.finish(fmt.Errorf("%s: %w", call.name, ErrDisconnected))
		return
	}
	select {
	case cn.queue <- call:
		cn.mu.Unlock()
	default:
		cn.mu.Unlock()
		call.finish(fmt.Errorf("%s: %w", call.name, ErrQueueFull))
	}
}

// recoverPanic turns a panic of a connection goroutine into a failed
// connection (and a reconnect) instead of a dead server.
func (cn *conn) recoverPanic(who string) {
	if p := recover(); p != nil {
		panics.Add(1)
		cn.log.Error("ami: panic in connection goroutine", "goroutine", who, "panic", p, "stack", string(debug.Stack()))
		cn.fail(fmt.Errorf("internal error in %s: %v", who, p))
	}
}

// readLoop reads the banner, then every message, until the connection
// fails. Per message it only copies the frame and hands it off; it never
// waits for anybody. The frames come from the client's pool and their
// strings from the Reader's shared copies of its input (FrameShared): the
// hub releases each event and copies what it keeps, so that reading costs
// a fraction of an allocation per message.
func (cn *conn) readLoop() {
	defer cn.wg.Done()
	defer cn.recoverPanic("reader")
	version, err := cn.r.ReadBanner()
	if err != nil {
		cn.fail(cn.readErr("banner", err))
		return
	}
	cn.nc.SetReadDeadline(time.Time{})
	cn.bannerCh <- version
	for {
		if _, err := cn.r.Next(); err != nil {
			cn.fail(cn.readErr("read", err))
			return
		}
		f := cn.c.frames.get()
		cn.r.FrameShared(f)
		if err := cn.dispatch(f); err != nil {
			cn.fail(err)
			return
		}
	}
}

// readErr wraps an error of the reader with context. During a planned
// shutdown every read error just means the socket was closed.
func (cn *conn) readErr(what string, err error) error {
	if cn.closing.Load() {
		return ErrClosed
	}
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
		cn.log.Error("ami: protocol error, closing the connection", "err", pe, "offset", pe.Offset, "input", pe.Input)
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("connection closed by asterisk: %w", err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// dispatch routes one frame: a response to its call, a list item to its
// list call, an event to the subscribers.
func (cn *conn) dispatch(f *Frame) error {
	isResp, name := classify(f)
	if isResp {
		cn.response(f)
		return nil
	}
	if cn.lists.Load() > 0 {
		if id, ok := f.Lookup("ActionID"); ok && cn.listItem(id, name, f) {
			return nil
		}
	}
	switch {
	case EqualFold(name, "FullyBooted"):
		select {
		case <-cn.booted:
		default:
			close(cn.booted)
		}
	case EqualFold(name, "Shutdown"):
		cn.sawShutdown.Store(true)
	case name == "":
		cn.log.Warn("ami: frame is neither response nor event, ignored", "frame", f.String())
		return nil
	}
	return cn.c.pub.publish(Item{Frame: f})
}

// classify tells a response from an event, looking at the first field first
// (where Asterisk puts Response and Event) and the others only if needed.
func classify(f *Frame) (isResp bool, event string) {
	if len(f.Fields) > 0 {
		switch k := f.Fields[0].Key; {
		case EqualFold(k, "Event"):
			return false, f.Fields[0].Value
		case EqualFold(k, "Response"):
			return true, ""
		}
	}
	if _, ok := f.Lookup("Response"); ok {
		return true, ""
	}
	return false, f.Get("Event")
}

// response completes the call the response answers, or starts collecting
// its list.
func (cn *conn) response(f *Frame) {
	id := f.ActionID()
	cn.mu.Lock()
	call := cn.pending[id]
	if call == nil {
		cn.mu.Unlock()
		cn.log.Debug("ami: response to no pending action", "actionid", id, "response", f.Response())
		return
	}
	call.Reply = f
	if isListStart(f) {
		call.list = true
		cn.lists.Add(1)
		cn.mu.Unlock()
		return
	}
	delete(cn.pending, id)
	cn.mu.Unlock()
	call.finish(replyErr(call))
}

// replyErr is the error of a call answered with "Response: Error".
func replyErr(call *Call) error {
	if EqualFold(call.Reply.Response(), "Error") {
		return &ActionError{Action: call.name, Message: call.Reply.Get("Message")}
	}
	return nil
}

// isListStart reports whether a response opens a list of events: modern
// Asterisk says "EventList: start"; 1.4 only says so in prose ("Queue
// status will follow", "Channel status will follow"; main/manager.c
// astman_send_ack in action_status, apps/app_queue.c manager_queues_status).
func isListStart(f *Frame) bool {
	if !EqualFold(f.Response(), "Success") {
		return false
	}
	if v, ok := f.Lookup("EventList"); ok {
		return EqualFold(v, "start")
	}
	return strings.HasSuffix(f.Get("Message"), "will follow")
}

// listItem takes an event carrying the ActionID of a list call: an item,
// or the event that closes the list ("EventList: Complete", or a name
// ending in Complete as in 1.4's QueueStatusComplete). It reports whether
// the event belonged to a list.
func (cn *conn) listItem(id, name string, f *Frame) bool {
	cn.mu.Lock()
	call := cn.pending[id]
	if call == nil || !call.list {
		cn.mu.Unlock()
		return false
	}
	var err error
	switch {
	case EqualFold(f.Get("EventList"), "Complete") || strings.HasSuffix(name, "Complete"):
		call.Complete = f
	case len(call.Items) >= maxListItems:
		err = fmt.Errorf("%s: %w (%d items)", call.name, ErrListTooLong, len(call.Items))
	default:
		call.Items = append(call.Items, f)
		cn.mu.Unlock()
		return true
	}
	delete(cn.pending, id)
	cn.lists.Add(-1)
	cn.mu.Unlock()
	if err == nil {
		err = replyErr(call)
	}
	call.finish(err)
	return true
}

// writeLoop sends queued actions, flushing when the queue is empty, and
// fails the actions whose deadline passed. It also sends the keepalive
// Pings and fails the connection when one goes unanswered.
func (cn *conn) writeLoop() {
	defer cn.wg.Done()
	defer cn.recoverPanic("writer")
	var (
		deadlines deadlineHeap
		timer     = time.NewTimer(time.Hour)
		ping      <-chan time.Time
		pingDone  = make(chan *Call, 1)
		pingOut   bool
	)
	defer timer.Stop()
	if every := cn.c.cfg.PingInterval; every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		ping = t.C
	}
	for {
		select {
		case call := <-cn.queue:
			if !cn.write(call, &deadlines) {
				return
			}
		case <-timer.C:
			cn.expire(&deadlines)
		case <-ping:
			if pingOut {
				continue // the last one is still out; its deadline decides
			}
			pingOut = true
			call := cn.c.newCall(NewAction("Ping"), pingDone, cn.c.cfg.PingTimeout)
			if !cn.write(call, &deadlines) {
				return
			}
		case call := <-pingDone:
			pingOut = false
			if errors.Is(call.Err, ErrActionTimeout) {
				cn.fail(fmt.Errorf("no answer to ping within %v: %w", call.timeout, ErrPingTimeout))
				return
			}
		case <-cn.dead:
			return
		}
		if len(deadlines) > 0 {
			timer.Reset(time.Until(deadlines[0].at))
		}
	}
}

// write registers call as pending, then writes it and everything else
// queued, and flushes. It reports false when the connection failed.
func (cn *conn) write(call *Call, deadlines *deadlineHeap) bool {
	for {
		if !cn.writeOne(call, deadlines) {
			return false
		}
		select {
		case call = <-cn.queue:
			continue
		default:
		}
		break
	}
	cn.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := cn.w.Flush(); err != nil {
		cn.fail(fmt.Errorf("write: %w", err))
		return false
	}
	return true
}

func (cn *conn) writeOne(call *Call, deadlines *deadlineHeap) bool {
	at := time.Now().Add(call.timeout)
	cn.mu.Lock()
	if cn.closed {
		cn.mu.Unlock()
		call.finish(fmt.Errorf("%s: %w", call.name, ErrDisconnected))
		return false
	}
	cn.pending[call.id] = call
	cn.mu.Unlock()
	if err := cn.w.WriteFrame(call.Action); err != nil {
		cn.mu.Lock()
		delete(cn.pending, call.id)
		cn.mu.Unlock()
		if errors.Is(err, ErrUnsafeField) {
			call.finish(fmt.Errorf("%s: %w", call.name, err)) // nothing was written
			return true
		}
		call.finish(fmt.Errorf("%s: %w", call.name, ErrDisconnected))
		cn.fail(fmt.Errorf("write: %w", err))
		return false
	}
	heap.Push(deadlines, deadline{at: at, id: call.id})
	cn.log.Debug("ami: action sent", "action", call.name, "actionid", call.id)
	return true
}

// expire fails the pending calls whose deadline has passed.
func (cn *conn) expire(deadlines *deadlineHeap) {
	now := time.Now()
	for len(*deadlines) > 0 && !(*deadlines)[0].at.After(now) {
		d := heap.Pop(deadlines).(deadline)
		cn.mu.Lock()
		call := cn.pending[d.id]
		if call == nil {
			cn.mu.Unlock()
			continue // answered in time
		}
		delete(cn.pending, d.id)
		if call.list {
			cn.lists.Add(-1)
		}
		cn.mu.Unlock()
		cn.log.Warn("ami: action timed out", "action", call.name, "actionid", call.id, "timeout", call.timeout)
		call.finish(fmt.Errorf("%s: %w after %v", call.name, ErrActionTimeout, call.timeout))
	}
}

// deadline is when the call with ActionID id times out. ActionIDs are
// unique, so the heap need not hold the call itself, which would keep its
// answer alive until then.
type deadline struct {
	at time.Time
	id string
}

// deadlineHeap orders the deadlines of sent calls, soonest first. Those of
// answered calls stay until they pass; the pending map says which calls
// still wait.
type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}
