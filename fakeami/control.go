package fakeami

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// Defaults of the Control's bounds.
const (
	DefaultMaxBody    = 1 << 20          // bytes of a posted scenario
	DefaultTimeout    = 10 * time.Second // for one request
	DefaultLinksLimit = 10_000           // links per GET /links when no limit is given
	MaxLinksLimit     = 100_000          // the largest limit GET /links takes
	maxTrafficBody    = 4 << 10          // one traffic line
)

// Control serves the fake PBX's HTTP control API, which tests, demos and
// load runs use to drive it. GET / lists the endpoints (Index); so does
// docs/fakeami.md. Every request is bounded in body size and time; bad
// input answers 400 with every problem found, one per line. The handlers
// copy what they need from the model under its lock and encode it after.
type Control struct {
	PBX    *PBX    // nil in replay mode
	Server *Server // the manager server

	MaxBody int64         // bound of a posted scenario; 0 = DefaultMaxBody
	Timeout time.Duration // bound of one request; 0 = DefaultTimeout

	once    sync.Once
	started time.Time // when Handler was first called, for uptime_seconds
}

// QueueMembership is one entry of GET /members.
type QueueMembership struct {
	Queue string `json:"queue"`
	MemberSnapshot
}

// Stats is the body of GET /stats: what a load run measures of the fake
// PBX from outside.
type Stats struct {
	CPUSeconds    float64 `json:"cpu_seconds"`    // user + system CPU of the process (getrusage; 0 where there is none)
	RSSBytes      int64   `json:"rss_bytes"`      // resident set now (/proc/self/statm; 0 off Linux)
	MaxRSSBytes   int64   `json:"max_rss_bytes"`  // peak resident set (getrusage)
	BytesWritten  int64   `json:"bytes_written"`  // to every manager session since start
	Sessions      int     `json:"sessions"`       // manager sessions logged in now
	CallsStarted  int64   `json:"calls_started"`  // calls that came in from outside (scenario calls, traffic)
	CallsAnswered int64   `json:"calls_answered"` // of those, connected to a phone or member (one link each)
	CallsEnded    int64   `json:"calls_ended"`    // of those, hung up
	EventsWritten int64   `json:"events_written"` // events written to sessions (one per session it reached)
	Goroutines    int     `json:"goroutines"`
	UptimeSeconds float64 `json:"uptime_seconds"` // since the control API started
}

// endpoint is one route of the control API: the mux and the index are
// both made from the list, so that they cannot disagree.
type endpoint struct {
	method, path string
	params       string // query parameters or body, for the index
	doc          string // one line
	model        bool   // needs the PBX model: 404 in replay mode
	serve        func(c *Control, w http.ResponseWriter, r *http.Request)
}

// routes lists the endpoints in the order the index shows them. (A function,
// not a variable: GET / itself refers to the list.)
func routes() []endpoint {
	return []endpoint{
		{"GET", "/", "", "this list of endpoints", false, (*Control).getIndex},
		{"GET", "/state", "", "the whole model as JSON: dialect, start time, channels, queues with members", true, (*Control).getState},
		{"GET", "/channels", "", "the live channels", true, (*Control).getChannels},
		{"GET", "/queues", "", "the queues, with their waiting callers and members", true, (*Control).getQueues},
		{"GET", "/members", "", "every queue membership, one entry per queue and member", true, (*Control).getMembers},
		{"GET", "/actions", "", "the manager actions received, oldest first (the last 4096)", false, (*Control).getActions},
		{"GET", "/stats", "", "the process's CPU seconds, RSS, bytes and events written, sessions, call counters", false, (*Control).getStats},
		{"GET", "/links", "after=SEQ limit=N", "calls connected to a member, seq > SEQ, oldest first (at most N, default 10000); 410 if some were dropped", true, (*Control).getLinks},
		{"GET", "/traffic", "", "the steady traffic and how many calls it placed", true, (*Control).getTraffic},
		{"POST", "/traffic", "body: one traffic line", "start or replace the steady traffic, e.g. rate 500/s to 600@from-trunk from 10000-99999 patience 30s-60s", true, (*Control).postTraffic},
		{"DELETE", "/traffic", "", "stop the steady traffic (calls already placed go on)", true, (*Control).deleteTraffic},
		{"POST", "/scenario", "name=NAME, body: scenario file", "merge the scenario's dialplan, queues and phones and play its calls and traffic now", true, (*Control).postScenario},
		{"POST", "/restart", "", "restart the PBX: hang up every call, drop every manager session", true, (*Control).postRestart},
		{"POST", "/replay", "", "start the replay for the sessions waiting for it (fakeami --replay-wait)", false, (*Control).postReplay},
	}
}

