package cti_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/scenarios"
)

// healthBody is what the tests read of /healthz.
type healthBody struct {
	Healthy  bool
	Problems []string
	AMI      struct {
		Up             bool
		Links          int
		ManagerVersion string `json:"manager_version"`
		LastError      string `json:"last_error"`
	}
	Config struct {
		InForce bool `json:"in_force"`
		File    string
		Refused *struct {
			File, Error string
			At          time.Time
		}
	}
	Build struct {
		Version, Commit string
		GoVersion       string `json:"go_version"`
	}
}

func getHealth(t *testing.T, srv *ctitest.Server) (int, healthBody) {
	t.Helper()
	code, body := ctitest.Get(t, http.MethodGet, srv.AdminURL()+"/healthz")
	var h healthBody
	require.NoError(t, json.Unmarshal([]byte(body), &h), "GET /healthz: %s", body)
	return code, h
}

// waitHealth polls /healthz until it answers code.
func waitHealth(t *testing.T, srv *ctitest.Server, code int) healthBody {
	t.Helper()
	var h healthBody
	ctitest.WaitFor(t, "/healthz to answer "+http.StatusText(code), func() error {
		var got int
		got, h = getHealth(t, srv)
		if got != code {
			return &statusError{got}
		}
		return nil
	})
	return h
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.code) }

// TestAdminHealth: /healthz says 200 while the AMI link is up and 503
// while it is down, and why, with the build and the configuration in
// force either way.
func TestAdminHealth(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})

	code, h := getHealth(t, srv)
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, h.Healthy)
	assert.Empty(t, h.Problems)
	assert.True(t, h.AMI.Up)
	assert.Equal(t, 1, h.AMI.Links)
	assert.NotEmpty(t, h.AMI.ManagerVersion)
	assert.True(t, h.Config.InForce)
	assert.NotEmpty(t, h.Config.File)
	assert.Equal(t, runtime.Version(), h.Build.GoVersion)
	assert.NotEmpty(t, h.Build.Version)
	assert.NotEmpty(t, h.Build.Commit)

	pbx.StopManager()
	h = waitHealth(t, srv, http.StatusServiceUnavailable)
	assert.False(t, h.Healthy)
	assert.Contains(t, h.Problems, "the AMI link is down")
	assert.False(t, h.AMI.Up)
	assert.NotEmpty(t, h.AMI.LastError)
	assert.True(t, h.Config.InForce, "the configuration stays in force")

	pbx.StartManager()
	h = waitHealth(t, srv, http.StatusOK)
	assert.Equal(t, 2, h.AMI.Links)
}

// TestAdminHealthRefused: /healthz's config names the newest snapshot of
// the directory when the server refused it, and why, while the one in
// force stays; an older valid file put in force meanwhile leaves the
// refusal standing; a newer valid snapshot clears it, and so does
// deleting the refused file.
func TestAdminHealthRefused(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})
	_, h := getHealth(t, srv)
	require.True(t, h.Config.InForce)
	require.Nil(t, h.Config.Refused)
	first := h.Config.File

	// waitConfig polls /healthz until check accepts its config.
	waitConfig := func(what string, check func(h healthBody) error) healthBody {
		t.Helper()
		var h healthBody
		ctitest.WaitFor(t, what, func() error {
			_, h = getHealth(t, srv)
			return check(h)
		})
		return h
	}
	refusedIs := func(file string) func(h healthBody) error {
		return func(h healthBody) error {
			if h.Config.Refused == nil || h.Config.Refused.File != file {
				return fmt.Errorf("refused = %+v, want %s", h.Config.Refused, file)
			}
			return nil
		}
	}

	info, err := os.Stat(first)
	require.NoError(t, err)
	bad := filepath.Join(srv.Dir, config.SnapshotName(".xml"))
	require.NoError(t, os.WriteFile(bad, []byte(`<astcti-config version="1"><seat mac="bad" interface="SIP/1"/></astcti-config>`), 0o644))
	h = waitConfig("the bad snapshot to be refused", refusedIs(bad))
	assert.Contains(t, h.Config.Refused.Error, "line 1")
	assert.Contains(t, h.Config.Refused.Error, "MAC")
	assert.False(t, h.Config.Refused.At.IsZero())
	assert.Equal(t, first, h.Config.File, "the snapshot in force stays")
	assert.True(t, h.Healthy, "a refused snapshot does not stop the server")

	// A valid file older than the refused one, newer than the one in
	// force (copied with its time kept, as cp -p does): in force, and the
	// newest file stays refused. It is timed elsewhere, then moved in.
	badInfo, err := os.Stat(bad)
	require.NoError(t, err)
	elsewhere, err := config.WriteSnapshot(context.Background(), t.TempDir(), config.Demo())
	require.NoError(t, err)
	mid := info.ModTime().Add(badInfo.ModTime().Sub(info.ModTime()) / 2)
	require.NoError(t, os.Chtimes(elsewhere, mid, mid))
	between := filepath.Join(srv.Dir, filepath.Base(elsewhere))
	require.NoError(t, os.Rename(elsewhere, between))
	srv.Reload()
	h = waitConfig("the older valid snapshot in force", func(h healthBody) error {
		if h.Config.File != between {
			return fmt.Errorf("in force %s, want %s", h.Config.File, between)
		}
		return nil
	})
	require.NotNil(t, h.Config.Refused, "the newest file is still refused")
	assert.Equal(t, bad, h.Config.Refused.File)

	good, err := config.WriteSnapshot(context.Background(), srv.Dir, config.Demo())
	require.NoError(t, err)
	h = waitConfig("the good snapshot in force", func(h healthBody) error {
		if h.Config.File != good {
			return fmt.Errorf("in force %s, want %s", h.Config.File, good)
		}
		return nil
	})
	assert.Nil(t, h.Config.Refused, "a newer snapshot in force clears the refusal")

	bad2 := filepath.Join(srv.Dir, config.SnapshotName(".xml"))
	require.NoError(t, os.WriteFile(bad2, []byte("<astcti-config"), 0o644))
	waitConfig("the second bad snapshot to be refused", refusedIs(bad2))
	require.NoError(t, os.Remove(bad2))
	waitConfig("the deleted file's refusal to be gone", func(h healthBody) error {
		if h.Config.Refused != nil {
			return errors.New("still refused")
		}
		return nil
	})
}

