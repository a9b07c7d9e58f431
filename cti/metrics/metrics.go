// Package metrics defines the server's Prometheus metrics: the astcti_*
// families, with the Go runtime's and the process's collectors, in a
// registry of their own per server (never the global default registry:
// several servers run in one test process, and a program that embeds the
// server keeps its own metrics apart).
//
// Package cti calls a Metrics through a few methods: counters and
// histograms where things happen (one line each in the hub and the seat
// code), and Set with a Sample of the gauges whose values the hub
// goroutine owns, taken just before each scrape. docs/operations.md lists
// every family with its meaning.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/astcti/astcti/cti/buildinfo"
)

// Reasons a seat's login fails, the values of astcti_login_failures_total's
// reason label.
const (
	LoginBadPassword      = "bad_password"      // a known, enabled operator with the wrong password
	LoginUnknownOperator  = "unknown_operator"  // no operator of that name
	LoginOperatorDisabled = "operator_disabled" // the operator is disabled
	LoginTooManyFailures  = "too_many_failures" // refused unchecked: too many recent failures for the name from that address, or for the address
)

var loginFailureReasons = []string{LoginBadPassword, LoginUnknownOperator, LoginOperatorDisabled, LoginTooManyFailures}

// Reasons a seat connection is refused at accept, the values of
// astcti_seats_refused_total's reason label.
const (
	RefusedTooMany         = "too_many_connections"  // the cap on seat connections in total
	RefusedTooManyFromAddr = "too_many_from_address" // the cap on seat connections from one address
)

var refusedReasons = []string{RefusedTooMany, RefusedTooManyFromAddr}

// Other is the label value of an AMI event or action outside the known
// sets, which bound the labels' cardinality whatever the PBX sends.
const Other = "other"

// knownEvents are the AMI events counted under their own name: those the
// call tracker and the hub read, and the frequent ones a PBX sends anyway.
var knownEvents = []string{
	// The call tracker's (cti/calls/events.go), in every generation's spelling.
	"Newchannel", "Newcallerid", "NewCallerid", "Newstate", "Newexten", "VarSet", "UserEvent",
	"Join", "QueueCallerJoin", "Dial", "DialBegin", "DialEnd", "AgentCalled", "AgentConnect",
	"Link", "Bridge", "BridgeEnter", "BridgeLeave", "BridgeDestroy", "BridgeCreate", "LocalBridge",
	"Hangup", "OriginateResponse", "Shutdown", "Rename", "CoreShowChannel",
	// The hub's queue members.
	"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPaused", "QueueMemberStatus",
	// Frequent others.
	"FullyBooted", "Reload", "Leave", "QueueCallerLeave", "QueueCallerAbandon", "AgentComplete",
	"AgentRingNoAnswer", "AgentDump", "Unlink", "Hold", "Unhold", "NewConnectedLine", "NewAccountCode",
	"HangupRequest", "SoftHangupRequest", "DTMFBegin", "DTMFEnd", "MusicOnHoldStart", "MusicOnHoldStop",
	"PeerStatus", "ContactStatus", "DeviceStateChange", "ExtensionStatus", "Registry", "Cdr", "CEL",
	"RTCPSent", "RTCPReceived", "SuccessfulAuth", "ChallengeSent", "InvalidPassword",
}

// knownActions are the hub's actions, the values of the action label of
// astcti_ami_action_duration_seconds.
var knownActions = []string{
	"QueueAdd", "QueueRemove", "QueuePause", "Originate",
	"CoreShowChannels", "Status", "QueueStatus", "Getvar",
}

// Why the call tracker dropped a channel, the values of
// astcti_tracker_dropped_total's reason label.
const (
	DropRefused = "refused"  // not created: the tracker held its bound of channels, in total or for the interface
	DropEvicted = "evicted"  // a leg a seat was told of, ended to keep the bound of calls per interface
	DropLate    = "late"     // created again after its Hangup (a Hangup that came first, a late list item): ignored
	DropAgedOut = "aged_out" // the PBX's list of channels no longer had it (a resync or the periodic reconciliation)
)

var dropReasons = []string{DropRefused, DropEvicted, DropLate, DropAgedOut}

// Membership states, the values of astcti_queue_memberships's state label.
const (
	MemberConfirmed = "confirmed" // the PBX confirmed the seat's phone in the queue
	MemberPending   = "pending"   // a QueueAdd is on its way or waits to be retried
	MemberRefused   = "refused"   // the PBX refused the QueueAdd; retried with a growing pause
)

