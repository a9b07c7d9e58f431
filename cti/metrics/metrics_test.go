package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/buildinfo"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/metrics"
)

var testBuild = buildinfo.Info{Version: "v1.2.3", Commit: "0123abcd", GoVersion: "go1.26.8"}

// scrape serves m as the admin endpoint does and parses one scrape.
func scrape(t *testing.T, m *metrics.Metrics, before func(*http.Request)) ctitest.Families {
	t.Helper()
	ts := httptest.NewServer(m.Handler(before))
	defer ts.Close()
	return ctitest.Scrape(t, ts.URL)
}

type want struct {
	name   string
	labels []string
	value  float64
}

func check(t *testing.T, fams ctitest.Families, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := fams.Value(w.name, w.labels...)
		if assert.True(t, ok, "%s%v missing", w.name, w.labels) {
			assert.Equal(t, w.value, got, "%s%v", w.name, w.labels)
		}
	}
}

// TestFresh: every family is there from the start, its known labels at
// zero, with the build and the runtime's collectors.
func TestFresh(t *testing.T) {
	m := metrics.New(testBuild, []string{"quit", "slow_consumer"})
	fams := scrape(t, m, nil)
	check(t, fams, []want{
		{"astcti_build_info", []string{"version", "v1.2.3", "commit", "0123abcd", "goversion", "go1.26.8"}, 1},
		{"astcti_login_failures_total", []string{"reason", metrics.LoginBadPassword}, 0},
		{"astcti_login_failures_total", []string{"reason", metrics.LoginTooManyFailures}, 0},
		{"astcti_seats_closed_total", []string{"reason", "slow_consumer"}, 0},
		{"astcti_ami_events_total", []string{"event", "Newchannel"}, 0},
		{"astcti_ami_events_total", []string{"event", metrics.Other}, 0},
		{"astcti_ami_action_duration_seconds", []string{"action", "QueueAdd"}, 0},
		{"astcti_queue_memberships", []string{"state", metrics.MemberRefused}, 0},
		{"astcti_notification_latency_seconds", nil, 0},
		{"astcti_ami_link_up", nil, 0},
	})
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines", "go_memstats_heap_alloc_bytes"} {
		assert.Contains(t, fams, name)
	}
}

// TestCounts: each method counts where it should, and names outside the
// known sets count as "other".
func TestCounts(t *testing.T) {
	m := metrics.New(testBuild, []string{"quit"})
	m.Login()
	m.LoginFailed(metrics.LoginUnknownOperator)
	m.SeatClosed("quit")
	m.SeatClosed("quit")
	for _, name := range []string{"Newchannel", "NEWCHANNEL", "Hangup", "MyCustomEvent", ""} {
		m.AMIEvent(name)
	}
	m.ActionDone("QueueAdd", time.Now())
	m.ActionDone("SomethingElse", time.Now())
	m.Notified(time.Time{})
	m.Notified(time.Now())
	m.LinkUp(false)
	m.Resync()
	m.LinkDown()
	m.LinkUp(true)
	m.Resync()
	m.QueueAddRefused()
	check(t, scrape(t, m, nil), []want{
		{"astcti_logins_total", nil, 1},
		{"astcti_login_failures_total", []string{"reason", metrics.LoginUnknownOperator}, 1},
		{"astcti_login_failures_total", []string{"reason", metrics.LoginBadPassword}, 0},
		{"astcti_seats_closed_total", []string{"reason", "quit"}, 2},
		{"astcti_ami_events_total", []string{"event", "Newchannel"}, 2},
		{"astcti_ami_events_total", []string{"event", "Hangup"}, 1},
		{"astcti_ami_events_total", []string{"event", metrics.Other}, 2},
		{"astcti_ami_action_duration_seconds", []string{"action", "QueueAdd"}, 1},
		{"astcti_ami_action_duration_seconds", []string{"action", metrics.Other}, 1},
		{"astcti_notification_latency_seconds", nil, 1},
		{"astcti_ami_link_up", nil, 1},
		{"astcti_ami_reconnects_total", nil, 1},
		{"astcti_resyncs_total", nil, 2},
		{"astcti_queue_add_refused_total", nil, 1},
	})
}

// TestSample: the sampled gauges are set before the scrape is written;
// without the hub's answer, its gauges keep their last values.
func TestSample(t *testing.T) {
	m := metrics.New(testBuild, nil)
	sample := metrics.Sample{
		SeatsConnected: 3, QueuedBytes: 512, Hub: true, SeatsLoggedIn: 2, CallsActive: 4,
		ActionsInFlight: 5, ActionsWaiting: 6, MembersConfirmed: 7, MembersPending: 8, MembersRefused: 9,
	}
	fams := scrape(t, m, func(*http.Request) { m.Set(sample) })
	check(t, fams, []want{
		{"astcti_seats_connected", nil, 3},
		{"astcti_seat_queued_bytes", nil, 512},
		{"astcti_seats_logged_in", nil, 2},
		{"astcti_calls_active", nil, 4},
		{"astcti_ami_actions_in_flight", nil, 5},
		{"astcti_ami_actions_waiting", nil, 6},
		{"astcti_queue_memberships", []string{"state", metrics.MemberConfirmed}, 7},
		{"astcti_queue_memberships", []string{"state", metrics.MemberPending}, 8},
		{"astcti_queue_memberships", []string{"state", metrics.MemberRefused}, 9},
	})
	fams = scrape(t, m, func(*http.Request) { m.Set(metrics.Sample{SeatsConnected: 1}) })
	check(t, fams, []want{
		{"astcti_seats_connected", nil, 1},
		{"astcti_seats_logged_in", nil, 2},
		{"astcti_calls_active", nil, 4},
	})
}

// TestHotPathAllocs: what the hub calls per AMI event and per action
// allocates nothing.
func TestHotPathAllocs(t *testing.T) {
	m := metrics.New(testBuild, nil)
	now := time.Now()
	for name, fn := range map[string]func(){
		"AMIEvent known":   func() { m.AMIEvent("Newchannel") },
		"AMIEvent unknown": func() { m.AMIEvent("MyCustomEvent") },
		"ActionDone":       func() { m.ActionDone("QueueAdd", now) },
		"Notified":         func() { m.Notified(now) },
	} {
		require.Zero(t, testing.AllocsPerRun(100, fn), "%s allocates", name)
	}
}

func BenchmarkAMIEvent(b *testing.B) {
	m := metrics.New(testBuild, nil)
	b.ReportAllocs()
	for b.Loop() {
		m.AMIEvent("Newexten")
	}
}
