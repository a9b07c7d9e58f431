package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/metrics"
)

// TestParseText reads the server's own /metrics back: the unlabelled
// samples by name, the labelled ones left out; text that is not of the
// format is an error.
func TestParseText(t *testing.T) {
	m := metrics.New(testBuild, []string{"quit"})
	m.Login()
	m.SeatClosed("quit")
	ts := httptest.NewServer(m.Handler(nil))
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	values, err := metrics.ParseText(strings.NewReader(string(body)))
	require.NoError(t, err)
	assert.Equal(t, 1.0, values["astcti_logins_total"], "a counter")
	assert.Contains(t, values, "astcti_seats_connected", "a gauge")
	assert.Positive(t, values["go_goroutines"], "the runtime's collector")
	assert.NotContains(t, values, "astcti_seats_closed_total", "labelled samples are left out")

	for _, bad := range []string{"<html>404</html>\n", "go_goroutines many\n", `go_goroutines{a=b} 1` + "\n"} {
		_, err := metrics.ParseText(strings.NewReader(bad))
		assert.ErrorContains(t, err, "not Prometheus text", "%q", bad)
	}
}
