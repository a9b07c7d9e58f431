package loadgen

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/metrics.txt is an astcti server's /metrics, captured from
// `astcti server --admin-listen` with no seat logged in.
func capturedMetrics(t testing.TB) string {
	b, err := os.ReadFile("testdata/metrics.txt")
	require.NoError(t, err)
	return string(b)
}

func TestParseServerMetrics(t *testing.T) {
	captured := capturedMetrics(t)
	tests := []struct {
		name    string
		body    string
		want    serverMetrics
		wantErr string // a substring of the error; "" for none
	}{
		{
			name: "captured",
			body: captured,
			want: serverMetrics{Goroutines: 19, SeatsConnected: 0, HasProcess: true, CPUSeconds: 0.01, RSSBytes: 19415040, HasLink: true, LinkUp: true},
		},
		{
			name: "no process collector",
			body: "# TYPE go_goroutines gauge\ngo_goroutines 7\nastcti_seats_connected 3\n",
			want: serverMetrics{Goroutines: 7, SeatsConnected: 3},
		},
		{
			name: "labels, timestamps and blank lines",
			body: "\n" + `astcti_seats_closed_total{reason="a \"quoted\" one"} 4` + "\n" +
				"go_goroutines 12 1700000000000\nastcti_seats_connected 5\n" +
				"process_cpu_seconds_total 1.5e+00\nprocess_resident_memory_bytes 1048576\n",
			want: serverMetrics{Goroutines: 12, SeatsConnected: 5, HasProcess: true, CPUSeconds: 1.5, RSSBytes: 1 << 20},
		},
		{name: "only labelled goroutines", body: `go_goroutines{a="b"} 1` + "\nastcti_seats_connected 1\n", wantErr: "no go_goroutines"},
		{name: "not astcti's", body: "go_goroutines 3\n", wantErr: "no astcti_seats_connected: not an astcti server's"},
		{name: "empty", body: "", wantErr: "no samples"},
		{name: "comments only", body: "# HELP go_goroutines x\n", wantErr: "no samples"},
		{name: "html", body: "<html><body>404</body></html>\n", wantErr: "not Prometheus text"},
		{name: "bad value", body: "go_goroutines many\n", wantErr: "not Prometheus text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseServerMetrics([]byte(tc.body))
			if tc.wantErr != "" {
				require.Error(t, err, "parseServerMetrics(%q)", tc.body)
				assert.Contains(t, err.Error(), tc.wantErr, "parseServerMetrics(%q)", tc.body)
				return
			}
			require.NoError(t, err, "parseServerMetrics(%q)", tc.body)
			assert.Equal(t, tc.want, got, "parseServerMetrics(%q)", tc.body)
		})
	}
}

// TestScrape reads /metrics over HTTP: a good answer, an error status, a
// body over the limit, and a server that is not there.
func TestScrape(t *testing.T) {
	captured := capturedMetrics(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /good/metrics", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(captured)) })
	mux.HandleFunc("GET /huge/metrics", func(w http.ResponseWriter, r *http.Request) {
		line := []byte("# " + strings.Repeat("x", 1<<16) + "\n")
		for n := 0; n <= maxScrapeBody/len(line); n++ {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	m, err := newScraper(srv.URL + "/good/").scrape(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 19, m.Goroutines)

	_, err = newScraper(srv.URL + "/missing").scrape(t.Context())
	assert.ErrorContains(t, err, "404 Not Found")

	_, err = newScraper(srv.URL + "/huge").scrape(t.Context())
	assert.ErrorContains(t, err, "over 4194304 bytes")

	dead := httptest.NewServer(mux)
	dead.Close()
	_, err = newScraper(dead.URL).scrape(t.Context())
	assert.ErrorContains(t, err, "server metrics:")
}

// FuzzParseServerMetrics: whatever a server answers, reading its figures
// returns a value or an error, and never panics.
func FuzzParseServerMetrics(f *testing.F) {
	f.Add(capturedMetrics(f))
	f.Add("go_goroutines 1\nastcti_seats_connected 2\n")
	f.Add(`a{b="c\"d"} +Inf 12` + "\n")
	f.Add("<html>\n")
	f.Fuzz(func(t *testing.T, body string) {
		_, _ = parseServerMetrics([]byte(body))
	})
}
