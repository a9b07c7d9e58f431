package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/metrics"
)

// The server's /metrics (cti/metrics, docs/operations.md) is how the load
// generator measures a server it did not start, and how it counts any
// server's goroutines. It reads a few unlabelled samples with
// metrics.ParseText, Prometheus's own text parser: the third-party
// Prometheus modules stay in cti (STYLE.md §1).

// The families the load generator reads.
const (
	metricCPU        = "process_cpu_seconds_total"
	metricRSS        = "process_resident_memory_bytes"
	metricGoroutines = "go_goroutines"
	metricSeats      = "astcti_seats_connected"
	// Read by the faults (faults.go); a server without them is an older
	// one, whose link the faults cannot follow.
	metricLinkUp      = "astcti_ami_link_up"
	metricReconnects  = "astcti_ami_reconnects_total"
	metricCallsActive = "astcti_calls_active"
)

// Bounds of a scrape: the server's whole /metrics is a few tens of KiB.
const (
	scrapeTimeout = 5 * time.Second
	maxScrapeBody = 4 << 20
)

// serverMetrics is what one scrape of the server's /metrics said.
type serverMetrics struct {
	Goroutines     int
	SeatsConnected int
	// HasProcess says that CPUSeconds and RSSBytes were in the scrape:
	// the process collector exports them on Linux and a few other systems.
	HasProcess bool
	CPUSeconds float64
	RSSBytes   int64
	// HasLink says that LinkUp, Reconnects and CallsActive were in the
	// scrape.
	HasLink     bool
	LinkUp      bool
	Reconnects  int64
	CallsActive int
}

// scraper reads a server's /metrics. It is safe to use from any
// goroutine; a scrape blocks for scrapeTimeout at most.
type scraper struct {
	url string // the admin base URL with /metrics
	hc  *http.Client
}

// newScraper returns a scraper of the admin endpoints at base, a URL such
// as http://127.0.0.1:9090.
func newScraper(base string) *scraper {
	return &scraper{url: strings.TrimSuffix(base, "/") + "/metrics", hc: &http.Client{Timeout: scrapeTimeout}}
}

// scrape reads the server's metrics once.
func (s *scraper) scrape(ctx context.Context) (serverMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return serverMetrics{}, fmt.Errorf("server metrics: %w", err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return serverMetrics{}, fmt.Errorf("server metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverMetrics{}, fmt.Errorf("server metrics: GET %s: %s", s.url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxScrapeBody+1))
	if err != nil {
		return serverMetrics{}, fmt.Errorf("server metrics: GET %s: %w", s.url, err)
	}
	if len(b) > maxScrapeBody {
		return serverMetrics{}, fmt.Errorf("server metrics: GET %s: the body is over %d bytes", s.url, maxScrapeBody)
	}
	m, err := parseServerMetrics(b)
	if err != nil {
		return m, fmt.Errorf("server metrics: GET %s: %w", s.url, err)
	}
	return m, nil
}

// parseServerMetrics reads the families the load generator needs from a
// /metrics body. Goroutines and seats connected must be there: a body
// without them is not an astcti server's.
func parseServerMetrics(b []byte) (serverMetrics, error) {
	var m serverMetrics
	samples, err := metrics.ParseText(bytes.NewReader(b))
	if err != nil {
		return m, err
	}
	if len(samples) == 0 {
		return m, errors.New("no samples")
	}
	var missing []string
	need := func(name string) float64 {
		v, ok := samples[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	}
	m.Goroutines, m.SeatsConnected = int(need(metricGoroutines)), int(need(metricSeats))
	if len(missing) > 0 {
		return m, fmt.Errorf("no %s: not an astcti server's metrics", strings.Join(missing, ", "))
	}
	cpu, ok1 := samples[metricCPU]
	rss, ok2 := samples[metricRSS]
	if ok1 && ok2 {
		m.HasProcess, m.CPUSeconds, m.RSSBytes = true, cpu, int64(rss)
	}
	up, ok1 := samples[metricLinkUp]
	rc, ok2 := samples[metricReconnects]
	calls, ok3 := samples[metricCallsActive]
	if ok1 && ok2 && ok3 {
		m.HasLink, m.LinkUp, m.Reconnects, m.CallsActive = true, up == 1, int64(rc), int(calls)
	}
	return m, nil
}
