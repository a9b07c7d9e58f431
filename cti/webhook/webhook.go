package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Event is a call event an endpoint can want.
type Event string

// The events a webhook is sent for.
const (
	EventRing   Event = "ring"
	EventAnswer Event = "answer"
	EventHangup Event = "hangup"
)

// Headers of every delivery besides SignatureHeader.
const (
	// IdempotencyHeader carries Delivery.Key: the same for every attempt
	// of one delivery, so a receiver can drop a retry it already handled.
	IdempotencyHeader = "Idempotency-Key"
	// EventHeader carries the event, so a receiver can route before
	// decoding the body.
	EventHeader = "X-Astcti-Event"
	// AttemptHeader is the attempt's number, 1 for the first.
	AttemptHeader = "X-Astcti-Attempt"
)

// Version is the body's "v": a receiver should ignore fields it does
// not know, and the server adds fields without changing it.
const Version = 1

// Endpoint is one CRM receiver.
type Endpoint struct {
	// Name identifies the endpoint to Send and in logs and Stats; unique
	// in a Deliverer.
	Name string
	// URL is where deliveries are POSTed (http or https). Nothing of a
	// call is ever put into it.
	URL string
	// Secret is the HMAC-SHA256 key of the signature.
	Secret []byte
	// Events are the events the endpoint wants; Send drops the others.
	Events []Event
}

// Operator is who took (or was offered) the call.
type Operator struct {
	Username string `json:"username"`
	FullName string `json:"full_name,omitempty"`
}

// Seat is the seat (phone) the call rang or was answered on.
type Seat struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
}

// Caller is the caller id as the PBX gave it: data, possibly hostile,
// escaped by the JSON encoder and never put into a URL or a header.
type Caller struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// Delivery is one event of one call to one endpoint, the body's content.
// Key and V are filled by Send.
type Delivery struct {
	V     int    `json:"v"`
	Event Event  `json:"event"`
	Key   string `json:"idempotency_key"`
	// Time is when the event happened on the server (not when it is sent).
	Time      time.Time         `json:"time"`
	Linkedid  string            `json:"linkedid"`
	Uniqueid  string            `json:"uniqueid,omitempty"`
	Service   string            `json:"service,omitempty"`
	Queue     string            `json:"queue,omitempty"`
	Caller    Caller            `json:"caller"`
	Operator  *Operator         `json:"operator,omitempty"`
	Seat      Seat              `json:"seat"`
	Variables map[string]string `json:"variables"`
	// Cause is the hangup cause (Asterisk's Cause), on hangup only.
	Cause string `json:"cause,omitempty"`
}

// IdempotencyKey is the key of the event ev of the call linkedid on the
// seat interface iface: the hex of the first 16 bytes of SHA-256 over
// the three, separated by NUL bytes. It is a digest, not the text, so the
// header is always 32 safe characters whatever the PBX sent, and two
// triples never collide by concatenation.
func IdempotencyKey(linkedid string, ev Event, iface string) string {
	h := sha256.New()
	h.Write([]byte(linkedid))
	h.Write([]byte{0})
	h.Write([]byte(ev))
	h.Write([]byte{0})
	h.Write([]byte(iface))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Retry bounds the attempts of one delivery. The n-th retry waits
// between d/2 and d, where d = Base·2^(n-1) capped at Max (equal
// jitter: the delays grow, and receivers that failed together are not
// retried together). A delivery ends after Attempts attempts, or when
// the next wait would end after Deadline since its first attempt.
type Retry struct {
	Base, Max time.Duration
	Attempts  int
	Deadline  time.Duration
}

// Options are a Deliverer's tunables and its injected clock. Zero fields
// take the defaults of DefaultOptions.
type Options struct {
	// QueueLen is the number of deliveries each endpoint's queue keeps.
	QueueLen int
	// AttemptTimeout bounds one attempt, connection to the end of the
	// response headers and the bounded read of its body.
	AttemptTimeout time.Duration
	Retry          Retry
	// Client sends the requests. The default never follows redirects
	// (a POST redirected becomes a GET, losing the body): a 3xx is an
	// answer that ends the delivery.
	Client *http.Client
	// Now is the clock of the signatures and of Retry.Deadline.
	Now func() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error then.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1).
	Jitter func() float64
	Logger *slog.Logger
}

