package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astcti/astcti/cti/buildinfo"
)

// namespace prefixes every family of the server's own.
const namespace = "astcti"

// factory makes the server's families and registers them in reg.
type factory struct{ reg *prometheus.Registry }

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

// counterVec makes a counter family with one label whose known values
// start at zero, so that rate() and increase() see their first increment.
func (f factory) counterVec(name, help, label string, values []string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, []string{label})
	f.reg.MustRegister(c)
	for _, v := range values {
		c.WithLabelValues(v)
	}
	return c
}

func (f factory) gaugeVec(name, help, label string, values []string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, []string{label})
	f.reg.MustRegister(g)
	for _, v := range values {
		g.WithLabelValues(v)
	}
	return g
}

// eventCounters makes astcti_ami_events_total with a counter per known
// event and one for the others, resolved once: counting an event is then
// a map lookup and an atomic add, on the hub's hot path.
func (f factory) eventCounters() map[string]prometheus.Counter {
	vec := f.counterVec("ami_events_total", "AMI events received, by event name (names outside a known set count as \"other\").", "event", nil)
	out := make(map[string]prometheus.Counter, len(knownEvents)+1)
	for _, name := range append(knownEvents[:len(knownEvents):len(knownEvents)], Other) {
		out[name] = vec.WithLabelValues(name)
	}
	return out
}

// actionHistograms makes astcti_ami_action_duration_seconds with a
// histogram per known action and one for the others.
func (f factory) actionHistograms() map[string]prometheus.Observer {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "ami_action_duration_seconds",
		Help:    "From sending an AMI action of the hub to its answer (for a list action, the whole list), by action.",
		Buckets: prometheus.ExponentialBuckets(250e-6, 2, 16), // 250 µs … 8 s
	}, []string{"action"})
	f.reg.MustRegister(vec)
	out := make(map[string]prometheus.Observer, len(knownActions)+1)
	for _, name := range append(knownActions[:len(knownActions):len(knownActions)], Other) {
		out[name] = vec.WithLabelValues(name)
	}
	return out
}

// buildInfo registers astcti_build_info{version,commit,goversion} 1.
func (f factory) buildInfo(b buildinfo.Info) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info", Help: "The running build; always 1."},
		[]string{"version", "commit", "goversion"})
	f.reg.MustRegister(g)
	g.WithLabelValues(b.Version, b.Commit, b.GoVersion).Set(1)
}
