package configurator

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeBounds: Serve bounds the request headers (431) and the form
// bodies (413), and returns nil once its context ends.
func TestServeBounds(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, e.h, nil, nil) }()
	base := "http://" + ln.Addr().String()

	r, err := http.Get(base + "/login")
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusOK, r.StatusCode)

	req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 2*maxHeaderBytes))
	r, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, r.StatusCode)

	r, err = http.Post(base+"/login", "application/x-www-form-urlencoded", strings.NewReader("userid="+strings.Repeat("x", int(MaxBodyBytes)+1)))
	require.NoError(t, err)
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
	assert.Contains(t, string(b), "The form could not be read")

	cancel()
	assert.NoError(t, <-done)
	_, err = http.Get(base + "/login")
	assert.Error(t, err, "no longer serving")
}

// TestScriptRequestsGet401: a script's request without a session (XHR,
// JSON) gets 401 JSON, never the login page's HTML.
func TestScriptRequestsGet401(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, hdr := range [][]string{{"X-Requested-With", "XMLHttpRequest"}, {"Accept", "application/json"}} {
		r := c.get("/seats", hdr...)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, hdr)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
}

// TestDefaultFieldOf: the problems of cti/config's seat validation land on
// their fields, the seat's name in the text notwithstanding.
func TestDefaultFieldOf(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"seat 1: missing MAC", "mac"},
		{"seat: invalid MAC address \"x\"", "mac"},
		{"seat 00:11:22:33:44:01: duplicate MAC (also seat 1)", "mac"},
		{"seat 00:11:22:33:44:01: missing interface", "interface"},
		{"seat 00:11:22:33:44:01: interface SIP/1 is also the interface of seat 00:11:22:33:44:02", "interface"},
		{"seat 00:11:22:33:44:01: description longer than 256 bytes", "description"},
		{"operator \"alice\": seat 00:11:22:33:44:09: no such seat", ""},
	}
	for _, tc := range tests {
		p := problem(tc.msg)
		if got := DefaultFieldOf("seat", p); got != tc.want {
			t.Errorf("DefaultFieldOf(seat, %q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