// Index is the text GET / answers: every endpoint with its method,
// parameters and what it does.
func Index() string {
	var b strings.Builder
	b.WriteString("fakeami control API (docs/fakeami.md)\n\n")
	for _, e := range routes() {
		route := e.method + " " + e.path
		if e.params != "" {
			route += "  " + e.params
		}
		fmt.Fprintf(&b, "%s\n    %s\n", route, e.doc)
	}
	b.WriteString("\nErrors are plain text, one problem per line: 400 bad input, 404 no such\n" +
		"endpoint (or no model while replaying), 405 wrong method, 413 body too large.\n")
	return b.String()
}

// Handler returns the control API's handler. It is safe to call from any
// goroutine and to serve from many.
func (c *Control) Handler() http.Handler {
	c.once.Do(func() { c.started = time.Now() })
	mux := http.NewServeMux()
	for _, e := range routes() {
		pattern := e.method + " " + e.path
		if e.path == "/" {
			pattern += "{$}"
		}
		mux.HandleFunc(pattern, c.route(e))
	}
	mux.HandleFunc("/", c.notFound)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return http.TimeoutHandler(mux, timeout, "fakeami: the request took longer than "+timeout.String()+"\n")
}

// route wraps an endpoint's handler with the replay-mode check.
func (c *Control) route(e endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e.model && c.PBX == nil {
			http.Error(w, errReplaying, http.StatusNotFound)
			return
		}
		e.serve(c, w, r)
	}
}

const errReplaying = "no PBX model: fakeami is replaying a recording"

// notFound answers a path with no endpoint (404) or a known path with
// another method (405, with the methods it has in Allow).
func (c *Control) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, e := range routes() {
		if e.path == r.URL.Path {
			allow = append(allow, e.method)
		}
	}
	if len(allow) > 0 {
		sort.Strings(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, fmt.Sprintf("%s %s: method not allowed; %s takes %s (GET / lists the endpoints)",
			r.Method, r.URL.Path, r.URL.Path, strings.Join(allow, ", ")), http.StatusMethodNotAllowed)
		return
	}
	http.Error(w, fmt.Sprintf("%s %s: no such endpoint (GET / lists them)", r.Method, r.URL.Path), http.StatusNotFound)
}

func (c *Control) getIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, Index())
}

func (c *Control) getState(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.PBX.State()) }

func (c *Control) getChannels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.PBX.State().Channels)
}

func (c *Control) getQueues(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.PBX.State().Queues)
}

func (c *Control) getMembers(w http.ResponseWriter, r *http.Request) {
	st := c.PBX.State()
	members := []QueueMembership{}
	for _, q := range st.Queues {
		for _, m := range q.Members {
			members = append(members, QueueMembership{Queue: q.Name, MemberSnapshot: m})
		}
	}
	writeJSON(w, members)
}

func (c *Control) getActions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.Server.Actions())
}

func (c *Control) getStats(w http.ResponseWriter, r *http.Request) {
	st := Stats{Goroutines: runtime.NumGoroutine(), UptimeSeconds: time.Since(c.started).Seconds()}
	st.CPUSeconds, st.RSSBytes, st.MaxRSSBytes = processResources()
	ss := c.Server.Stats()
	st.BytesWritten, st.EventsWritten, st.Sessions = ss.BytesWritten, ss.EventsWritten, ss.Sessions
	if p := c.PBX; p != nil {
		st.CallsStarted, st.CallsAnswered, st.CallsEnded = p.callsStarted.Load(), p.callsAnswered.Load(), p.callsEnded.Load()
	}
	writeJSON(w, st)
}

