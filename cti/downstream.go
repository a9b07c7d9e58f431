package cti

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/metrics"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/cti/throttle"
)

// seatConn is one seat's TCP connection. Its reader goroutine reads lines,
// handles the login (USER, PASS) itself — a password hash costs CPU, which
// the hub must not spend — and hands every later command to the hub. Its
// writer goroutine owns the write side: every line goes through Send's
// bounded queue, so a seat that stops reading never delays the hub or the
// other seats; it is disconnected instead.
//
// An idle seat holds little (BenchmarkIdleSeats, docs/performance.md):
// the writer runs only while it has lines to write (Send starts it, and it
// ends once the queue is empty), its buffer is lent by the Server for that
// time, and the queue is a slice.
type seatConn struct {
	id     uint64
	srv    *Server
	nc     net.Conn
	remote string // the peer's IP address, for the failed-login limit
	log    *slog.Logger

	mu       sync.Mutex
	queue    [][]byte     // lines waiting for the writer; guarded by mu
	final    bool         // flush the queue, then hang up; guarded by mu
	writing  bool         // a writer goroutine runs; guarded by mu
	outBytes atomic.Int64 // bytes queued and not yet taken into the writer's buffer
	// inHub counts the commands the reader handed to the hub and the hub
	// has not handled yet; each may queue an answer. guarded by mu.
	inHub int
	// readerWaits is set while the reader waits for room (waitRoom), to
	// be woken through room; guarded by mu.
	readerWaits bool
	room        sync.Cond // on mu
	// cut is the rest of the line a failed write cut, sent before the
	// final line of a seat cut at once. Only the writer uses it.
	cut []byte

	closing   atomic.Bool
	reason    atomic.Int32  // CloseReason, set once by the first close
	done      chan struct{} // closed when the last writer has hung up
	closeOnce sync.Once
	stop      chan struct{} // closed to hang up at once
}

func newSeatConn(srv *Server, id uint64, nc net.Conn) *seatConn {
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		host = nc.RemoteAddr().String()
	}
	c := &seatConn{
		id: id, srv: srv, nc: nc, remote: host,
		log:  srv.log.With("seat", id, "remote", nc.RemoteAddr().String()),
		done: make(chan struct{}),
		stop: make(chan struct{}),
	}
	c.room.L = &c.mu
	return c
}

// readerRoom is how many lines the reader lets wait for the writer, its
// commands in the hub included, before it reads the next command: half
// the queue, so that the seat's answers never fill it and the other half
// is left for the hub's events.
func readerRoom() int { return max(seatQueueLines/2, 1) }

// waitRoom blocks the reader until the answers it caused have room in the
// queue: fewer than readerRoom lines queued or in the hub, and less than
// half the queue's bytes. Meanwhile the seat is not read, and TCP pushes
// back on a seat that sends commands faster than it reads the answers. A
// seat that reads nothing is cut by its writer's deadline. It returns
// false once the session is closing.
func (c *seatConn) waitRoom() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue)+c.inHub >= readerRoom() || c.outBytes.Load() >= int64(seatQueueBytes/2) {
		if c.closing.Load() {
			return false
		}
		c.readerWaits = true
		c.room.Wait()
	}
	return !c.closing.Load()
}

// wakeReaderLocked wakes the reader if it waits for room. c.mu must be
// held.
func (c *seatConn) wakeReaderLocked() {
	if c.readerWaits {
		c.readerWaits = false
		c.room.Broadcast()
	}
}

// handed counts a command the reader hands to the hub; handled (called by
// the hub) counts it done.
func (c *seatConn) handed() {
	c.mu.Lock()
	c.inHub++
	c.mu.Unlock()
}

// handled tells the reader that the hub has handled one command of the
// seat, and queued its answer. It is safe to call from any goroutine.
func (c *seatConn) handled() {
	c.mu.Lock()
	c.inHub--
	c.wakeReaderLocked()
	c.mu.Unlock()
}

// Send queues one line, with its "\n", for the seat. It never blocks:
// a seat whose queue is full, in lines or in bytes, is closed as a slow
// consumer, so no notification is ever dropped silently while the session
// lives. It reports whether the line was queued. It is safe to call from
// any goroutine.
func (c *seatConn) Send(line []byte) bool {
	if c.closing.Load() {
		return false
	}
	if c.outBytes.Add(int64(len(line))) > int64(seatQueueBytes) {
		c.closeNow(CloseSlowConsumer)
		return false
	}
	c.mu.Lock()
	if c.final {
		c.mu.Unlock() // closed meanwhile: nothing goes after the final line
		return false
	}
	if len(c.queue) >= seatQueueLines {
		c.mu.Unlock()
		c.closeNow(CloseSlowConsumer)
		return false
	}
	c.queue = append(c.queue, line)
	c.wakeLocked()
	c.mu.Unlock()
	return true
}

