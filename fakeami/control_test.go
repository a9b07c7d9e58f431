package fakeami

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

func request(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(b)
}

func TestControlAPI(t *testing.T) {
	pbx, err := NewPBX(Options{Dialect: DialectModern, Scenario: scenarios.Demo()})
	require.NoError(t, err)
	srv, err := NewServer(Config{Dialect: DialectModern, Username: "u", Secret: "s", Engine: pbx})
	require.NoError(t, err)
	h := (&Control{PBX: pbx, Server: srv}).Handler()

	rec := &collectSink{}
	pbx.Do(rec, ami.NewAction("QueueAdd", "ActionID", "1", "Queue", "astcti-queue", "Interface", "SIP/201", "Penalty", "2"))
	require.Equal(t, "Success", rec.frames[0].Response())

	code, body := request(t, h, "GET", "/members", "")
	require.Equal(t, http.StatusOK, code)
	var members []QueueMembership
	require.NoError(t, json.Unmarshal([]byte(body), &members))
	require.Len(t, members, 1)
	assert.Equal(t, "astcti-queue", members[0].Queue)
	assert.Equal(t, "SIP/201", members[0].Interface)
	assert.Equal(t, 2, members[0].Penalty)

	code, body = request(t, h, "GET", "/queues", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"astcti-queue-2"`)

	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"calls over the demo dialplan", "-- calls --\nat 1s from \"A\" <100> to 102@from-trunk\n", http.StatusOK, `"calls": 1`},
		{"syntax error", "-- calls --\nat soon from nobody\n", http.StatusBadRequest, "posted:calls:1"},
		{"unknown context", "-- calls --\nat 1s from <1> to 1@nowhere\n", http.StatusBadRequest, "nowhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := request(t, h, "POST", "/scenario", tc.body)
			assert.Equal(t, tc.code, code, body)
			assert.Contains(t, body, tc.want)
		})
	}

	code, _ = request(t, h, "POST", "/restart", "")
	assert.Equal(t, http.StatusOK, code)
	code, body = request(t, h, "GET", "/members", "")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, "[]", body, "dynamic members do not survive a restart")

	code, _ = request(t, h, "GET", "/nosuch", "")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestControlReplayMode(t *testing.T) {
	_, srv := newServing(t, true)
	h := (&Control{Server: srv}).Handler()
	for _, path := range []string{"/state", "/channels"} {
		code, body := request(t, h, "GET", path, "")
		assert.Equal(t, http.StatusNotFound, code)
		assert.Contains(t, body, "replaying")
	}
	code, body := request(t, h, "POST", "/replay", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"started": 0`)
}

// collectSink keeps what it is sent; for tests that call the PBX directly.
type collectSink struct{ frames []*ami.Frame }

func (c *collectSink) Send(f *ami.Frame) { c.frames = append(c.frames, f) }