// Metrics is one server's metrics and their registry. Its methods are safe
// to call from any goroutine and never block.
type Metrics struct {
	reg *prometheus.Registry

	seatsConnected  prometheus.Gauge
	seatsLoggedIn   prometheus.Gauge
	queuedBytes     prometheus.Gauge
	logins          prometheus.Counter
	loginFailures   *prometheus.CounterVec
	seatsClosed     *prometheus.CounterVec
	seatsRefused    *prometheus.CounterVec
	acceptErrors    prometheus.Counter
	callsActive     prometheus.Gauge
	notifyLatency   prometheus.Histogram
	events          map[string]prometheus.Counter // by known event name, and Other
	linkUp          prometheus.Gauge
	reconnects      prometheus.Counter
	resyncs         prometheus.Counter
	reconciles      prometheus.Counter
	trackerChannels prometheus.Gauge
	trackerDropped  *prometheus.CounterVec
	inFlight        prometheus.Gauge
	waiting         prometheus.Gauge
	actionLatency   map[string]prometheus.Observer // by known action, and Other
	memberships     *prometheus.GaugeVec
	queueAddRefused prometheus.Counter
}

// New returns the metrics of one server, registered with the process and
// Go collectors in a new registry. closeReasons are the label values of
// astcti_seats_closed_total, which start at zero.
func New(build buildinfo.Info, closeReasons []string) *Metrics {
	f := factory{reg: prometheus.NewRegistry()}
	m := &Metrics{
		reg:            f.reg,
		seatsConnected: f.gauge("seats_connected", "Seat connections open, logged in or not."),
		seatsLoggedIn:  f.gauge("seats_logged_in", "Operators logged in at a seat (sessions)."),
		queuedBytes:    f.gauge("seat_queued_bytes", "Bytes queued for the seats' writers and not yet written, over every seat."),
		logins:         f.counter("logins_total", "Successful seat logins."),
		loginFailures:  f.counterVec("login_failures_total", "Refused seat logins, by reason.", "reason", loginFailureReasons),
		seatsClosed:    f.counterVec("seats_closed_total", "Seat connections closed, by reason.", "reason", closeReasons),
		seatsRefused:   f.counterVec("seats_refused_total", "Seat connections refused at accept, over a connection cap, by reason.", "reason", refusedReasons),
		acceptErrors:   f.counter("seat_accept_errors_total", "Failed accepts of seat connections (out of file descriptors, say); the server backs off and goes on."),
		callsActive:    f.gauge("calls_active", "Calls in progress in the configured services."),
		notifyLatency: f.histogram("notification_latency_seconds",
			"From the AMI reader handing over the event that answers a call to its Link line queued for the seat's writer.",
			prometheus.ExponentialBuckets(50e-6, 2, 16)), // 50 µs … 1.6 s
		linkUp:          f.gauge("ami_link_up", "1 while the AMI link is up and the hub has taken it in use, else 0."),
		reconnects:      f.counter("ami_reconnects_total", "AMI links that came up after the first."),
		resyncs:         f.counter("resyncs_total", "Resynchronisations with the PBX: after a reconnect, or after the hub fell behind the AMI events."),
		reconciles:      f.counter("reconciliations_total", "Periodic checks of the call tracker's channels against the PBX's list of channels (CoreShowChannels, or Status)."),
		trackerChannels: f.gauge("tracker_channels", "Channels the call tracker follows."),
		trackerDropped:  f.counterVec("tracker_dropped_total", "Channels the call tracker dropped or refused, by reason.", "reason", dropReasons),
		inFlight:        f.gauge("ami_actions_in_flight", "The hub's AMI actions sent and not yet answered."),
		waiting:         f.gauge("ami_actions_waiting", "The hub's AMI actions waiting for room in the window of actions in flight."),
		memberships:     f.gaugeVec("queue_memberships", "Queue memberships of the logged-in seats, by state.", "state", []string{MemberConfirmed, MemberPending, MemberRefused}),
		queueAddRefused: f.counter("queue_add_refused_total", "QueueAdd actions the PBX refused (each retry counts)."),
	}
	m.events = f.eventCounters()
	m.actionLatency = f.actionHistograms()
	f.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	f.buildInfo(build)
	return m
}

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics when asked). before, when set, runs first on each scrape: it
// is where the gauges the hub owns are sampled.
func (m *Metrics) Handler(before func(*http.Request)) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
	if before == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before(r)
		h.ServeHTTP(w, r)
	})
}