// linksGone is the body of a 410 from GET /links.
type linksGone struct {
	Error     string `json:"error"`
	Lost      uint64 `json:"lost"`       // links after `after` that are no longer kept
	NextAfter uint64 `json:"next_after"` // ask again with after= this to read on from the oldest kept
}

func (c *Control) getLinks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var problems []string
	after, limit := uint64(0), DefaultLinksLimit
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("after=%q: want a link seq, a whole number >= 0", s))
		}
		after = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLinksLimit {
			problems = append(problems, fmt.Sprintf("limit=%q: want a whole number from 1 to %d", s, MaxLinksLimit))
		}
		limit = n
	}
	if badRequest(w, problems) {
		return
	}
	links, lost := c.PBX.Links(after, limit)
	if lost > 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		writeJSONBody(w, linksGone{
			Error: fmt.Sprintf("%d links after seq %d are no longer kept: read more often, or raise the ring", lost, after),
			Lost:  lost, NextAfter: after + lost,
		})
		return
	}
	writeJSON(w, links)
}

func (c *Control) getTraffic(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.PBX.Traffic()) }

func (c *Control) postTraffic(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxTrafficBody)
	if !ok {
		return
	}
	line := strings.TrimSpace(string(body))
	if line == "" || strings.ContainsAny(line, "\r\n") {
		badRequest(w, []string{"the body is one traffic line, like: rate 500/s to 600@from-trunk from 10000-99999 patience 30s-60s"})
		return
	}
	sc, err := scenarios.ParseFragment("traffic", []byte("-- traffic --\n"+line+"\n"))
	if err != nil {
		badRequest(w, errorLines(err))
		return
	}
	if sc.Traffic == nil {
		badRequest(w, []string{"no traffic line in the body"})
		return
	}
	if err := c.PBX.Play(sc); err != nil {
		badRequest(w, errorLines(err))
		return
	}
	writeJSON(w, c.PBX.Traffic())
}

func (c *Control) deleteTraffic(w http.ResponseWriter, r *http.Request) {
	stopped := c.PBX.StopTraffic()
	st := c.PBX.Traffic()
	writeJSON(w, map[string]any{"stopped": stopped, "placed": st.Placed})
}

func (c *Control) postScenario(w http.ResponseWriter, r *http.Request) {
	max := c.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, ok := readBody(w, r, max)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "posted"
	}
	sc, err := scenarios.ParseFragment(name, body)
	if err != nil {
		badRequest(w, errorLines(err))
		return
	}
	if len(sc.Calls) == 0 && sc.Traffic == nil {
		badRequest(w, []string{name + ": nothing to play: the scenario has no calls file with calls and no traffic file (docs/scenarios.md)"})
		return
	}
	if err := c.PBX.Play(sc); err != nil {
		badRequest(w, errorLines(err))
		return
	}
	writeJSON(w, map[string]any{"played": name, "calls": len(sc.Calls), "traffic": sc.Traffic != nil})
}

func (c *Control) postRestart(w http.ResponseWriter, r *http.Request) {
	c.PBX.Shutdown()
	c.Server.DropSessions()
	writeJSON(w, map[string]string{"restarted": "ok"})
}

func (c *Control) postReplay(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]int{"started": c.Server.StartReplay()})
}

// readBody reads a request body of at most limit bytes, answering 413 when
// it is longer.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("the body is larger than %d bytes", limit), http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, fmt.Sprintf("reading the body: %v", err), http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// badRequest answers 400 with every problem, one per line, and reports
// whether there were any.
func badRequest(w http.ResponseWriter, problems []string) bool {
	if len(problems) == 0 {
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, strings.Join(problems, "\n")+"\n")
	return true
}

// errorLines flattens joined errors into one line per problem: the
// scenario parser and Merge join one *scenarios.Error per problem, and a
// wrapper around such a join ("fakeami: %w") is looked through.
func errorLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, errorLines(e)...)
		}
		return lines
	}
	if u := errors.Unwrap(err); u != nil {
		if _, ok := u.(interface{ Unwrap() []error }); ok {
			return errorLines(u)
		}
	}
	return strings.Split(err.Error(), "\n")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, v)
}

func writeJSONBody(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
