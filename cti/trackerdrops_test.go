package cti

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// recordLog keeps the messages of every record logged through it.
type recordLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *recordLog) WithGroup(string) slog.Handler            { return l }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// count returns how many records' messages begin with prefix.
func (l *recordLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestTrackerDropsLoggedOnce: what the tracker refuses at its bound is
// counted in astcti_tracker_dropped_total at every tick, but logged at
// most once per trackerLogEvery, however many channels a flood brings
// (docs/reliability.md, "Logged once, counted always").
func TestTrackerDropsLoggedOnce(t *testing.T) {
	old := trackerChannels
	trackerChannels = 10
	t.Cleanup(func() { trackerChannels = old })
	logs := &recordLog{}
	snap, err := config.NewSnapshot(traceModel())
	require.NoError(t, err)
	h := newHub(New(Config{Logger: slog.New(logs)}), snap)

	next := 0
	flood := func(n int) {
		for range n {
			f := &ami.Frame{}
			f.Add("Event", "Newchannel")
			f.Add("Channel", fmt.Sprintf("PJSIP/trunk-%08x", next))
			f.Add("Uniqueid", fmt.Sprintf("1700000000.%d", next))
			next++
			h.amiEvent(f, time.Now())
		}
	}
	const warning = "call tracker: channels refused"
	refused := func() float64 {
		fams, err := h.srv.metrics.Registry().Gather()
		require.NoError(t, err)
		for _, fam := range fams {
			if fam.GetName() != "astcti_tracker_dropped_total" {
				continue
			}
			for _, m := range fam.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == "refused" {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}

	start := time.Now()
	flood(1000)
	h.trackerDrops(start)
	assert.Equal(t, 990.0, refused(), "refused, counted at the first tick")
	assert.Equal(t, 1, logs.count(warning), "log lines after the first tick")
	for i := range 10 {
		flood(100)
		h.trackerDrops(start.Add(time.Duration(i+1) * trackerLogEvery / 20))
	}
	assert.Equal(t, 1990.0, refused(), "refused, counted at every tick")
	assert.Equal(t, 1, logs.count(warning), "log lines within trackerLogEvery")
	h.trackerDrops(start.Add(trackerLogEvery))
	assert.Equal(t, 2, logs.count(warning), "log lines once trackerLogEvery has passed")
	h.trackerDrops(start.Add(3 * trackerLogEvery))
	assert.Equal(t, 2, logs.count(warning), "no line when nothing more was dropped")
}
