package webhook

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of the tests: far above anything a loaded
// machine needs, it only turns a hang into a failure.
const wait = 10 * time.Second

// fakeClock is the injected clock: Sleep records the wait, moves the
// clock on and returns at once, so the tests assert on the delays
// asked for, never on wall time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// got is one request a receiver got.
type got struct {
	header http.Header
	body   []byte
	path   string
	query  string
	d      Delivery
}

// receiver is an httptest server on 127.0.0.1 that records every request
// and answers with answer(n), n counting requests from 1. Records go to
// a channel big enough for every test.
type receiver struct {
	*httptest.Server
	reqs chan got
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request, g got)) *receiver {
	rc := &receiver{reqs: make(chan got, 100)}
	var mu sync.Mutex
	n := 0
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return
		}
		g := got{header: r.Header.Clone(), body: body, path: r.URL.Path, query: r.URL.RawQuery}
		if err := json.Unmarshal(body, &g.d); err != nil {
			t.Errorf("receiver: body %q: %v", body, err)
		}
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		rc.reqs <- g
		answer(k, w, r, g)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) next(t *testing.T) got {
	t.Helper()
	select {
	case g := <-rc.reqs:
		return g
	case <-time.After(wait):
		t.Fatal("receiver: no request")
		return got{}
	}
}

func (rc *receiver) nothingMore(t *testing.T) {
	t.Helper()
	select {
	case g := <-rc.reqs:
		t.Fatalf("receiver: unexpected request %s %s", g.header.Get(AttemptHeader), g.body)
	default:
	}
}

func status(code int) func(int, http.ResponseWriter, *http.Request, got) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, _ got) { w.WriteHeader(code) }
}

var testSecret = []byte("s3cret")

func endpointFor(name, url string) Endpoint {
	return Endpoint{Name: name, URL: url, Secret: testSecret, Events: []Event{EventRing, EventAnswer, EventHangup}}
}

// testOptions are small, deterministic options on the fake clock.
func testOptions(c *fakeClock) Options {
	return Options{
		QueueLen:       16,
		AttemptTimeout: 5 * time.Second,
		Retry:          Retry{Base: time.Second, Max: 30 * time.Second, Attempts: 5, Deadline: 10 * time.Minute},
		Now:            c.Now,
		Sleep:          c.Sleep,
		Jitter:         rand.New(rand.NewPCG(1, 2)).Float64,
	}
}

// start makes a Deliverer and runs it until the test ends; the cleanup
// stops it and fails the test if Run does not return.
func start(t *testing.T, eps []Endpoint, opt Options) *Deliverer {
	t.Helper()
	d, err := New(eps, opt)
	require.NoError(t, err)
	run(t, d)
	return d
}

func run(t *testing.T, d *Deliverer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(wait):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func call(linkedid string, ev Event) Delivery {
	return Delivery{
		Event:    ev,
		Time:     time.Unix(1_700_000_000, 0).UTC(),
		Linkedid: linkedid, Uniqueid: linkedid,
		Service: "support", Queue: "q-support",
		Caller:    Caller{Number: "0612345678", Name: "Ada"},
		Operator:  &Operator{Username: "alice", FullName: "Alice Martin"},
		Seat:      Seat{Name: "seat-201", Interface: "PJSIP/201"},
		Variables: map[string]string{"CUSTOMER": "42"},
	}
}

func waitStats(t *testing.T, d *Deliverer, name string, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		s, _ := d.Stats(name)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats of %s never as expected: %+v", name, s)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSignatureVerifies: what a receiver gets verifies under the secret
// with Verify, a changed body or an old timestamp does not, the hostile
// caller id is in the JSON as data and nothing of the call is in the URL.
func TestSignatureVerifies(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, status(http.StatusNoContent))
	d := start(t, []Endpoint{endpointFor("crm", rc.URL+"/hooks/astcti")}, testOptions(c))

	dl := call("1700000000.7", EventAnswer)
	dl.Caller = Caller{Number: "</script>&?x=1", Name: "<script>alert(\"x\")</script>\r\nX-Injected: 1"}
	require.True(t, d.Send("crm", dl))
	g := rc.next(t)

	assert.Equal(t, "/hooks/astcti", g.path)
	assert.Empty(t, g.query)
	assert.Empty(t, g.header.Get("X-Injected"))
	assert.Equal(t, "application/json", g.header.Get("Content-Type"))
	assert.Equal(t, "answer", g.header.Get(EventHeader))
	assert.Equal(t, dl.Caller, g.d.Caller, "the caller id is data, as given")
	assert.NotContains(t, string(g.body), "<script>", "the encoder escapes < and >")
	assert.Equal(t, Version, g.d.V)
	assert.Equal(t, "alice", g.d.Operator.Username)
	assert.Equal(t, "PJSIP/201", g.d.Seat.Interface)
	assert.Equal(t, map[string]string{"CUSTOMER": "42"}, g.d.Variables)
	key := IdempotencyKey("1700000000.7", EventAnswer, "PJSIP/201")
	assert.Equal(t, key, g.header.Get(IdempotencyHeader))
	assert.Equal(t, key, g.d.Key)

	sig := g.header.Get(SignatureHeader)
	assert.Equal(t, Sign(testSecret, c.Now(), g.body), sig)
	assert.NoError(t, Verify(testSecret, sig, g.body, c.Now(), 5*time.Minute))
	tampered := append([]byte(nil), g.body...)
	tampered[len(tampered)-2] ^= 1
	assert.ErrorIs(t, Verify(testSecret, sig, tampered, c.Now(), 5*time.Minute), ErrBadSignature)
	assert.ErrorIs(t, Verify(testSecret, sig, g.body, c.Now().Add(time.Hour), 5*time.Minute), ErrTooOld)
	assert.ErrorIs(t, Verify([]byte("guess"), sig, g.body, c.Now(), 5*time.Minute), ErrBadSignature)
	waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 1 })
}