// wakeLocked starts the writer unless it runs; the Server waits for it.
// c.mu must be held.
func (c *seatConn) wakeLocked() {
	if !c.writing {
		c.writing = true
		c.srv.wg.Add(1) // not goWait: no closure to allocate per start
		go c.writeLoop()
	}
}

// sendStatus queues a status line.
func (c *seatConn) sendStatus(s seatproto.Status) bool {
	return c.Send(seatproto.AppendStatus(nil, s))
}

// Close ends the session for reason: the line that tells the seat why is
// queued after everything already queued, then the writer flushes and hangs
// up; a seat whose queue is full is hung up at once. It is idempotent and
// safe to call from any goroutine; only the first reason counts.
func (c *seatConn) Close(reason CloseReason) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.reason.Store(int32(reason))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) >= seatQueueLines {
		c.closeOnce.Do(func() { close(c.stop) })
	} else if st, ok := reason.finalLine(); ok {
		c.queue = append(c.queue, seatproto.AppendStatus(nil, st))
	}
	c.final = true
	c.wakeLocked()
	c.wakeReaderLocked()
}

// closeNow ends the session without flushing: for a seat that does not
// read, there is no point in waiting for it.
func (c *seatConn) closeNow(reason CloseReason) {
	if c.closing.CompareAndSwap(false, true) {
		c.reason.Store(int32(reason))
	}
	c.closeOnce.Do(func() { close(c.stop) })
	// A writer blocked on a full socket would only see stop after its
	// write deadline; make that deadline now.
	c.nc.SetWriteDeadline(time.Now())
	c.mu.Lock()
	c.wakeLocked() // a writer hangs up
	c.wakeReaderLocked()
	c.mu.Unlock()
}

// Reason returns why the session ended, once it has.
func (c *seatConn) Reason() CloseReason { return CloseReason(c.reason.Load()) }

// writeLoop writes the queued lines until the queue is empty, then ends;
// Send starts the next one. At the end of the session (final, or stop) it
// closes the connection, which also ends the reader, and done.
func (c *seatConn) writeLoop() {
	defer c.srv.wg.Done()
	for {
		batch, more := c.take()
		if !more {
			return
		}
		if batch == nil || !c.write(batch) {
			c.sendFinalLine()
			c.hangUp()
			return
		}
	}
}

// take returns every queued line, and whether to go on writing: false when
// the queue is empty (the writer ends; the next Send starts another). A nil
// batch with true means hang up now: the session was closed without a
// flush, or its last lines are written.
func (c *seatConn) take() (batch [][]byte, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped():
		return nil, true
	case len(c.queue) > 0:
		batch, c.queue = c.queue, nil
		c.wakeReaderLocked()
		return batch, true
	case c.final:
		return nil, true
	}
	c.writing = false
	return nil, false
}

// stopped reports whether the session was closed without a flush.
func (c *seatConn) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// sendFinalLine tries to tell a seat cut without a flush (a slow consumer)
// why, best effort: one write of the rest of a line cut short, if any,
// and the line, waiting
// at most seatFinalLineTimeout for room in the socket. A session that
// ended otherwise (flushed: its final line went with the queue; or its
// connection broke) gets nothing more.
func (c *seatConn) sendFinalLine() {
	if !c.stopped() {
		return
	}
	st, ok := c.Reason().finalLine()
	if !ok {
		return
	}
	line := seatproto.AppendStatus(c.cut, st)
	c.cut = nil
	c.nc.SetWriteDeadline(time.Now().Add(seatFinalLineTimeout))
	if _, err := c.nc.Write(line); err != nil {
		c.log.Debug("the final line did not go", "reason", c.Reason().String(), "err", err)
	}
}

// hangUp ends the session's write side for good. Only the last writer of
// a session calls it: take never lets another one run after a nil batch,
// since stop or final is set for good.
func (c *seatConn) hangUp() {
	c.nc.Close()
	close(c.done)
	c.mu.Lock()
	c.wakeReaderLocked()
	c.mu.Unlock()
}

