package configurator

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
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

// TestProblemMap: a problem lands on its field by Problem.Field when it
// is about the form's row and the form has that field; any other goes to
// the top of the form, never lost.
func TestProblemMap(t *testing.T) {
	ps := []config.Problem{
		{Msg: "seat 1: missing MAC", Kind: config.KindSeat, Field: "mac"},
		{Msg: "seat 1: missing interface", Kind: config.KindSeat, Field: "interface"},
		{Msg: "seat 1: odd", Kind: config.KindSeat, Field: "nosuch"},
		{Msg: "seat 1: as a whole", Kind: config.KindSeat},
		{Msg: `operator "alice": seat 00:11:22:33:44:09: no such seat`, Kind: config.KindOperator, Field: "seat"},
	}
	got := problemMap(config.KindSeat, seatColumns, ps)
	want := map[string][]string{
		"mac":       {"seat 1: missing MAC"},
		"interface": {"seat 1: missing interface"},
		"":          {"seat 1: odd", "seat 1: as a whole", `operator "alice": seat 00:11:22:33:44:09: no such seat`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problemMap = %q, want %q", got, want)
	}
}
