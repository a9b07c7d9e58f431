package ami

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Tunables of the Client, in one block so that tests can shrink them. The
// Default* values apply where a Config field is zero.
var (
	// DefaultActionTimeout bounds the wait for the answer to an action.
	DefaultActionTimeout = 10 * time.Second
	// DefaultPingInterval is the time between keepalive Pings.
	DefaultPingInterval = 20 * time.Second
	// DefaultPingTimeout bounds the wait for the answer to a Ping.
	DefaultPingTimeout = 10 * time.Second
	// DefaultRetryPause is the first pause between connection attempts.
	DefaultRetryPause = 5 * time.Second
	// DefaultRetryMaxPause caps the doubling of the pause between attempts.
	DefaultRetryMaxPause = time.Minute
	// DefaultFullyBootedWait bounds the wait for FullyBooted after login.
	DefaultFullyBootedWait = 3 * time.Second
	// DefaultSubscriptionBuffer is the buffer of Subscribe(0), in items.
	DefaultSubscriptionBuffer = 4096

	// dialTimeout bounds the TCP connect, bannerTimeout the wait for the
	// banner after it.
	dialTimeout   = 10 * time.Second
	bannerTimeout = 10 * time.Second
	// writeTimeout bounds one flush of queued actions to the socket.
	writeTimeout = 10 * time.Second
	// logoffTimeout bounds the wait for "Response: Goodbye" at shutdown.
	logoffTimeout = time.Second
	// sendQueue is the number of actions that may wait for the writer; an
	// action that finds it full fails at once with ErrQueueFull.
	sendQueue = 1024
	// setupBacklog bounds the events held back while a new connection logs
	// in; they are delivered after the LinkUp item.
	setupBacklog = 1 << 14
	// maxListItems bounds the item events collected for one list action.
	maxListItems = 1 << 17
)

// Config configures a Client. Only Addr, Username and Secret are required.
type Config struct {
	Addr     string // host:port of the manager interface, e.g. "127.0.0.1:5038"
	Username string // manager.conf user
	Secret   string // its secret; never logged
	// UseMD5Challenge logs in with the Challenge action and an MD5 key, so
	// that the secret never crosses the wire.
	UseMD5Challenge bool
	// ActionTimeout bounds the wait for an answer (for list actions, the
	// whole list); 0 means DefaultActionTimeout.
	ActionTimeout time.Duration
	// PingInterval is the time between keepalive Pings; 0 means
	// DefaultPingInterval and a negative value disables them.
	PingInterval time.Duration
	// PingTimeout bounds the wait for a Pong; 0 means DefaultPingTimeout.
	PingTimeout time.Duration
	// Retries is how many connection attempts in a row may fail, in all,
	// before Run gives up (the first attempt counts: 1 is a single try);
	// 0 means for ever. A link that came up resets the count.
	Retries int
	// RetryPause is the first pause between attempts (0 means
	// DefaultRetryPause); it doubles after each failed attempt up to
	// RetryMaxPause (0 means DefaultRetryMaxPause), each pause less up to
	// a quarter of it at random. Seatclient's pauses grow the same way.
	RetryPause, RetryMaxPause time.Duration
	// SecretFrom says where Secret came from ("the --ami-secret flag"),
	// for the error of a refused login, which never shows the secret
	// itself; "" says nothing.
	SecretFrom string
	// FullyBootedWait bounds the wait for the FullyBooted event after login
	// (Asterisk 1.4 never sends it and is not waited for); 0 means
	// DefaultFullyBootedWait and a negative value does not wait.
	FullyBootedWait time.Duration
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Dial opens the TCP connection; nil means a net.Dialer. For tests.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = DefaultActionTimeout
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	if cfg.RetryPause <= 0 {
		cfg.RetryPause = DefaultRetryPause
	}
	if cfg.RetryMaxPause <= 0 {
		cfg.RetryMaxPause = DefaultRetryMaxPause
	}
	cfg.RetryMaxPause = max(cfg.RetryMaxPause, cfg.RetryPause)
	if cfg.FullyBootedWait == 0 {
		cfg.FullyBootedWait = DefaultFullyBootedWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	return cfg
}

// Client is the one connection to an Asterisk manager interface that the
// whole server shares. Run keeps it connected; Go and Do send actions and
// match their answers by ActionID; Subscribe delivers events and link state
// changes in arrival order.
//
// All methods are safe to call from any goroutine, and Go, Subscribe and
// Close never block on the network: the hub goroutine may call them.
type Client struct {
	cfg      Config
	log      *slog.Logger
	idPrefix string
	ids      atomic.Uint64

	cur    atomic.Pointer[conn] // the logged-in connection; nil while the link is down
	pub    publisher
	frames framePool // event frames released by every subscriber, for the reader

	mu      sync.Mutex // guards the fields below
	cancel  context.CancelFunc
	closed  bool
	started bool
	runDone chan struct{} // closed when Run returns

	// Owned by Run.
	links        int    // links that came up so far
	lastStart    string // PBX start time seen on the last link, "" if unknown
	shutdownSeen bool   // a Shutdown event came since the last link up
	// wait pauses between connection attempts: it returns false when ctx
	// ended first. Tests replace it to record the pauses.
	wait func(ctx context.Context, d time.Duration) bool
}

// New returns a Client for cfg. Call Run to connect.
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	var b [3]byte
	_, _ = rand.Read(b[:])
	c := &Client{
		cfg:      cfg,
		log:      cfg.Logger.With("ami", cfg.Addr),
		idPrefix: "astcti-" + hex.EncodeToString(b[:]) + "-",
		runDone:  make(chan struct{}),
		wait:     sleep,
	}
	c.pub.log = c.log
	return c
}

