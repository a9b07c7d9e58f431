package fakeami

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// TestControlAPIStatus holds every endpoint to its status codes and
// bodies, bad input included.
func TestControlAPIStatus(t *testing.T) {
	pbx, err := NewPBX(Options{Dialect: DialectModern, Scenario: scenarios.Demo()})
	require.NoError(t, err)
	srv, err := NewServer(Config{Dialect: DialectModern, Username: "u", Secret: "s", Engine: pbx})
	require.NoError(t, err)
	h := (&Control{PBX: pbx, Server: srv, MaxBody: 256}).Handler()

	tests := []struct {
		name, method, path, body string
		code                     int
		want                     []string // substrings of the body
	}{
		{"index", "GET", "/", "", 200, []string{"GET /links  after=SEQ limit=N", "POST /traffic", "DELETE /traffic"}},
		{"unknown path", "GET", "/nosuch", "", 404, []string{"GET /nosuch: no such endpoint (GET / lists them)"}},
		{"unknown path under index", "GET", "/state/x", "", 404, []string{"no such endpoint"}},
		{"wrong method", "POST", "/state", "", 405, []string{"POST /state: method not allowed; /state takes GET"}},
		{"wrong method, several allowed", "PUT", "/traffic", "", 405, []string{"takes DELETE, GET, POST"}},
		{"no actions yet", "GET", "/actions", "", 200, []string{"[]"}},
		{"no links yet", "GET", "/links", "", 200, []string{"[]"}},
		{"no traffic yet", "GET", "/traffic", "", 200, []string{`"on": false`, `"targets": []`}},
		{"bad links query", "GET", "/links?after=x&limit=0", "", 400, []string{
			`after="x": want a link seq`, `limit="0": want a whole number from 1 to 100000`}},
		{"limit too large", "GET", "/links?limit=100001", "", 400, []string{`limit="100001"`}},
		{"empty traffic", "POST", "/traffic", "", 400, []string{"the body is one traffic line"}},
		{"two traffic lines", "POST", "/traffic", "rate 1/s to 101@from-trunk from 1 patience 1s\nrate 2/s", 400, []string{"one traffic line"}},
		{"traffic syntax errors", "POST", "/traffic", "rate fast to 101@from-trunk from z patience 1s", 400, []string{
			"traffic:traffic:1:", `bad rate "fast"`}},
		{"traffic to nowhere", "POST", "/traffic", "rate 1/s to 1@nowhere 2@nowhere from 1-9 patience 1s", 400, []string{
			"traffic to 1@nowhere", "traffic to 2@nowhere"}},
		{"traffic marker", "POST", "/traffic", "-- calls --", 400, []string{"no traffic line"}},
		{"nonsense scenario", "POST", "/scenario", "hello", 400, []string{"nothing to play"}},
		{"scenario with nothing to play", "POST", "/scenario", "-- queues.conf --\n[q9]\nstrategy = ringall\n", 400, []string{"nothing to play"}},
		{"scenario too large", "POST", "/scenario", "-- calls --\n" + strings.Repeat("# padding\n", 40), 413, []string{"larger than 256 bytes"}},
		{"scenario syntax errors", "POST", "/scenario", "-- calls --\nat soon from nobody\nat later\n", 400, []string{"posted:calls:1", "posted:calls:2"}},
		{"traffic", "POST", "/traffic", "rate 2/s to 101@from-trunk 102@from-trunk*2 from 7000-7999 patience 20s-90s", 200, []string{
			`"on": false`, `"line": "rate 2/s to 101@from-trunk 102@from-trunk*2 from 7000-7999 patience 20s-1m30s"`,
			`"rate_per_second": 2`, `"102@from-trunk*2"`}},
		{"stop traffic", "DELETE", "/traffic", "", 200, []string{`"stopped": false`, `"placed": 0`}},
		{"stats", "GET", "/stats", "", 200, []string{`"cpu_seconds"`, `"rss_bytes"`, `"max_rss_bytes"`, `"bytes_written": 0`,
			`"sessions": 0`, `"calls_started": 0`, `"calls_answered": 0`, `"calls_ended": 0`, `"events_written": 0`,
			`"goroutines"`, `"uptime_seconds"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := request(t, h, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.code, code, "%s %s: %s", tc.method, tc.path, body)
			for _, w := range tc.want {
				assert.Contains(t, body, w, "%s %s", tc.method, tc.path)
			}
		})
	}
}

// TestControlStatsOfSessions checks the counters GET /stats takes from the
// manager server, over a real session.
func TestControlStatsOfSessions(t *testing.T) {
	engine := &echoEngine{}
	srv, addr := startServer(t, Config{Engine: engine})
	h := (&Control{Server: srv}).Handler()
	stats := func() Stats {
		code, body := request(t, h, "GET", "/stats", "")
		require.Equal(t, http.StatusOK, code)
		var st Stats
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		return st
	}
	c := dialAMI(t, addr)
	require.Equal(t, "Success", c.login().Response())
	c.send(ami.NewAction("Ping", "ActionID", "p1"))
	require.Equal(t, "p1", c.expect().ActionID(), "a round trip: the login is counted")
	st := stats()
	assert.Equal(t, 1, st.Sessions)
	assert.Positive(t, st.BytesWritten)
	assert.Positive(t, st.CPUSeconds)
	assert.Positive(t, st.MaxRSSBytes)
	assert.Positive(t, st.Goroutines)

	c.send(ami.NewAction("Echo", "ActionID", "e1"))
	c.expect() // the response
	assert.Equal(t, "Echo", c.expect().Event())
	waitFor(t, func() bool { return stats().EventsWritten >= 1 })

	c.send(ami.NewAction("Logoff", "ActionID", "bye"))
	c.expect()
	waitFor(t, func() bool { return stats().Sessions == 0 })
}
