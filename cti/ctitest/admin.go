package ctitest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// AdminURL returns the base URL of the server's admin endpoints
// ("http://127.0.0.1:PORT"), waiting for them to listen. The server must
// have been started with Options.Admin.
func (s *Server) AdminURL() string {
	s.t.Helper()
	s.mu.Lock()
	u := s.adminURL
	s.mu.Unlock()
	if u != "" {
		return u
	}
	select {
	case a := <-s.admin:
		u = "http://" + a.String()
	case <-s.done:
		s.t.Fatalf("ctitest: no admin endpoints: Run returned (%v)", s.err)
	case <-time.After(Wait):
		s.t.Fatalf("ctitest: the admin endpoints did not listen within %v (is Options.Admin set?)", Wait)
	}
	s.mu.Lock()
	s.adminURL = u
	s.mu.Unlock()
	return u
}

// Get sends a request with method to url and returns the status code and
// the body.
func Get(t testing.TB, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatalf("ctitest: %s %s: %v", method, url, err)
	}
	client := http.Client{Timeout: Wait}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("ctitest: %s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("ctitest: %s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape gets url (a /metrics endpoint) and parses the answer with the
// Prometheus text parser; it fails the test when either fails.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	code, body := Get(t, http.MethodGet, url)
	if code != http.StatusOK {
		t.Fatalf("ctitest: GET %s: %d %s", url, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("ctitest: %s does not parse as Prometheus text: %v", url, err)
	}
	return fams
}

// Value returns the value of the metric name whose labels include every
// name=value pair of labels: a counter's or gauge's value, a histogram's
// count of observations. It reports false when there is no such metric.
func (f Families) Value(name string, labels ...string) (float64, bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("ctitest: labels %q are not name, value pairs", pairs))
	}
	for i := 0; i < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