// Call is one action sent with Go or Do, in the style of net/rpc. Its
// fields are written by the client until the Call is sent on Done, and are
// the caller's to read after that.
type Call struct {
	Action *Frame // the action as sent, carrying the ActionID the client gave it
	// Reply is Asterisk's response, nil when none came. A "Response:
	// Error" reply is there too, and Err is then an *ActionError.
	Reply *Frame
	// Items are the events of a list action (QueueStatus, CoreShowChannels,
	// Status, QueueSummary, …), in order; they are not given to
	// subscribers. Complete is the event that closed the list
	// (…Complete, with ListItems), nil for other actions.
	Items    []*Frame
	Complete *Frame
	Err      error
	Done     chan *Call // receives the Call when it is complete

	id      string
	name    string
	timeout time.Duration
	list    bool // collecting items; guarded by conn.mu
	log     *slog.Logger
}

// finish completes the call. It never blocks: Done must have room, as with
// net/rpc; a completion that finds Done full is dropped and logged.
func (call *Call) finish(err error) {
	if err != nil && call.Err == nil {
		call.Err = err
	}
	select {
	case call.Done <- call:
	default:
		call.log.Error("ami: done channel full, completion dropped", "action", call.name, "actionid", call.id)
	}
}

// Go sends action and returns at once; the Call is sent on done when the
// answer (for a list action: the whole list) has come, or the action failed.
// If done is nil a channel is made; otherwise it must be buffered, and must
// have room for every call that may complete while its owner is not
// receiving (a full done channel loses the completion, which is logged).
// Go panics if done is unbuffered.
//
// The client replaces any ActionID the action has with its own, on a copy:
// action itself is not modified. Go never blocks: with the link down the
// call fails with ErrDisconnected, with the send queue full with
// ErrQueueFull. It is safe to call from any goroutine.
func (c *Client) Go(action *Frame, done chan *Call) *Call {
	call := c.newCall(action, done, c.cfg.ActionTimeout)
	cn := c.cur.Load()
	if cn == nil {
		call.finish(fmt.Errorf("%s: %w", call.name, ErrDisconnected))
		return call
	}
	cn.send(call)
	return call
}

// Do sends action and waits for its answer or for ctx to end. The error is
// the Call's Err, or ctx's error (wrapped), in which case the Call is nil and
// its answer, when it comes, is dropped. It is safe to call from any
// goroutine but blocks, so the hub uses Go instead.
func (c *Client) Do(ctx context.Context, action *Frame) (*Call, error) {
	call := c.Go(action, make(chan *Call, 1))
	select {
	case <-call.Done:
		return call, call.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", call.name, ctx.Err())
	}
}

// newCall prepares a call: a copy of action with a fresh ActionID.
func (c *Client) newCall(action *Frame, done chan *Call, timeout time.Duration) *Call {
	if done == nil {
		done = make(chan *Call, 1)
	} else if cap(done) == 0 {
		panic("ami: Go with an unbuffered done channel")
	}
	id := c.idPrefix + strconv.FormatUint(c.ids.Add(1), 10)
	sent := action.Clone()
	sent.Set("ActionID", id)
	return &Call{
		Action:  sent,
		Done:    done,
		id:      id,
		name:    action.Action(),
		timeout: timeout,
		log:     c.log,
	}
}

// Close shuts the client down: Run sends Logoff when the link is up, closes
// the connection, ends every subscription with ErrClosed and returns nil.
// Close waits for Run to return. It is idempotent and safe to call from any
// goroutine, before, during or after Run.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cancel, started := c.cancel, c.started
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if started {
		<-c.runDone
	} else {
		c.pub.closeAll(ErrClosed)
	}
	return nil
}