// write writes a batch of lines through a buffer borrowed from the Server,
// and flushes it. It reports false when the connection failed; the session
// is then closed.
func (c *seatConn) write(batch [][]byte) bool {
	buf := c.srv.writeBuffer()
	defer c.srv.putWriteBuffer(buf)
	b := (*buf)[:0]
	var err error
	for _, line := range batch {
		c.outBytes.Add(-int64(len(line)))
		if err != nil {
			continue // keep the byte count true for a Send racing the close
		}
		if c.stopped() {
			return false
		}
		if len(b)+len(line) > cap(b) && len(b) > 0 {
			err, b = c.writeOut(b), b[:0]
		}
		switch {
		case err != nil:
		case len(line) > cap(b):
			err = c.writeOut(line) // a line longer than the buffer goes as it is
		default:
			b = append(b, line...)
		}
	}
	if err == nil && len(b) > 0 {
		err = c.writeOut(b)
	}
	if err != nil {
		c.writeFailed(err)
		return false
	}
	return true
}

// writeOut writes p, whole lines, within seatWriteTimeout. When the write
// fails in the middle of a line, it keeps the rest of that line in cut,
// for the final line: the seat then gets whole lines if it reads in time.
func (c *seatConn) writeOut(p []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(seatWriteTimeout))
	n, err := c.nc.Write(p)
	if err != nil && n > 0 && p[n-1] != '\n' {
		end := n + bytes.IndexByte(p[n:], '\n') + 1
		c.cut = append([]byte(nil), p[n:end]...)
	}
	return err
}

// writeFailed closes the session after a failed write: as a slow consumer
// when the seat did not take a line within seatWriteTimeout, else as a
// broken connection.
func (c *seatConn) writeFailed(err error) {
	c.log.Debug("seat write failed", "err", err)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.closeNow(CloseSlowConsumer)
		return
	}
	c.closeNow(CloseReadError)
}

// seatReadBuffer is the size of a seat reader's buffer: an idle seat keeps
// it, so it fits the usual command (NOOP, PAUSE, ORIG), not the longest
// line (seatproto.MaxLineLen), which ReadLine assembles when it comes.
const seatReadBuffer = 512

// loginState is the reader goroutine's state before the operator is
// authenticated.
type loginState struct {
	user     string
	failures int
}

// readLoop reads the seat's lines until the connection ends, then tells the
// hub that the seat is gone. The hub learns of every command in the order
// the seat sent them; the reader blocks on the hub's queue, so TCP pushes
// back on a seat that sends faster than the hub takes.
func (c *seatConn) readLoop() {
	reason := c.readLines()
	c.srv.hub.post(eventSeatGone{conn: c, reason: reason})
}

func (c *seatConn) readLines() CloseReason {
	// Commands are short; a longer line grows in ReadLine, up to the limit.
	br := bufio.NewReaderSize(c.nc, seatReadBuffer)
	c.sendStatus(seatproto.Welcome())
	var login loginState
	authed := false
	// Until it logs in, the connection has until loginBy, whatever it
	// sends: NOOPs keep a session alive, not a connection that never
	// logs in.
	loginBy := time.Now().Add(c.srv.cfg.LoginTimeout)
	for {
		deadline := time.Now().Add(c.srv.cfg.Keepalive)
		if !authed && loginBy.Before(deadline) {
			deadline = loginBy
		}
		c.nc.SetReadDeadline(deadline)
		line, err := seatproto.ReadLine(br, seatproto.MaxLineLen)
		if !authed && !time.Now().Before(loginBy) && !c.closing.Load() {
			c.Close(CloseLoginTimeout)
			return c.Reason()
		}
		if err != nil {
			return c.readError(err)
		}
		if len(trimSpace(line)) == 0 {
			continue // an empty line still counts as keepalive traffic
		}
		// The answer to this command waits for room in the queue: the
		// seat is not read meanwhile.
		if !c.waitRoom() {
			return c.Reason()
		}
		cmd, err := seatproto.ParseCommand(line)
		if err != nil {
			c.sendStatus(seatproto.ErrorReply(err))
			continue
		}
		if authed {
			c.handed()
			if !c.srv.hub.post(eventSeatCommand{conn: c, cmd: cmd}) {
				return CloseShutdown
			}
			if cmd.Verb == seatproto.VerbQuit {
				return CloseQuit
			}
			continue
		}
		var end bool
		authed, end = c.login(&login, cmd)
		if end {
			return c.Reason()
		}
	}
}