// DefaultOptions are the defaults: 256 deliveries per endpoint (a burst
// of a busy queue's rings while a CRM restarts), 10 s per attempt, and
// retries from 1 s doubling to 1 min, at most 8 attempts within 10 min:
// a CRM that is down longer is not helped by more, and a later event of
// the call waits behind them.
func DefaultOptions() Options {
	return Options{
		QueueLen:       256,
		AttemptTimeout: 10 * time.Second,
		Retry:          Retry{Base: time.Second, Max: time.Minute, Attempts: 8, Deadline: 10 * time.Minute},
	}
}

// maxResponseRead bounds how much of an answer's body is read (and
// discarded) so that the connection can be reused.
const maxResponseRead = 64 << 10

// Stats are an endpoint's counters since the Deliverer was made.
type Stats struct {
	// Queued counts deliveries Send accepted.
	Queued uint64
	// Delivered counts deliveries a receiver answered with 2xx.
	Delivered uint64
	// Dropped counts deliveries pushed out of a full queue, unsent.
	Dropped uint64
	// Failed counts deliveries given up: a refusing answer, attempts or
	// deadline exhausted.
	Failed uint64
	// FailedAttempts counts attempts that did not get a 2xx.
	FailedAttempts uint64
	// Unsent counts deliveries still queued or in flight when the
	// Deliverer stopped.
	Unsent uint64
}

// Deliverer delivers to a fixed set of endpoints. Send is safe from any
// goroutine and never blocks; Run runs the workers.
type Deliverer struct {
	opt       Options
	endpoints map[string]*endpoint
	order     []*endpoint
}

type endpoint struct {
	Endpoint
	wants map[Event]bool
	u     *url.URL
	log   *slog.Logger

	// mu guards queue, the deliveries not yet taken by the worker. It is
	// held only to append or take one, never during I/O. It is the only
	// lock of the package.
	mu    sync.Mutex
	queue []Delivery
	// wake has room for one token: Send leaves one when it queues, so the
	// worker never misses work and Send never waits.
	wake chan struct{}

	queued, delivered, dropped, failed, failedAttempts, unsent atomic.Uint64
}

