package ami

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Item is one element of a subscription's stream: an event, or a change of
// the link state. Exactly one field is set. Items come in the order the
// events arrived; a connection's LinkUp comes before its first event and
// its LinkDown after its last one.
type Item struct {
	// Frame is an event. Every subscriber receives the same *Frame: treat
	// it as read-only (Clone it to change it), and Release it once done
	// with it, so that the client can reuse it.
	Frame *Frame
	Up    *LinkUp
	Down  *LinkDown
	// Read is when the connection's reader handed the event over, just
	// after reading it (zero for link changes): the start of the server's
	// notification latency.
	Read time.Time
}

// LinkUp tells that the client is logged in on a new connection. After it,
// the owner should resynchronise its state (CoreShowChannels, QueueStatus):
// events were missed while the link was down.
type LinkUp struct {
	Link    int    // 1 for the first connection of Run, 2 for the next, …
	Attempt int    // the attempt that succeeded, counted from 1 since the link was last up
	Version string // the manager's banner version: "1.0" for Asterisk 1.4, "11.0.0" for 22
	// StartTime is when the PBX started, from CoreStatus (the PBX's wall
	// clock; its zone is unknown and set to UTC). It is zero when unknown:
	// Asterisk 1.4 has no CoreStatus.
	StartTime time.Time
	// Restarted tells whether the PBX restarted since the previous link:
	// its start time changed, or a Shutdown event came before the drop.
	Restarted Restart
}

// LinkDown tells that the connection ended. Err says why: ErrClosed at
// shutdown, a *ProtocolError for a broken stream, ErrPingTimeout, io.EOF
// when Asterisk closed the socket, ….
type LinkDown struct {
	Err error
}

// Restart says whether the PBX restarted between two links.
type Restart int

const (
	// RestartUnknown is given for the first link, and when neither the
	// start times nor a Shutdown event tell.
	RestartUnknown Restart = iota
	// RestartNo means the PBX has the start time it had on the last link.
	RestartNo
	// RestartYes means the PBX restarted: every channel and every dynamic
	// queue member is gone.
	RestartYes
)

func (r Restart) String() string {
	switch r {
	case RestartNo:
		return "no"
	case RestartYes:
		return "yes"
	}
	return "unknown"
}

// Subscription is a stream of Items with its own bounded buffer. The
// client never waits for a subscriber: one whose buffer is full when an
// item must be delivered is closed, and its Err is ErrSlowSubscriber.
type Subscription struct {
	p   *publisher
	ch  chan Item
	err error // why ch was closed; guarded by p.mu
}

// C returns the channel of items. It is closed when the subscription ends;
// Err then says why.
func (s *Subscription) C() <-chan Item { return s.ch }

// Err returns why the subscription ended: ErrSlowSubscriber, ErrClosed when
// the client shut down, nil after Close or while it is open. It is safe to
// call from any goroutine.
func (s *Subscription) Err() error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if errors.Is(s.err, errUnsubscribed) {
		return nil
	}
	return s.err
}

// Close ends the subscription and closes its channel. It is idempotent and
// safe to call from any goroutine.
func (s *Subscription) Close() {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.removeLocked(s, errUnsubscribed)
}

// errUnsubscribed marks a subscription its owner closed.
var errUnsubscribed = errors.New("ami: unsubscribed")

// Subscribe returns a new subscription whose buffer holds n items (0 means
// DefaultSubscriptionBuffer). It sees the items published after it was
// made. It never blocks and is safe to call from any goroutine; on a closed
// client the subscription is already closed with ErrClosed.
func (c *Client) Subscribe(n int) *Subscription {
	if n <= 0 {
		n = DefaultSubscriptionBuffer
	}
	return c.pub.subscribe(n)
}

// publisher fans items out to the subscriptions. The reader goroutine of the
// current connection publishes events, Run publishes link changes; a
// connection being set up is held: its events wait in a backlog until its
// LinkUp is published, so that they follow it.
type publisher struct {
	mu      sync.Mutex // guards everything below; never held while taking conn.mu
	subs    []*Subscription
	held    bool
	backlog []Item
	closed  error // set when the client shut down
	log     *slog.Logger
}

func (p *publisher) subscribe(n int) *Subscription {
	s := &Subscription{p: p, ch: make(chan Item, n)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		s.err = p.closed
		close(s.ch)
		return s
	}
	p.subs = append(p.subs, s)
	return s
}

// removeLocked closes s with err, if it is still open. p.mu must be held.
func (p *publisher) removeLocked(s *Subscription, err error) {
	if s.err != nil {
		return
	}
	s.err = err
	close(s.ch)
	for i, o := range p.subs {
		if o == s {
			n := len(p.subs)
			copy(p.subs[i:], p.subs[i+1:])
			p.subs[n-1] = nil
			p.subs = p.subs[:n-1]
			break
		}
	}
}

// errBacklog is the error of a connection that sent too many events before
// its LinkUp could be published.
var errBacklog = errors.New("ami: too many events while logging in")

// publish delivers it, or holds it back while a connection is being set up.
// It never blocks.
func (p *publisher) publish(it Item) error {
	if it.Frame != nil {
		it.Read = time.Now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held {
		if len(p.backlog) >= setupBacklog {
			return errBacklog
		}
		p.backlog = append(p.backlog, it)
		return nil
	}
	p.deliverLocked(it)
	return nil
}

// deliverLocked sends it to every subscription without waiting; a
// subscription with a full buffer is closed with ErrSlowSubscriber. p.mu
// must be held.
func (p *publisher) deliverLocked(it Item) {
	pooled := it.Frame != nil && it.Frame.pool != nil
	if pooled {
		it.Frame.pool.deliver(it.Frame, len(p.subs))
	}
	for i := 0; i < len(p.subs); {
		s := p.subs[i]
		select {
		case s.ch <- it:
			i++
		default:
			p.removeLocked(s, ErrSlowSubscriber)
			p.log.Warn("ami: subscriber too slow, subscription closed", "buffer", cap(s.ch))
			if pooled {
				it.Frame.Release() // for the subscriber that never got it
			}
		}
	}
}

// hold starts holding events back for a connection being set up.
func (p *publisher) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held, p.backlog = true, nil
}

// release publishes first (the LinkUp), then the events held back.
func (p *publisher) release(first Item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deliverLocked(first)
	for i, it := range p.backlog {
		p.deliverLocked(it)
		p.backlog[i] = Item{}
	}
	p.held, p.backlog = false, nil
}

// discard drops the events of a connection that never came up: no LinkUp
// announced it, so nobody expects them.
func (p *publisher) discard() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held, p.backlog = false, nil
}

// closeAll ends every subscription, and every later one, with err.
func (p *publisher) closeAll(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = err
	for len(p.subs) > 0 {
		p.removeLocked(p.subs[0], err)
	}
	p.held, p.backlog = false, nil
}