// readError tells why reading stopped, and makes sure the session closes.
func (c *seatConn) readError(err error) CloseReason {
	var ne net.Error
	switch {
	case c.closing.Load():
		return c.Reason()
	case errors.Is(err, seatproto.ErrLineTooLong):
		c.Close(CloseLineTooLong)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		c.Close(CloseKeepalive)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		c.closeNow(CloseReadError)
	default:
		c.log.Debug("seat read failed", "err", err)
		c.closeNow(CloseReadError)
	}
	return c.Reason()
}

// login handles a command before the operator is authenticated. It reports
// whether the operator now is, and whether the session must end.
func (c *seatConn) login(st *loginState, cmd seatproto.Command) (authed, end bool) {
	switch cmd.Verb {
	case seatproto.VerbNoop:
		c.sendStatus(seatproto.OK())
	case seatproto.VerbQuit:
		c.Close(CloseQuit)
		return false, true
	case seatproto.VerbUser:
		st.user = cmd.User
		c.sendStatus(seatproto.OK()) // the same answer for every name: no probing
	case seatproto.VerbPass:
		return c.authenticate(st, "wrong password", func(op *config.Operator) bool { return op.CheckPassword(cmd.Password) },
			func() { spendPasswordCheck(cmd.Password) })
	case seatproto.VerbResume:
		return c.authenticate(st, "bad token", func(op *config.Operator) bool { return c.srv.checkToken(op, cmd.Token) }, nil)
	default:
		c.sendStatus(seatproto.KO(seatproto.ReasonNotAuthenticated))
	}
	return false, false
}

// authenticate checks the credential of PASS or RESUME with check, for the
// operator named by USER; wrong names a failed check in the log. An
// unknown operator costs spend, when set, as long as a real check: names
// cannot be probed by timing. A failure counts against the failed-login
// throttle (cti/throttle) either way: for this name from this address, and
// for this address. A throttled attempt is refused unchecked, and counts
// as a failure of the connection, so that one connection cannot ask for
// ever.
func (c *seatConn) authenticate(st *loginState, wrong string, check func(op *config.Operator) bool, spend func()) (authed, end bool) {
	if st.user == "" {
		c.sendStatus(seatproto.KO(seatproto.ReasonUserFirst))
		return false, false
	}
	pair := throttle.PairKey(st.user, c.remote)
	lim := c.srv.limits
	op := c.srv.holder.Current().Operator(st.user)
	if lim.pairs.Wait(pair) > 0 || lim.addrs.Wait(c.remote) > 0 {
		c.srv.metrics.LoginFailed(metrics.LoginTooManyFailures)
		return false, c.refuse(st, op, "throttled", seatproto.ReasonTooManyFailures)
	}
	ok := false
	switch {
	case op != nil && op.Enabled:
		ok = check(op)
	case spend != nil:
		spend() // a disabled operator too: its answer must not be quicker
	}
	if !ok {
		why := loginFailure(op)
		c.srv.metrics.LoginFailed(why)
		lim.pairs.Fail(pair)
		lim.addrs.Fail(c.remote)
		switch why {
		case metrics.LoginUnknownOperator:
			wrong = "unknown user"
		case metrics.LoginOperatorDisabled:
			wrong = "operator disabled"
		}
		return false, c.refuse(st, op, wrong, seatproto.ReasonAuthFailed)
	}
	lim.pairs.Succeed(pair)
	c.handed()
	if !c.srv.hub.post(eventSeatAuth{conn: c, username: st.user}) {
		return false, true
	}
	return true, false
}

// refuse answers a failed login with reason, logs why (the seat is told no
// more than reason) and closes the connection at its maxFailuresPerConn-th
// failure, reporting whether it did. An unknown name is logged as a short
// hash: it may be a password typed in the wrong field.
func (c *seatConn) refuse(st *loginState, op *config.Operator, why, reason string) (closed bool) {
	st.failures++
	name := slog.String("user", st.user)
	if op == nil {
		name = slog.String("user_hash", throttle.NameHash(st.user))
	}
	c.log.Info("seat login refused", "reason", why, name, "failures", st.failures)
	last := st.failures >= maxFailuresPerConn
	if !last || reason != seatproto.ReasonTooManyFailures {
		c.sendStatus(seatproto.KO(reason)) // the close line says it once
	}
	if last {
		c.Close(CloseTooManyFailures)
	}
	return last
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// loginFailure is why a password check failed, as the metrics count it
// (the seat is told the same "authentication failed" whatever the reason:
// names cannot be probed).
func loginFailure(op *config.Operator) string {
	switch {
	case op == nil:
		return metrics.LoginUnknownOperator
	case !op.Enabled:
		return metrics.LoginOperatorDisabled
	}
	return metrics.LoginBadPassword
}