// Registry returns the registry, for a program that embeds the server and
// serves the metrics itself.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Login counts a successful seat login.
func (m *Metrics) Login() { m.logins.Inc() }

// LoginFailed counts a refused seat login; reason is one of the Login*
// constants.
func (m *Metrics) LoginFailed(reason string) { m.loginFailures.WithLabelValues(reason).Inc() }

// SeatClosed counts a closed seat connection.
func (m *Metrics) SeatClosed(reason string) { m.seatsClosed.WithLabelValues(reason).Inc() }

// SeatRefused counts a seat connection refused at accept; reason is one
// of the Refused* constants.
func (m *Metrics) SeatRefused(reason string) { m.seatsRefused.WithLabelValues(reason).Inc() }

// AcceptError counts a failed accept of a seat connection.
func (m *Metrics) AcceptError() { m.acceptErrors.Inc() }

// AMIEvent counts one AMI event by its name; names outside the known set
// count as Other.
func (m *Metrics) AMIEvent(name string) {
	c, ok := m.events[name]
	if !ok {
		c = m.events[canonicalEvent(name)]
	}
	c.Inc()
}

// canonicalEvent is the known event name that equals name without regard
// to case (Asterisk's spelling changed between versions), or Other.
func canonicalEvent(name string) string {
	for _, k := range knownEvents {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return Other
}

// LinkUp records an AMI link that came up; reconnect is false for the first.
func (m *Metrics) LinkUp(reconnect bool) {
	m.linkUp.Set(1)
	if reconnect {
		m.reconnects.Inc()
	}
}

// LinkDown records the AMI link lost.
func (m *Metrics) LinkDown() { m.linkUp.Set(0) }

// Resync counts a resynchronisation with the PBX.
func (m *Metrics) Resync() { m.resyncs.Inc() }

// Reconcile counts one periodic check of the tracker's channels against
// the PBX's list.
func (m *Metrics) Reconcile() { m.reconciles.Inc() }

// TrackerDropped counts n channels the call tracker dropped for reason
// (one of the Drop* constants).
func (m *Metrics) TrackerDropped(reason string, n uint64) {
	if n > 0 {
		m.trackerDropped.WithLabelValues(reason).Add(float64(n))
	}
}

// ActionDone observes the time from sending an AMI action to its answer.
func (m *Metrics) ActionDone(action string, sent time.Time) {
	o, ok := m.actionLatency[action]
	if !ok {
		o = m.actionLatency[Other]
	}
	o.Observe(time.Since(sent).Seconds())
}

// QueueAddRefused counts a QueueAdd the PBX refused.
func (m *Metrics) QueueAddRefused() { m.queueAddRefused.Inc() }

// Notified observes the latency of a Link notification whose AMI event was
// read at read; a zero read time (an event that was not read from a
// connection) is not observed.
func (m *Metrics) Notified(read time.Time) {
	if !read.IsZero() {
		m.notifyLatency.Observe(time.Since(read).Seconds())
	}
}

// Sample is the value of the gauges the server samples at each scrape.
type Sample struct {
	SeatsConnected int   // seat connections open
	QueuedBytes    int64 // bytes queued for every seat's writer
	// Hub is false when the hub did not answer in time: its gauges keep
	// the values of the last sample.
	Hub              bool
	SeatsLoggedIn    int
	CallsActive      int
	TrackerChannels  int
	ActionsInFlight  int
	ActionsWaiting   int
	MembersConfirmed int
	MembersPending   int
	MembersRefused   int
}

// Set sets the sampled gauges.
func (m *Metrics) Set(s Sample) {
	m.seatsConnected.Set(float64(s.SeatsConnected))
	m.queuedBytes.Set(float64(s.QueuedBytes))
	if !s.Hub {
		return
	}
	m.seatsLoggedIn.Set(float64(s.SeatsLoggedIn))
	m.callsActive.Set(float64(s.CallsActive))
	m.trackerChannels.Set(float64(s.TrackerChannels))
	m.inFlight.Set(float64(s.ActionsInFlight))
	m.waiting.Set(float64(s.ActionsWaiting))
	m.memberships.WithLabelValues(MemberConfirmed).Set(float64(s.MembersConfirmed))
	m.memberships.WithLabelValues(MemberPending).Set(float64(s.MembersPending))
	m.memberships.WithLabelValues(MemberRefused).Set(float64(s.MembersRefused))
}