// TestAdminHealthNoPBX: the admin endpoints listen before the first AMI
// login, and say 503 until it comes.
func TestAdminHealthNoPBX(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	srv := ctitest.New(t, ctitest.Options{AMI: ctitest.AMIConfig(refused), Admin: true})

	code, h := getHealth(t, srv)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, []string{"the AMI link is down"}, h.Problems)
	assert.Zero(t, h.AMI.Links)
}

// statusBody is what the tests read of /status.
type statusBody struct {
	Seats []struct {
		Operator, Interface, MAC string
		Paused                   bool
		PauseReason              string    `json:"pause_reason"`
		PausedSince              time.Time `json:"paused_since"`
		Queues                   []struct{ Queue, State string }
	}
	Calls []struct {
		Service         string
		Calls, Answered int
	}
	Closed []struct{ Operator, Interface, Reason string }
}

func getStatus(t *testing.T, srv *ctitest.Server) statusBody {
	t.Helper()
	code, body := ctitest.Get(t, http.MethodGet, srv.AdminURL()+"/status")
	require.Equal(t, http.StatusOK, code, "GET /status: %s", body)
	var st statusBody
	require.NoError(t, json.Unmarshal([]byte(body), &st), "GET /status: %s", body)
	return st
}

// TestAdminStatus: /status shows the seat logged in, its queue and pause,
// the call it answered, and the session that ended and why.
func TestAdminStatus(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})
	bob := srv.Dial()
	bob.Login("bob", "bob", "")
	bob.Expect(`^200 astcti-queue$`)
	bob.Quit()
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	alice.Send("PAUSE IN lunch")
	alice.Expect(`^300 OK$`)

	st := getStatus(t, srv)
	require.Len(t, st.Seats, 1)
	seat := st.Seats[0]
	assert.Equal(t, "alice", seat.Operator)
	assert.Equal(t, "SIP/201", seat.Interface)
	assert.Equal(t, "00:11:22:33:44:01", seat.MAC)
	assert.True(t, seat.Paused)
	assert.Equal(t, "lunch", seat.PauseReason)
	assert.False(t, seat.PausedSince.IsZero(), "paused since the PBX confirmed it")
	require.Len(t, seat.Queues, 1)
	assert.Equal(t, "astcti-queue", seat.Queues[0].Queue)
	assert.Equal(t, "confirmed", seat.Queues[0].State)
	assert.Empty(t, st.Calls)
	require.Len(t, st.Closed, 1)
	assert.Equal(t, "bob", st.Closed[0].Operator)
	assert.Equal(t, "SIP/202", st.Closed[0].Interface)
	assert.Equal(t, "quit", st.Closed[0].Reason)

	alice.Send("PAUSE OUT")
	alice.Expect(`^300 OK$`)
	playAnsweredCall(t, pbx, alice)
	st = getStatus(t, srv)
	require.Len(t, st.Seats, 1)
	assert.False(t, st.Seats[0].Paused)
	assert.Empty(t, st.Seats[0].PauseReason)
	assert.True(t, st.Seats[0].PausedSince.IsZero())
	require.Len(t, st.Calls, 1)
	assert.Equal(t, "support", st.Calls[0].Service)
	assert.Equal(t, 1, st.Calls[0].Calls)
	assert.Equal(t, 1, st.Calls[0].Answered)
}

