package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatclient"
)

// TestRunFreeSeatPop: the screen pop of the user's own seat client, as
// astcti client runs it, works with what the demo has: it opens a page of
// the demo CRM with the call's data (printed here, as --no-open does on a
// machine with no URL opener), and that page answers with the data. It
// used to run crm-lookup, which no machine has.
func TestRunFreeSeatPop(t *testing.T) {
	s := start(t, Config{Rate: "0", Seats: 0, Seed: 1, NoOpen: true})
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/$`, s.info.CRM)
	assert.Regexp(t, ` --no-open$`, s.info.ClientCommand())
	s.waitOutput(t, `(?m)^astcti-sim: demo CRM, the page the screen pops open: \Q`+s.info.CRM+`\E$`)

	actions := make(chan seatclient.ActionResult, 16)
	cl, err := seatclient.New(seatclient.Config{
		Addr: s.info.Seats, User: s.info.Free.Name, PasswordMD5: config.MD5Hex(s.info.Free.Password), MAC: s.info.Free.MAC,
		Runner: &seatclient.Runner{NoOpen: true},
		Notify: func(n seatclient.Note) {
			if n.Kind == seatclient.NoteAction {
				select {
				case actions <- *n.Action:
				default:
				}
			}
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	var res seatclient.ActionResult
	select {
	case res = <-actions:
	case err := <-done:
		t.Fatalf("the client stopped: %v", err)
	case <-time.After(ctitest.Wait):
		t.Fatalf("no screen pop for carol within %v:\n%s", ctitest.Wait, s.out)
	}
	require.Equal(t, seatclient.Printed, res.Outcome, "the pop: %v", res.Err)
	assert.Regexp(t, `^\Q`+s.info.CRM+`\Ecustomer\?id=98765&caller=700[12]&name=Caller\+700[12]$`, res.URL)

	resp, err := http.Get(res.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Regexp(t, `<dt>Customer</dt><dd>98765</dd><dt>Caller</dt><dd>700[12]</dd><dt>Caller&#39;s name</dt><dd>Caller 700[12]</dd>`, string(body))
	assert.Equal(t, "default-src 'none'", resp.Header.Get("Content-Security-Policy"))
}

// TestCRMEscapes: the demo CRM shows what the URL holds as text.
func TestCRMEscapes(t *testing.T) {
	w := httptest.NewRecorder()
	crmHandler().ServeHTTP(w, httptest.NewRequest("GET", "/customer?id=%3Cscript%3Ealert(1)%3C/script%3E&caller=1", nil))
	rec := w.Body.String()
	assert.Contains(t, rec, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.NotContains(t, rec, "<script>")
}
