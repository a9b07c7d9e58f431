package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The server's /metrics (cti/metrics, docs/operations.md) is how the load
// generator measures a server it did not start, and how it counts any
// server's goroutines. It reads a few unlabelled samples of the Prometheus
// text format with a small strict parser of its own: the third-party
// Prometheus modules stay in cti and the configurator (STYLE.md §1).

// The families the load generator reads.
const (
	metricCPU        = "process_cpu_seconds_total"
	metricRSS        = "process_resident_memory_bytes"
	metricGoroutines = "go_goroutines"
	metricSeats      = "astcti_seats_connected"
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
	samples, err := parseMetricsText(b)
	if err != nil {
		return m, err
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
	return m, nil
}

// errMetricsLine is the error of a line that is not of the text format.
var errMetricsLine = errors.New("not a metrics line")

// parseMetricsText parses the Prometheus text exposition format (version
// 0.0.4: "# HELP"/"# TYPE" comments and "name{labels} value [timestamp]"
// samples) and returns the value of every sample without labels. Samples
// with labels are checked and skipped. Any line that is not of the format
// is an error, with its number.
func parseMetricsText(b []byte) (map[string]float64, error) {
	samples := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxScrapeBody)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labelled, value, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %w", n, truncate(line, 80), err)
		}
		if !labelled {
			samples[name] = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, errors.New("no samples")
	}
	return samples, nil
}

// parseSample parses one sample line: its metric name, whether it has
// labels, and its value.
func parseSample(line string) (name string, labelled bool, value float64, err error) {
	i := 0
	for i < len(line) && isNameByte(line[i], i == 0) {
		i++
	}
	if i == 0 {
		return "", false, 0, fmt.Errorf("%w: no metric name", errMetricsLine)
	}
	name, rest := line[:i], line[i:]
	if strings.HasPrefix(rest, "{") {
		end, err := labelsEnd(rest)
		if err != nil {
			return "", false, 0, err
		}
		labelled, rest = true, rest[end:]
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 || !strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "\t") {
		return "", false, 0, fmt.Errorf("%w: want a value and at most a timestamp after the name", errMetricsLine)
	}
	value, err = parseValue(fields[0])
	if err != nil {
		return "", false, 0, err
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return "", false, 0, fmt.Errorf("%w: bad timestamp %q", errMetricsLine, fields[1])
		}
	}
	return name, labelled, value, nil
}

// isNameByte reports whether c may be in a metric name ([a-zA-Z_:] first,
// then also digits).
func isNameByte(c byte, first bool) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// labelsEnd returns the index just after the closing brace of the label
// set that s starts with: name="value" pairs separated by commas, values
// with \\, \" and \n escapes.
func labelsEnd(s string) (int, error) {
	i := 1
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i < len(s) && s[i] == '}' {
			return i + 1, nil
		}
		start := i
		for i < len(s) && isNameByte(s[i], i == start) && s[i] != ':' {
			i++
		}
		if i == start || i+1 >= len(s) || s[i] != '=' || s[i+1] != '"' {
			return 0, fmt.Errorf("%w: bad label at %d", errMetricsLine, i)
		}
		i += 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
				if i >= len(s) || (s[i] != '\\' && s[i] != '"' && s[i] != 'n') {
					return 0, fmt.Errorf("%w: bad escape in a label value", errMetricsLine)
				}
			}
		}
		if i >= len(s) {
			return 0, fmt.Errorf("%w: unterminated label value", errMetricsLine)
		}
		i++ // the closing quote
		for i < len(s) && s[i] == ' ' {
			i++
		}
		switch {
		case i < len(s) && s[i] == ',':
			i++
		case i < len(s) && s[i] == '}':
			return i + 1, nil
		default:
			return 0, fmt.Errorf("%w: want , or } after a label", errMetricsLine)
		}
	}
}

// parseValue parses a sample's value: a Go float, or +Inf, -Inf, NaN.
func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%w: bad value %q", errMetricsLine, s)
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