// New returns a Deliverer for the endpoints, checked: unique non-empty
// names, absolute http or https URLs, a non-empty secret, known events.
func New(endpoints []Endpoint, opt Options) (*Deliverer, error) {
	def := DefaultOptions()
	if opt.QueueLen <= 0 {
		opt.QueueLen = def.QueueLen
	}
	if opt.AttemptTimeout <= 0 {
		opt.AttemptTimeout = def.AttemptTimeout
	}
	if opt.Retry.Base <= 0 {
		opt.Retry.Base = def.Retry.Base
	}
	if opt.Retry.Max <= 0 {
		opt.Retry.Max = def.Retry.Max
	}
	if opt.Retry.Attempts <= 0 {
		opt.Retry.Attempts = def.Retry.Attempts
	}
	if opt.Retry.Deadline <= 0 {
		opt.Retry.Deadline = def.Retry.Deadline
	}
	if opt.Client == nil {
		opt.Client = defaultClient()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleep
	}
	if opt.Jitter == nil {
		opt.Jitter = rand.Float64
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{opt: opt, endpoints: map[string]*endpoint{}}
	for _, e := range endpoints {
		if e.Name == "" {
			return nil, fmt.Errorf("webhook: endpoint %q: no name", e.URL)
		}
		if _, dup := d.endpoints[e.Name]; dup {
			return nil, fmt.Errorf("webhook: endpoint %q: named twice", e.Name)
		}
		u, err := url.Parse(e.URL)
		if err != nil {
			return nil, fmt.Errorf("webhook: endpoint %q: %w", e.Name, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("webhook: endpoint %q: url %q is not an absolute http or https URL", e.Name, e.URL)
		}
		if len(e.Secret) == 0 {
			return nil, fmt.Errorf("webhook: endpoint %q: no secret", e.Name)
		}
		if len(e.Events) == 0 {
			return nil, fmt.Errorf("webhook: endpoint %q: no events", e.Name)
		}
		wants := map[Event]bool{}
		for _, ev := range e.Events {
			switch ev {
			case EventRing, EventAnswer, EventHangup:
				wants[ev] = true
			default:
				return nil, fmt.Errorf("webhook: endpoint %q: unknown event %q", e.Name, ev)
			}
		}
		e.Secret = slices.Clone(e.Secret)
		e.Events = slices.Clone(e.Events)
		ep := &endpoint{
			Endpoint: e, wants: wants, u: u,
			log:  opt.Logger.With("endpoint", e.Name),
			wake: make(chan struct{}, 1),
		}
		d.endpoints[e.Name] = ep
		d.order = append(d.order, ep)
	}
	return d, nil
}

func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 10 * time.Second
	tr.MaxResponseHeaderBytes = 16 << 10
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send queues dl for the endpoint named name and returns at once. It
// fills dl.V and dl.Key (IdempotencyKey of dl.Linkedid, dl.Event and
// dl.Seat.Interface) and copies dl.Variables, so the caller may reuse its
// map. It returns false, queuing nothing, for an unknown endpoint or an
// event the endpoint does not want. When the queue is full the oldest
// queued delivery is dropped and counted (Stats.Dropped). It is safe to
// call from any goroutine, before, during or after Run.
func (d *Deliverer) Send(name string, dl Delivery) bool {
	ep := d.endpoints[name]
	if ep == nil || !ep.wants[dl.Event] {
		return false
	}
	dl.V = Version
	dl.Key = IdempotencyKey(dl.Linkedid, dl.Event, dl.Seat.Interface)
	dl.Variables = maps.Clone(dl.Variables)
	if dl.Variables == nil {
		dl.Variables = map[string]string{}
	}
	ep.mu.Lock()
	if len(ep.queue) >= d.opt.QueueLen {
		old := ep.queue[0]
		ep.queue[0] = Delivery{}
		ep.queue = ep.queue[1:]
		ep.dropped.Add(1)
		ep.log.Warn("webhook queue full: oldest delivery dropped", "linkedid", old.Linkedid, "event", old.Event)
	}
	ep.queue = append(ep.queue, dl)
	ep.mu.Unlock()
	ep.queued.Add(1)
	select {
	case ep.wake <- struct{}{}:
	default:
	}
	return true
}

// Stats returns the counters of the endpoint named name, and false for an
// unknown name. It is safe to call from any goroutine.
func (d *Deliverer) Stats(name string) (Stats, bool) {
	ep := d.endpoints[name]
	if ep == nil {
		return Stats{}, false
	}
	return Stats{
		Queued:         ep.queued.Load(),
		Delivered:      ep.delivered.Load(),
		Dropped:        ep.dropped.Load(),
		Failed:         ep.failed.Load(),
		FailedAttempts: ep.failedAttempts.Load(),
		Unsent:         ep.unsent.Load(),
	}, true
}

// Run runs one worker per endpoint until ctx ends, then waits for them
// all and returns. A request in flight is cancelled by ctx's end; what
// is still queued then is counted in Stats.Unsent and not sent. Run must
// be called once.
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ep := range d.order {
		wg.Go(func() { d.work(ctx, ep) })
	}
	wg.Wait()
	// The workers are gone; so must be the kept-alive connections and
	// their transport goroutines.
	d.opt.Client.CloseIdleConnections()
}

// take removes and returns the oldest queued delivery.
func (ep *endpoint) take() (Delivery, bool) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.queue) == 0 {
		return Delivery{}, false
	}
	dl := ep.queue[0]
	ep.queue[0] = Delivery{}
	ep.queue = ep.queue[1:]
	if len(ep.queue) == 0 {
		ep.queue = nil // let the backing array go after a burst
	}
	return dl, true
}

func (d *Deliverer) work(ctx context.Context, ep *endpoint) {
	defer func() {
		ep.mu.Lock()
		ep.unsent.Add(uint64(len(ep.queue)))
		ep.queue = nil
		ep.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ep.wake:
		}
		for {
			dl, ok := ep.take()
			if !ok {
				break
			}
			if !d.deliver(ctx, ep, dl) {
				ep.unsent.Add(1)
				return
			}
		}
	}
}

// attemptError is why an attempt failed, and whether (and when at the
// earliest) another attempt is worth making.
type attemptError struct {
	err        error
	retry      bool
	retryAfter time.Duration
}

