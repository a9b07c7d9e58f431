package configurator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAdmin stands in for the server's admin endpoints (cti/admin.go):
// /healthz and /status answer the recorded samples of testdata, which
// cti's TestHealthSample and TestStatusSample hold to the server's own
// types, as the test changes them (edit). down makes it answer 503 with
// the hub's error, as a server whose hub is stuck does; Close stops it.
type fakeAdmin struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	health  map[string]any // /healthz's body
	status  map[string]any // /status's body
	arrived atomic.Int64   // requests received
	hits    atomic.Int64   // requests answered
	// gate, when set, holds every request until it is closed.
	gate chan struct{}
	// down makes it close every connection without an answer, as a
	// server that is not there.
	down atomic.Bool
}

// newFakeAdmin serves a server that runs file and refused none.
func newFakeAdmin(t *testing.T, file string) *fakeAdmin {
	f := &fakeAdmin{t: t, health: readSample(t, "testdata/healthz-refused.json"), status: readSample(t, "testdata/status.json")}
	f.edit(func(h, _ map[string]any) {
		cfg := configOf(h)
		cfg["file"], cfg["refused"] = "/etc/astcti/"+file, nil
	})
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func readSample(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// edit changes the answers; fn gets /healthz's and /status's bodies.
func (f *fakeAdmin) edit(fn func(health, status map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.health, f.status)
}

// configOf is /healthz's config object, to edit within edit.
func configOf(h map[string]any) map[string]any { return h["config"].(map[string]any) }

func (f *fakeAdmin) serve(w http.ResponseWriter, r *http.Request) {
	f.arrived.Add(1)
	if f.down.Load() {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.hits.Add(1)
	f.mu.Lock()
	var body any
	code := http.StatusOK
	switch r.URL.Path {
	case "/healthz":
		body = f.health
		if ok, _ := f.health["healthy"].(bool); !ok {
			code = http.StatusServiceUnavailable
		}
	case "/status":
		body = f.status
		if _, busy := f.status["error"]; busy {
			code = http.StatusServiceUnavailable // as serveStatus: the hub did not answer
		}
	}
	b, err := json.Marshal(body)
	f.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	require.NoError(f.t, err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// liveJSON is what the tests read of /live.json.
type liveJSON struct {
	Enabled, Reached bool
	Error, Checked   string
	Link             struct {
		Up                    bool
		State, Since, Version string
		LastError             string `json:"last_error"`
	}
	Config struct {
		InForce              bool `json:"in_force"`
		File, Since, Summary string
		Refused              string
		RefusedFile          string `json:"refused_file"`
	}
	Seats []struct {
		Operator, MAC, Interface, Pause string
		Paused                          bool
		Since                           string `json:"pause_since"`
		Queues                          []struct{ Queue, State string }
	}
	Calls []struct {
		Service         string
		Calls, Answered int
	}
	Query      string
	Matching   int `json:"seats_matching"`
	SeatsTotal int `json:"seats_total"`
	Paused     int `json:"seats_paused"`
}

func (c *client) live() liveJSON {
	c.e.t.Helper()
	r := c.get("/live.json", "Accept", "application/json")
	require.Equal(c.e.t, http.StatusOK, r.StatusCode, r.body)
	require.Equal(c.e.t, "application/json", r.Header.Get("Content-Type"))
	var v liveJSON
	require.NoError(c.e.t, json.Unmarshal([]byte(r.body), &v), r.body)
	return v
}

// setLiveTTL makes the Live page's reading of the server serve for d: 0
// makes every request read the server, for the tests that change its
// answers.
func (e *env) setLiveTTL(d time.Duration) {
	e.h.live.mu.Lock()
	defer e.h.live.mu.Unlock()
	e.h.live.ttl = d
}

// TestLiveAuth: the page and its JSON need a session: a browser is sent
// to the login page, a script gets a 401, and the server is not read.
func TestLiveAuth(t *testing.T) {
	fake := newFakeAdmin(t, "a.db")
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	anon := e.client()
	r := anon.get("/live")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/login", r.Header.Get("Location"))
	r = anon.get("/live.json", "Accept", "application/json")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
	assert.NotContains(t, r.body, "alice")
	r = anon.get("/live.json")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Zero(t, fake.arrived.Load(), "the server is not read for a stranger")
}

// TestLiveNoServerAdmin: without --server-admin the page says how to
// turn the live view on, and its JSON that it is off.
func TestLiveNoServerAdmin(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn()
	r := c.get("/live")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, "start the configurator with <code>--server-admin URL</code>")
	assert.Contains(t, r.body, `<a href="/live" aria-current="page">Live</a>`)
	assert.False(t, c.live().Enabled)
}

// TestLiveView: the page, rendered by the server, and its JSON show the
// link, the snapshot in force, the seats with their operator, queues and
// pause, and the calls per service, as the server's endpoints say; the
// page has no inline script (the CSP forbids it) and loads live.js.
func TestLiveView(t *testing.T) {
	fake := newFakeAdmin(t, "astcti-1.db")
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL + "/" })
	c := e.loggedIn()

	r := c.get("/live")
	require.Equal(t, http.StatusOK, r.StatusCode)
	for _, want := range []string{
		`id="link-state" class="link-state link-up" role="status" aria-live="polite">The AMI link is up.</p>`,
		`<dd id="link-version" class="mono">11.0.0</dd>`,
		`<dd id="config-file" class="mono">/etc/astcti/astcti-1.db</dd>`,
		`<td>alice</td><td class="mono">00:11:22:33:44:01</td><td class="mono">SIP/201</td>`,
		`<li class="member-confirmed">sales-q: confirmed</li><li class="member-pending">support-q: pending</li>`,
		`<td class="paused">Paused: lunch</td>`,
		`<tr><td>Sales</td><td>3</td><td>2</td></tr>`,
		`<th scope="col">Operator</th>`,
		`<script src="/assets/live.js?v=`,
	} {
		assert.Contains(t, r.body, want)
	}
	assert.Contains(t, r.body, `<p id="live-down" class="error" role="alert" hidden>`)
	assert.Contains(t, r.body, `<p id="config-refused" class="error" hidden>`)
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	for _, m := range scripts.FindAllStringSubmatch(r.body, -1) {
		assert.Contains(t, m[1], "src=")
		assert.Empty(t, strings.TrimSpace(m[2]), "an inline script")
	}
	assert.NotRegexp(t, `(?i)\sstyle=|\son[a-z]+=|<style`, r.body)

	v := c.live()
	assert.True(t, v.Enabled)
	assert.True(t, v.Reached)
	assert.Empty(t, v.Error)
	assert.NotEmpty(t, v.Checked)
	assert.True(t, v.Link.Up)
	assert.Equal(t, "The AMI link is up.", v.Link.State)
	assert.Equal(t, "none", v.Link.LastError)
	assert.Contains(t, v.Link.Since, "2026-12-04")
	assert.Equal(t, "/etc/astcti/astcti-1.db", v.Config.File)
	assert.Equal(t, "1 seat, 1 operator, 1 service", v.Config.Summary)
	assert.Empty(t, v.Config.Refused)
	require.Len(t, v.Seats, 1)
	s := v.Seats[0]
	assert.Equal(t, "alice", s.Operator)
	assert.Equal(t, "SIP/201", s.Interface)
	assert.True(t, s.Paused)
	assert.Equal(t, "Paused: lunch", s.Pause)
	assert.Contains(t, s.Since, "2026-12-04")
	require.Len(t, s.Queues, 2)
	assert.Equal(t, "confirmed", s.Queues[0].State)
	require.Len(t, v.Calls, 1)
	assert.Equal(t, 3, v.Calls[0].Calls)

	// The link down, a snapshot refused, no seat and no call.
	e.setLiveTTL(0)
	fake.edit(func(h, st map[string]any) {
		h["healthy"] = false
		ami := h["ami"].(map[string]any)
		ami["up"], ami["last_error"] = false, "ami: read: connection reset by peer"
		configOf(h)["refused"] = map[string]any{"file": "/etc/astcti/astcti-2.xml", "error": "config: line 3: bad MAC", "at": "2026-12-04T20:05:00Z"}
		st["seats"], st["calls"] = []any{}, []any{}
	})
	v = c.live()
	assert.False(t, v.Link.Up)
	assert.Equal(t, "The AMI link is down.", v.Link.State)
	assert.Equal(t, "ami: read: connection reset by peer", v.Link.LastError)
	assert.Equal(t, "/etc/astcti/astcti-2.xml", v.Config.RefusedFile)
	assert.Equal(t, "config: line 3: bad MAC", v.Config.Refused)
	assert.Empty(t, v.Seats)
	assert.NotNil(t, v.Seats, "an empty list, not null, for the script")
	r = c.get("/live")
	assert.Contains(t, r.body, `class="link-state link-down"`)
	assert.Contains(t, r.body, "No seat logged in.")
	assert.Contains(t, r.body, "No call in progress.")
	assert.Contains(t, r.body, `<span id="config-refused-error">config: line 3: bad MAC</span>`)
}

// TestLiveUnreachable: a server that cannot be reached, or whose hub does
// not answer, is said so, clearly, with nothing else shown as if known;
// the view comes back with the server.
func TestLiveUnreachable(t *testing.T) {
	fake := newFakeAdmin(t, "a.db")
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	e.setLiveTTL(0)
	c := e.loggedIn()

	fake.down.Store(true)
	v := c.live()
	assert.True(t, v.Enabled)
	assert.False(t, v.Reached)
	assert.Contains(t, v.Error, "The server could not be read: ")
	assert.Empty(t, v.Seats)
	assert.False(t, v.Link.Up)
	assert.Empty(t, v.Link.State, "the link is not said down: it is unknown")
	r := c.get("/live")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<p id="live-down" class="error" role="alert">The server could not be read: `)
	assert.Contains(t, r.body, `<div id="live-data" hidden>`)
	assert.NotContains(t, r.body, "alice")

	c.live()
	assert.Equal(t, 1, strings.Count(e.log.String(), "could not be read"), "logged once while it stays down: %s", e.log)

	fake.down.Store(false)
	v = c.live()
	assert.True(t, v.Reached)
	require.Len(t, v.Seats, 1)
	assert.Contains(t, e.log.String(), "answers again")

	// A hub that does not answer: /status says 503 with its error.
	fake.edit(func(_, st map[string]any) {
		clear(st)
		st["error"] = "cti: the hub did not answer in time"
	})
	v = c.live()
	assert.False(t, v.Reached)
	assert.Contains(t, v.Error, "cti: the hub did not answer in time")

	fake.Close()
	v = c.live()
	assert.False(t, v.Reached)
	assert.Contains(t, v.Error, "The server could not be read")
}

// TestLiveEscapes: an operator name and a pause reason written to attack
// the page are shown as text: escaped in the page, and in the JSON as
// strings the script puts in with textContent.
func TestLiveEscapes(t *testing.T) {
	fake := newFakeAdmin(t, "a.db")
	const name = `<img src=x onerror=alert(1)>`
	const reason = `</td><script>alert("pause")</script>`
	fake.edit(func(_, st map[string]any) {
		seat := st["seats"].([]any)[0].(map[string]any)
		seat["operator"], seat["pause_reason"] = name, reason
	})
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	c := e.loggedIn()
	r := c.get("/live")
	assert.Contains(t, r.body, "<td>&lt;img src=x onerror=alert(1)&gt;</td>")
	assert.Contains(t, r.body, `Paused: &lt;/td&gt;&lt;script&gt;alert(&#34;pause&#34;)&lt;/script&gt;`)
	assert.NotContains(t, r.body, name)
	assert.NotContains(t, r.body, "<script>alert")
	raw := c.get("/live.json", "Accept", "application/json").body
	assert.NotContains(t, raw, "<img")
	assert.NotContains(t, raw, "<script")
	v := c.live()
	require.Len(t, v.Seats, 1)
	assert.Equal(t, name, v.Seats[0].Operator, "the name itself, for textContent")
	assert.Equal(t, "Paused: "+reason, v.Seats[0].Pause)
}

// TestLiveCacheShared: however many browsers ask, the server is read
// once per Config.LiveCacheTTL, one reading at a time: requests that come while
// a reading is on its way wait for it and share it, and those within the
// TTL get the last one.
func TestLiveCacheShared(t *testing.T) {
	fake := newFakeAdmin(t, "a.db")
	gate := make(chan struct{})
	fake.mu.Lock()
	fake.gate = gate
	fake.mu.Unlock()
	e := newEnv(t, func(c *Config) { c.ServerAdmin, c.LiveCacheTTL = fake.URL, time.Hour })
	const browsers = 5
	clients := make([]*client, browsers)
	for i := range clients {
		clients[i] = e.loggedIn()
	}

	got := make(chan liveJSON, browsers)
	for _, c := range clients {
		go func() {
			r, err := c.c.Do(mustGet(t, e.srv.URL+"/live.json"))
			if err != nil {
				got <- liveJSON{Error: err.Error()}
				return
			}
			defer r.Body.Close()
			var v liveJSON
			json.NewDecoder(r.Body).Decode(&v)
			got <- v
		}()
	}
	// One request reached the server; the others wait for its reading.
	waitUntil(t, "4 requests waiting for the reading in flight", func() bool {
		e.h.live.mu.Lock()
		defer e.h.live.mu.Unlock()
		return e.h.live.waiting == browsers-1
	})
	assert.Equal(t, int64(1), fake.arrived.Load(), "one reading in flight")
	close(gate)
	for range browsers {
		v := <-got
		assert.True(t, v.Reached, "%+v", v)
		assert.Len(t, v.Seats, 1)
	}
	assert.Equal(t, int64(2), fake.arrived.Load(), "one reading: /healthz and /status")

	// Within the TTL, every browser gets the last reading.
	for _, c := range clients {
		assert.True(t, c.live().Reached)
	}
	assert.Equal(t, int64(2), fake.arrived.Load(), "no reading within the TTL")

	e.setLiveTTL(0)
	clients[0].live()
	assert.Equal(t, int64(4), fake.arrived.Load(), "a new reading once the TTL is over")
}

func mustGet(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	return req
}

// waitUntil polls cond, without a timing assertion: the test's deadline
// bounds it.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLiveLargeCentre: a server with thousands of seats, whose /status is
// larger than the health answer's bound, is read whole; the page counts
// every seat and the paused ones, lists the first liveMaxSeats, and its
// search narrows the list (operator, MAC, interface or queue, ignoring
// case), the script reading the same search.
func TestLiveLargeCentre(t *testing.T) {
	const n = 3000
	fake := newFakeAdmin(t, "astcti-1.db")
	fake.edit(func(_, st map[string]any) {
		seats := make([]any, n)
		for i := range seats {
			queue := "sales-q"
			if i%3 == 0 {
				queue = "Support-Q"
			}
			seats[i] = map[string]any{"seat": i, "remote": "192.0.2.1:4000", "operator": fmt.Sprintf("op%04d %s", i, strings.Repeat("x", 300)),
				"mac": fmt.Sprintf("00:11:22:33:%02x:%02x", i>>8, i&0xff), "interface": fmt.Sprintf("SIP/%d", 1000+i),
				"paused": i%10 == 0, "queues": []any{map[string]any{"queue": queue, "state": "confirmed"}}}
		}
		st["seats"] = seats
	})
	e := newEnv(t, func(c *Config) { c.ServerAdmin = fake.URL })
	c := e.loggedIn()

	v := c.live()
	require.True(t, v.Reached, v.Error)
	assert.Equal(t, n, v.SeatsTotal)
	assert.Equal(t, n, v.Matching)
	assert.Equal(t, n/10, v.Paused)
	assert.Len(t, v.Seats, liveMaxSeats, "the first ones listed")

	r := c.get("/live?q=support-q")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, r.body, `<span id="seats-matching">1000</span> matching “support-q”`)
	assert.Contains(t, r.body, `data-src="/live.json?q=support-q"`, "the script reads the same search")
	assert.Contains(t, r.body, `<span id="seats-more">; the first 500 listed: search to narrow</span>`)

	r = c.get("/live.json?q=" + url.QueryEscape("OP0007 "))
	var one liveJSON
	require.NoError(t, json.Unmarshal([]byte(r.body), &one))
	assert.Equal(t, 1, one.Matching, "a search ignores case and the spaces around it")
	require.Len(t, one.Seats, 1)
	assert.Equal(t, "SIP/1007", one.Seats[0].Interface)
	r = c.get("/live?q=op0007")
	assert.Contains(t, r.body, `<span id="seats-more" hidden>`, "all listed")
}