// TestRetries: which answers are retried, how often, and with which
// delays. Every attempt of a delivery has the same idempotency key and
// body and a fresh signature.
func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		codes     []int // answers in turn; the last repeats
		requests  int
		delivered bool
	}{
		{"200 at once", []int{200}, 1, true},
		{"500 then 200", []int{500, 500, 200}, 3, true},
		{"503 always: attempts exhausted", []int{503}, 5, false},
		{"429 retried", []int{429, 200}, 2, true},
		{"408 retried", []int{408, 204}, 2, true},
		{"400 not retried", []int{400}, 1, false},
		{"404 not retried", []int{404}, 1, false},
		{"401 not retried", []int{401}, 1, false},
		{"302 not followed, not retried", []int{302}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClock()
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request, _ got) {
				code := tc.codes[min(n, len(tc.codes))-1]
				if code == 302 {
					http.Redirect(w, r, "/elsewhere", code)
					return
				}
				w.WriteHeader(code)
			})
			d := start(t, []Endpoint{endpointFor("crm", rc.URL)}, testOptions(c))
			require.True(t, d.Send("crm", call("1.1", EventRing)))
			var first got
			for i := 1; i <= tc.requests; i++ {
				g := rc.next(t)
				if i == 1 {
					first = g
				}
				assert.Equal(t, strconv.Itoa(i), g.header.Get(AttemptHeader))
				assert.Equal(t, first.header.Get(IdempotencyHeader), g.header.Get(IdempotencyHeader), "attempt %d", i)
				assert.Equal(t, first.body, g.body, "attempt %d", i)
				assert.NoError(t, Verify(testSecret, g.header.Get(SignatureHeader), g.body, c.Now(), time.Minute), "attempt %d", i)
			}
			s := waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered+s.Failed == 1 })
			rc.nothingMore(t)
			assert.Equal(t, tc.delivered, s.Delivered == 1, "%+v", s)
			assert.Equal(t, uint64(tc.requests-boolInt(tc.delivered)), s.FailedAttempts)
			sleeps := c.Sleeps()
			require.Len(t, sleeps, tc.requests-1)
			for i := 1; i < len(sleeps); i++ {
				assert.Greater(t, sleeps[i], sleeps[i-1], "delays grow: %v", sleeps)
			}
			for i, s := range sleeps {
				d := min(time.Second<<i, 30*time.Second)
				assert.True(t, s >= d/2 && s < d, "retry %d waits %v, want in [%v, %v)", i+1, s, d/2, d)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRetryOnTimeout: a receiver that answers too late is retried with
// growing delays, as a 5xx is.
func TestRetryOnTimeout(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request, _ got) {
		if n <= 2 {
			<-r.Context().Done() // never answers; the attempt times out
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	opt := testOptions(c)
	opt.AttemptTimeout = 100 * time.Millisecond
	d := start(t, []Endpoint{endpointFor("crm", rc.URL)}, opt)
	require.True(t, d.Send("crm", call("1.1", EventRing)))
	keys := map[string]bool{}
	for range 3 {
		keys[rc.next(t).header.Get(IdempotencyHeader)] = true
	}
	s := waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 1 })
	assert.Equal(t, uint64(2), s.FailedAttempts)
	assert.Len(t, keys, 1, "one idempotency key for every attempt")
	sleeps := c.Sleeps()
	require.Len(t, sleeps, 2)
	assert.Greater(t, sleeps[1], sleeps[0])
}