// playAnsweredCall plays a call into the demo's queue service that the
// seat's phone (SIP/201) answers at once and keeps, and waits for the
// seat's Link.
func playAnsweredCall(t *testing.T, pbx *ctitest.PBX, seat *ctitest.Seat) {
	t.Helper()
	sc, err := scenarios.ParseFragment("answered.txtar", []byte(
		"-- phones --\nSIP/201 answers at once talks 10m\n"+
			"-- calls --\nat 0s from \"Caller\" <5001> to 102@from-trunk\n"))
	require.NoError(t, err)
	require.NoError(t, pbx.PBX.Play(sc))
	seat.Expect(`^<event id="Link">.*<calleridnum>5001</calleridnum>`)
}

// TestAdminMetrics: /metrics parses with the Prometheus text parser and
// counts what happened: logins and refusals by reason, the seats
// connected, the Link notified, the actions answered; with the Go and
// process collectors the load generator reads. Two servers in one
// process keep their metrics apart.
func TestAdminMetrics(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})
	other := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})
	url := srv.AdminURL() + "/metrics"

	refused := srv.Dial()
	refused.Next() // welcome
	for _, l := range []string{"USER alice", "PASS " + config.MD5Hex("wrong"), "USER mallory", "PASS " + config.MD5Hex("x")} {
		refused.Send(l)
	}
	refused.Expect(`^101 KO authentication failed$`)
	refused.Expect(`^101 KO authentication failed$`)
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)

	m := ctitest.Scrape(t, url)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"astcti_seats_connected", nil, 2},
		{"astcti_seats_logged_in", nil, 1},
		{"astcti_logins_total", nil, 1},
		{"astcti_login_failures_total", []string{"reason", "bad_password"}, 1},
		{"astcti_login_failures_total", []string{"reason", "unknown_operator"}, 1},
		{"astcti_login_failures_total", []string{"reason", "too_many_failures"}, 0},
		{"astcti_ami_link_up", nil, 1},
		{"astcti_ami_reconnects_total", nil, 0},
		{"astcti_resyncs_total", nil, 1},
		{"astcti_queue_memberships", []string{"state", "confirmed"}, 1},
		{"astcti_queue_memberships", []string{"state", "pending"}, 0},
		{"astcti_calls_active", nil, 0},
		{"astcti_ami_actions_in_flight", nil, 0},
		{"astcti_seats_closed_total", []string{"reason", "quit"}, 0},
		{"astcti_build_info", []string{"goversion", runtime.Version()}, 1},
	} {
		got, ok := m.Value(tc.name, tc.labels...)
		if assert.True(t, ok, "%s%v missing", tc.name, tc.labels) {
			assert.Equal(t, tc.want, got, "%s%v", tc.name, tc.labels)
		}
	}
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines"} {
		got, ok := m.Value(name)
		assert.True(t, ok && got > 0, "%s = %v, %v; want > 0", name, got, ok)
	}
	added, ok := m.Value("astcti_ami_action_duration_seconds", "action", "QueueAdd")
	assert.True(t, ok && added >= 1, "QueueAdd latencies observed: %v", added)
	events, ok := m.Value("astcti_ami_events_total", "event", "QueueMemberAdded")
	assert.True(t, ok && events >= 1, "QueueMemberAdded events counted: %v", events)

	refused.Close()
	ctitest.WaitFor(t, "the refused seat to be gone from the metrics", func() error {
		if got, _ := ctitest.Scrape(t, url).Value("astcti_seats_connected"); got != 1 {
			return &statusError{int(got)}
		}
		return nil
	})
	playAnsweredCall(t, pbx, alice)
	m = ctitest.Scrape(t, url)
	notified, _ := m.Value("astcti_notification_latency_seconds")
	assert.Equal(t, 1.0, notified, "one Link notified")
	active, _ := m.Value("astcti_calls_active")
	assert.Equal(t, 1.0, active)
	closed, _ := m.Value("astcti_seats_closed_total", "reason", "connection_closed")
	assert.Equal(t, 1.0, closed)

	o := ctitest.Scrape(t, other.AdminURL()+"/metrics")
	logins, _ := o.Value("astcti_logins_total")
	assert.Zero(t, logins, "the other server's logins")
	connected, _ := o.Value("astcti_seats_connected")
	assert.Zero(t, connected, "the other server's seats")
}

// TestAdminHTTP: only GET (and HEAD) of the known paths are served.
func TestAdminHTTP(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), Admin: true})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/status", http.StatusOK},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
		{http.MethodPut, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/status", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/healthz/x", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			code, body := ctitest.Get(t, tc.method, srv.AdminURL()+tc.path)
			assert.Equal(t, tc.want, code, "%s %s: %s", tc.method, tc.path, body)
		})
	}
}