func (e *attemptError) Error() string { return e.err.Error() }

// deliver makes the attempts of one delivery. It returns false only when
// ctx ended before the delivery did.
func (d *Deliverer) deliver(ctx context.Context, ep *endpoint, dl Delivery) bool {
	body, err := json.Marshal(dl)
	if err != nil { // cannot happen with these types; count it, not crash
		ep.failed.Add(1)
		ep.log.Error("webhook body", "linkedid", dl.Linkedid, "event", dl.Event, "err", err)
		return true
	}
	log := ep.log.With("linkedid", dl.Linkedid, "event", dl.Event, "key", dl.Key)
	start := d.opt.Now()
	r := d.opt.Retry
	for attempt := 1; ; attempt++ {
		ae := d.attempt(ctx, ep, dl, body, attempt)
		if ae == nil {
			ep.delivered.Add(1)
			log.Debug("webhook delivered", "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			log.Debug("webhook stopped", "attempt", attempt, "err", ae.err)
			return false
		}
		ep.failedAttempts.Add(1)
		if !ae.retry {
			ep.failed.Add(1)
			log.Debug("webhook refused", "attempt", attempt, "err", ae.err)
			log.Warn("webhook delivery failed", "attempts", attempt, "err", ae.err)
			return true
		}
		if attempt >= r.Attempts {
			ep.failed.Add(1)
			log.Debug("webhook attempt failed", "attempt", attempt, "err", ae.err)
			log.Warn("webhook delivery failed: attempts exhausted", "attempts", attempt, "err", ae.err)
			return true
		}
		wait := d.backoff(attempt)
		if ae.retryAfter > wait {
			wait = min(ae.retryAfter, r.Max)
		}
		if d.opt.Now().Add(wait).Sub(start) > r.Deadline {
			ep.failed.Add(1)
			log.Debug("webhook attempt failed", "attempt", attempt, "err", ae.err)
			log.Warn("webhook delivery failed: deadline", "attempts", attempt, "deadline", r.Deadline, "err", ae.err)
			return true
		}
		log.Debug("webhook attempt failed", "attempt", attempt, "err", ae.err, "retry_in", wait)
		if d.opt.Sleep(ctx, wait) != nil {
			return false
		}
	}
}

// backoff is the wait after the attempt-th attempt: d = Base·2^(attempt-1)
// capped at Max, then a uniformly random point of [d/2, d).
func (d *Deliverer) backoff(attempt int) time.Duration {
	r := d.opt.Retry
	w := r.Base
	for i := 1; i < attempt && w < r.Max; i++ {
		w *= 2
	}
	w = min(w, r.Max)
	half := w / 2
	return half + time.Duration(d.opt.Jitter()*float64(w-half))
}

// attempt makes one POST. It returns nil on a 2xx answer.
func (d *Deliverer) attempt(ctx context.Context, ep *endpoint, dl Delivery, body []byte, n int) *attemptError {
	actx, cancel := context.WithTimeout(ctx, d.opt.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.u.String(), bytes.NewReader(body))
	if err != nil {
		return &attemptError{err: fmt.Errorf("webhook: request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "astcti-webhook/1")
	req.Header.Set(IdempotencyHeader, dl.Key)
	req.Header.Set(EventHeader, string(dl.Event))
	req.Header.Set(AttemptHeader, strconv.Itoa(n))
	req.Header.Set(SignatureHeader, Sign(ep.Secret, d.opt.Now(), body))
	resp, err := d.opt.Client.Do(req)
	if err != nil {
		// Connection refused or reset, DNS, TLS, a timeout: all worth
		// another attempt, the receiver may be restarting.
		return &attemptError{err: fmt.Errorf("webhook: post: %w", err), retry: true}
	}
	// Read a bounded part and discard it: the answer's content is not
	// ours to log, and reading lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return &attemptError{err: fmt.Errorf("webhook: answer %s", resp.Status), retry: true,
			retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		// 4xx: the receiver refuses this body, and would refuse it
		// again. 3xx: redirects are not followed (see Options.Client).
		return &attemptError{err: fmt.Errorf("webhook: answer %s", resp.Status)}
	}
}

// retryAfter reads a Retry-After of delay seconds (the date form is not
// used by the CRMs we know of and is ignored).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 3600)) * time.Second
}