// TestRetryAfter: a 429's Retry-After is waited for when longer than the
// backoff, but never longer than Retry.Max.
func TestRetryAfter(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request, _ got) {
		if n <= 2 {
			w.Header().Set("Retry-After", []string{"20", "3600"}[n-1])
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	d := start(t, []Endpoint{endpointFor("crm", rc.URL)}, testOptions(c))
	require.True(t, d.Send("crm", call("1.1", EventRing)))
	waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 1 })
	assert.Equal(t, []time.Duration{20 * time.Second, 30 * time.Second}, c.Sleeps())
}

// TestDeadline: a delivery is given up when the next wait would end past
// its deadline, even with attempts left.
func TestDeadline(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, status(http.StatusBadGateway))
	opt := testOptions(c)
	opt.Retry = Retry{Base: 10 * time.Second, Max: time.Hour, Attempts: 100, Deadline: time.Minute}
	d := start(t, []Endpoint{endpointFor("crm", rc.URL)}, opt)
	require.True(t, d.Send("crm", call("1.1", EventRing)))
	s := waitStats(t, d, "crm", func(s Stats) bool { return s.Failed == 1 })
	var total time.Duration
	for _, s := range c.Sleeps() {
		total += s
	}
	assert.LessOrEqual(t, total, time.Minute)
	assert.Less(t, s.FailedAttempts, uint64(10))
}

// TestOrderPerCall: the answer and hangup of a call wait for its ring's
// retries; they are not sent before the ring's last attempt.
func TestOrderPerCall(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request, _ got) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	d := start(t, []Endpoint{endpointFor("crm", rc.URL)}, testOptions(c))
	for _, ev := range []Event{EventRing, EventAnswer, EventHangup} {
		require.True(t, d.Send("crm", call("1.1", ev)))
	}
	var order []Event
	for range 5 {
		order = append(order, rc.next(t).d.Event)
	}
	assert.Equal(t, []Event{EventRing, EventRing, EventRing, EventAnswer, EventHangup}, order)
	waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 3 })
}

// TestStuckReceiver: a receiver that never answers delays neither Send
// (it returns at once while the worker is stuck) nor another endpoint's
// deliveries; its full queue drops the oldest and counts them.
func TestStuckReceiver(t *testing.T) {
	c := newFakeClock()
	release := make(chan struct{})
	stuck := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request, _ got) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	ok := newReceiver(t, status(http.StatusOK))
	opt := testOptions(c)
	opt.QueueLen = 4
	opt.AttemptTimeout = time.Hour
	d := start(t, []Endpoint{endpointFor("stuck", stuck.URL), endpointFor("ok", ok.URL)}, opt)

	require.True(t, d.Send("stuck", call("0", EventRing)))
	stuck.next(t) // the worker is now inside an attempt that never ends

	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 1; i <= 20; i++ {
			d.Send("stuck", call(strconv.Itoa(i), EventRing))
		}
		d.Send("ok", call("other", EventRing))
	}()
	select {
	case <-sent:
	case <-time.After(wait):
		t.Fatal("Send blocked behind a receiver that never answers")
	}
	assert.Equal(t, "other", ok.next(t).d.Linkedid, "another endpoint still gets its deliveries")
	s, _ := d.Stats("stuck")
	assert.Equal(t, uint64(21), s.Queued)
	assert.Equal(t, uint64(16), s.Dropped, "20 queued behind the stuck one, 4 kept")
	stuck.nothingMore(t)
}

