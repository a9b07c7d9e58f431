package cti

import (
	"cmp"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/buildinfo"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/metrics"
)

// hubObs is what the hub keeps only to show it: the link's history, when
// the configuration was put in force, the last sessions that ended. The
// admin endpoints read it through askHub, on the hub's goroutine.
type hubObs struct {
	link      *ami.LinkUp // the last link that came up; nil before the first
	linkSince time.Time   // when the link last came up or went down
	linkErr   string      // why it last went down
	snapSince time.Time   // when the snapshot in force was put in force
	refused   *refusal    // the newest snapshot refused, newer than the one in force; nil when none
	closed    closedRing
}

// refusal is a snapshot file the watcher refused, for /healthz.
type refusal struct {
	file  string
	mtime time.Time // the file's, as the watcher ordered it
	err   string
	at    time.Time // when it was refused
}

// maxRefusalError bounds the error /healthz repeats: a file with
// thousands of problems is named, not copied.
const maxRefusalError = 4 << 10

// configRefused records that the watcher refused file. Only the newest
// refused file is kept: the watcher tries the newest first, and may then
// put an older valid one in force (configApplied), which leaves the
// refusal of the newer one standing.
func (o *hubObs) configRefused(ev eventConfigRefused) {
	if r := o.refused; r != nil && newerFile(r.mtime, r.file, ev.mtime, ev.file) {
		return
	}
	msg := ev.err.Error()
	if len(msg) > maxRefusalError {
		cut := maxRefusalError
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	o.refused = &refusal{file: ev.file, mtime: ev.mtime, err: msg, at: ev.at}
}

// configApplied forgets the refusal once a snapshot at least as new as the
// refused file is in force (the refused file written again, valid, or a
// newer one).
func (o *hubObs) configApplied(file string, mtime time.Time) {
	if r := o.refused; r != nil && !newerFile(r.mtime, r.file, mtime, file) {
		o.refused = nil
	}
}

// newerFile reports whether the file (at, a) is newer than (bt, b) in
// the watcher's order: the later modification time, ties going to the
// greater base name (cti/config/watcher.go).
func newerFile(at time.Time, a string, bt time.Time, b string) bool {
	return at.After(bt) || at.Equal(bt) && filepath.Base(a) > filepath.Base(b)
}

func (o *hubObs) linkUp(up *ami.LinkUp) {
	o.link, o.linkSince, o.linkErr = up, time.Now(), ""
}

func (o *hubObs) linkDown(err error) {
	o.linkSince, o.linkErr = time.Now(), err.Error()
}

// errHubBusy is the error of askHub when the hub did not answer in time.
var errHubBusy = errors.New("cti: the hub did not answer in time")

// errHubStopped is the error of askHub once the hub has stopped.
var errHubStopped = errors.New("cti: the hub has stopped")

// askHub runs fn on the hub's goroutine and returns its result, or an
// error when the hub has stopped or ctx ends first. fn must return copies,
// never the hub's own maps or sessions: it runs on the hub, its result is
// used on the caller's goroutine. It is safe to call from any goroutine
// but the hub's.
func askHub[T any](ctx context.Context, h *hub, fn func(*hub) T) (T, error) {
	var zero T
	reply := make(chan T, 1) // the hub never blocks on a caller that gave up
	select {
	case h.events <- eventInspect{fn: func(h *hub) { reply <- fn(h) }}:
	case <-h.quit:
		return zero, errHubStopped
	case <-ctx.Done():
		return zero, errHubBusy
	}
	select {
	case v := <-reply:
		return v, nil
	case <-h.quit:
		select {
		case v := <-reply:
			return v, nil
		default:
			return zero, errHubStopped
		}
	case <-ctx.Done():
		return zero, errHubBusy
	}
}

// health is the body of /healthz.
type health struct {
	Healthy  bool           `json:"healthy"`
	Problems []string       `json:"problems,omitempty"`
	AMI      linkHealth     `json:"ami"`
	Config   configHealth   `json:"config"`
	Build    buildinfo.Info `json:"build"`
}

type linkHealth struct {
	Up bool `json:"up"`
	// Since is when the link came up or went down, as Up says.
	Since time.Time `json:"since,omitzero"`
	// Links is how many links came up since the server started.
	Links int `json:"links,omitempty"`
	// ManagerVersion is the version of the manager's banner ("Asterisk
	// Call Manager/11.0.0"): 1.0 for Asterisk 1.4, 11.0.0 for 22.
	ManagerVersion string    `json:"manager_version,omitempty"`
	PBXStarted     time.Time `json:"pbx_started,omitzero"` // from CoreStatus; the PBX's clock, zone unknown
	LastError      string    `json:"last_error,omitempty"` // why the link last went down
}

type configHealth struct {
	InForce bool      `json:"in_force"`
	File    string    `json:"file,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Summary string    `json:"summary,omitempty"`
	// Refused, when set, is the newest snapshot of the directory, which
	// the server refused: the one in force (File) stays. It is null, not
	// absent, when there is none, so that a reader (the configurator's
	// Apply page) tells this server's "none" from an older server's
	// silence.
	Refused *refusedHealth `json:"refused"`
}

type refusedHealth struct {
	File  string    `json:"file"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// health tells whether the hub can serve: the AMI link up and a
// configuration in force.
func (h *hub) health() health {
	var out health
	out.AMI.Up = h.linkUp
	out.AMI.Since = h.obs.linkSince
	out.AMI.LastError = h.obs.linkErr
	if up := h.obs.link; up != nil {
		out.AMI.Links, out.AMI.ManagerVersion, out.AMI.PBXStarted = up.Link, up.Version, up.StartTime
	}
	if h.snap != nil {
		out.Config = configHealth{InForce: true, File: h.snap.Source, Since: h.obs.snapSince, Summary: h.snap.Summary()}
	}
	if r := h.obs.refused; r != nil {
		out.Config.Refused = &refusedHealth{File: r.file, Error: r.err, At: r.at}
	}
	if !out.AMI.Up {
		out.Problems = append(out.Problems, "the AMI link is down")
	}
	if !out.Config.InForce {
		out.Problems = append(out.Problems, "no configuration in force")
	}
	out.Healthy = len(out.Problems) == 0
	return out
}

// status is the body of /status.
type status struct {
	Time   time.Time            `json:"time"`
	Seats  []seatStatus         `json:"seats"`
	Calls  []calls.ServiceCount `json:"calls"`
	Closed []closedSeat         `json:"closed"` // the last sessions that ended, newest first
}

type seatStatus struct {
	Seat         uint64        `json:"seat"` // the connection's number in the logs (seat=)
	Remote       string        `json:"remote"`
	Operator     string        `json:"operator"`
	MAC          string        `json:"mac,omitempty"`
	Interface    string        `json:"interface,omitempty"`
	Paused       bool          `json:"paused"`
	PauseReason  string        `json:"pause_reason,omitempty"`
	PausedSince  time.Time     `json:"paused_since,omitzero"`   // when the PBX confirmed the PAUSE IN; absent when unknown (begin paused)
	PausePending bool          `json:"pause_pending,omitempty"` // a PAUSE waits for the PBX
	Queues       []queueStatus `json:"queues"`
}

type queueStatus struct {
	Queue string `json:"queue"`
	State string `json:"state"` // confirmed, pending or refused (metrics.Member*)
}

// status copies the live state /status shows.
func (h *hub) status() status {
	out := status{Time: time.Now(), Seats: make([]seatStatus, 0, len(h.sessions)), Calls: h.tracker.Census(), Closed: h.obs.closed.list()}
	for _, s := range h.sessions {
		st := seatStatus{
			Seat: s.conn.id, Remote: s.conn.remote, Operator: s.operator,
			MAC: s.seatMAC, Interface: s.iface, Paused: s.paused, PausePending: s.pause != nil,
			Queues: make([]queueStatus, 0, len(s.members)),
		}
		if s.paused {
			st.PauseReason, st.PausedSince = s.pauseReason, s.pausedSince
		}
		for q, m := range s.members {
			st.Queues = append(st.Queues, queueStatus{Queue: q, State: m.state()})
		}
		slices.SortFunc(st.Queues, func(a, b queueStatus) int { return cmp.Compare(a.Queue, b.Queue) })
		out.Seats = append(out.Seats, st)
	}
	slices.SortFunc(out.Seats, func(a, b seatStatus) int { return cmp.Compare(a.Operator, b.Operator) })
	return out
}

// state names the membership's state for /status and the metrics.
func (m *membership) state() string {
	switch {
	case m.confirmed:
		return metrics.MemberConfirmed
	case m.refused:
		return metrics.MemberRefused
	}
	return metrics.MemberPending
}

// sample counts the gauges the hub owns, for a scrape.
func (h *hub) sample() metrics.Sample {
	h.trackerDrops(time.Now()) // the drop counters, up to date
	out := metrics.Sample{
		Hub: true, SeatsLoggedIn: len(h.sessions), TrackerChannels: h.tracker.Len(),
		ActionsInFlight: h.out.inFlight, ActionsWaiting: h.out.len(),
	}
	for _, sc := range h.tracker.Census() {
		out.CallsActive += sc.Calls
	}
	for _, s := range h.sessions {
		for _, m := range s.members {
			switch m.state() {
			case metrics.MemberConfirmed:
				out.MembersConfirmed++
			case metrics.MemberRefused:
				out.MembersRefused++
			default:
				out.MembersPending++
			}
		}
	}
	return out
}
