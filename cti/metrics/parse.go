package metrics

import (
	"fmt"
	"io"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseText parses a /metrics body of the Prometheus text format with
// Prometheus's own parser, and returns the value of every counter, gauge
// and untyped sample without labels, by name. It is how a client of the
// server's admin endpoints (the load generator) reads its figures.
func ParseText(r io.Reader) (map[string]float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("metrics: not Prometheus text: %w", err)
	}
	values := make(map[string]float64)
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			if len(m.GetLabel()) > 0 {
				continue
			}
			switch {
			case m.GetGauge() != nil:
				values[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				values[name] = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				values[name] = m.GetUntyped().GetValue()
			}
		}
	}
	return values, nil
}