// TestFullQueueDropsOldest: with the queue full, Send drops the oldest
// delivery, counts it, and the newest are delivered in order.
func TestFullQueueDropsOldest(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, status(http.StatusOK))
	opt := testOptions(c)
	opt.QueueLen = 3
	d, err := New([]Endpoint{endpointFor("crm", rc.URL)}, opt)
	require.NoError(t, err)
	for i := 1; i <= 5; i++ {
		require.True(t, d.Send("crm", call(strconv.Itoa(i), EventRing)))
	}
	s, _ := d.Stats("crm")
	assert.Equal(t, Stats{Queued: 5, Dropped: 2}, s)
	run(t, d)
	var ids []string
	for range 3 {
		ids = append(ids, rc.next(t).d.Linkedid)
	}
	assert.Equal(t, []string{"3", "4", "5"}, ids)
	waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 3 })
	rc.nothingMore(t)
}

// TestRunStops: ending Run's context ends an attempt in flight and every
// worker, and counts what was left unsent; Run returns (goleak in
// TestMain checks nothing is left).
func TestRunStops(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request, _ got) { <-r.Context().Done() })
	opt := testOptions(c)
	opt.AttemptTimeout = time.Hour
	d, err := New([]Endpoint{endpointFor("stuck", rc.URL), endpointFor("idle", rc.URL)}, opt)
	require.NoError(t, err)
	stop := run(t, d)
	require.True(t, d.Send("stuck", call("1", EventRing)))
	rc.next(t)
	require.True(t, d.Send("stuck", call("2", EventRing)))
	stop()
	s, _ := d.Stats("stuck")
	assert.Equal(t, Stats{Queued: 2, Unsent: 2}, s)
}

// TestSendFilters: Send queues nothing for an unknown endpoint or an
// event the endpoint does not want, and copies the caller's variables.
func TestSendFilters(t *testing.T) {
	c := newFakeClock()
	rc := newReceiver(t, status(http.StatusOK))
	ep := endpointFor("crm", rc.URL)
	ep.Events = []Event{EventAnswer}
	d := start(t, []Endpoint{ep}, testOptions(c))
	assert.False(t, d.Send("nobody", call("1", EventAnswer)))
	assert.False(t, d.Send("crm", call("1", EventRing)))
	assert.False(t, d.Send("crm", call("1", EventHangup)))
	dl := call("1", EventAnswer)
	require.True(t, d.Send("crm", dl))
	dl.Variables["CUSTOMER"] = "changed after Send"
	assert.Equal(t, "42", rc.next(t).d.Variables["CUSTOMER"])
	s := waitStats(t, d, "crm", func(s Stats) bool { return s.Delivered == 1 })
	assert.Equal(t, uint64(1), s.Queued)
}

func TestNewRefuses(t *testing.T) {
	good := endpointFor("crm", "https://crm.example.com/hook")
	tests := []struct {
		name string
		edit func(*Endpoint)
	}{
		{"no name", func(e *Endpoint) { e.Name = "" }},
		{"relative url", func(e *Endpoint) { e.URL = "/hook" }},
		{"ftp url", func(e *Endpoint) { e.URL = "ftp://crm.example.com/" }},
		{"bad url", func(e *Endpoint) { e.URL = "http://[::1" }},
		{"no secret", func(e *Endpoint) { e.Secret = nil }},
		{"no events", func(e *Endpoint) { e.Events = nil }},
		{"unknown event", func(e *Endpoint) { e.Events = []Event{"transfer"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := good
			tc.edit(&e)
			_, err := New([]Endpoint{e}, Options{})
			assert.Error(t, err, "New(%+v)", e)
		})
	}
	_, err := New([]Endpoint{good, good}, Options{})
	assert.ErrorContains(t, err, "named twice")
	_, err = New([]Endpoint{good}, Options{})
	assert.NoError(t, err)
}

func TestIdempotencyKey(t *testing.T) {
	k := IdempotencyKey("1700000000.7", EventRing, "PJSIP/201")
	assert.Len(t, k, 32)
	assert.Equal(t, k, IdempotencyKey("1700000000.7", EventRing, "PJSIP/201"))
	assert.NotEqual(t, k, IdempotencyKey("1700000000.7", EventAnswer, "PJSIP/201"))
	assert.NotEqual(t, k, IdempotencyKey("1700000000.7", EventRing, "PJSIP/202"))
	assert.NotEqual(t, IdempotencyKey("a", "b", "c"), IdempotencyKey("a\x00b", "", "c"), "no collision by concatenation")
}
