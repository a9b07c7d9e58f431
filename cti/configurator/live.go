package configurator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Live module: what the running server is doing, read from its admin
// endpoints (--server-admin: GET /healthz and /status, cti/admin.go): the
// AMI link, the snapshot in force, the seats logged in with their
// operator, queues and pause, the calls in progress per service.
//
// The page is rendered by the server first (html/template), so that it is
// readable before, or without, its script; assets/live.js then reads
// /live.json every liveRefresh and updates the page in place, with
// textContent only: operator names and pause reasons come from the seats
// and are hostile input.
//
// However many browsers show the page, the configurator reads the server
// at most once per Config.LiveCacheTTL, one read at a time (liveCache): a browser
// never makes the configurator hammer the server.

const (
	livePath     = "/live"
	liveJSONPath = "/live.json"
	// liveMaxSeats is how many seats the page lists: a large centre's
	// thousands are counted, and searched, not all drawn every 2 s.
	liveMaxSeats = 500
	// maxLiveQuery bounds the search text.
	maxLiveQuery = 100
)

// liveQuery is the page's search text (?q=), trimmed and bounded.
func liveQuery(r *http.Request) string {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxLiveQuery {
		q = strings.ToValidUTF8(q[:maxLiveQuery], "")
	}
	return q
}

func (h *Handler) liveRoutes(mux *routeMux) {
	h.live = &liveCache{admin: strings.TrimSuffix(h.cfg.ServerAdmin, "/"), log: h.log, ttl: h.cfg.LiveCacheTTL}
	mux.HandleFunc("GET "+livePath, func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusOK, "live", "Live", livePath, h.liveView(r.Context(), liveQuery(r)))
	})
	mux.HandleFunc("GET "+liveJSONPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h.liveView(r.Context(), liveQuery(r))) // escapes <, > and & too
	})
}

// liveView is what the page shows, as the template and live.js both use
// it: every text is ready to print, so that the first render and the
// refreshes say the same.
type liveView struct {
	// Enabled is false without --server-admin.
	Enabled bool `json:"enabled"`
	// Reached is false when the server could not be read: Error says why,
	// and nothing else is known.
	Reached bool   `json:"reached"`
	Error   string `json:"error,omitempty"`
	// Checked is when the server was read.
	Checked string     `json:"checked,omitempty"`
	Link    liveLink   `json:"link"`
	Config  liveConfig `json:"config"`
	// Query is the search text; Src the JSON the script reads for it.
	Query string `json:"query"`
	Src   string `json:"-"`
	// Seats are the first liveMaxSeats of the Matching seats logged in
	// (those whose operator, MAC, interface or queue has Query), of
	// SeatsTotal; Paused counts the paused among every seat.
	Seats      []liveSeat `json:"seats"`
	Matching   int        `json:"seats_matching"`
	SeatsTotal int        `json:"seats_total"`
	Paused     int        `json:"seats_paused"`
	Calls      []liveCall `json:"calls"`
}

// More says that some matching seats are not listed.
func (v liveView) More() bool { return v.Matching > len(v.Seats) }

type liveLink struct {
	Up        bool   `json:"up"`
	State     string `json:"state"` // "The AMI link is up.": without a time, for the aria-live region
	Since     string `json:"since"`
	LastError string `json:"last_error"`
	Version   string `json:"version"`
	Links     int    `json:"links"`
}

type liveConfig struct {
	InForce     bool   `json:"in_force"`
	File        string `json:"file"`
	Since       string `json:"since"`
	Summary     string `json:"summary"`
	RefusedFile string `json:"refused_file,omitempty"`
	Refused     string `json:"refused,omitempty"`
}

type liveSeat struct {
	Operator  string      `json:"operator"`
	MAC       string      `json:"mac"`
	Interface string      `json:"interface"`
	Paused    bool        `json:"paused"`
	Pause     string      `json:"pause"`       // "Available", "Paused: lunch", "Pause pending"
	Since     string      `json:"pause_since"` // when the pause was confirmed, "" when unknown
	Queues    []liveQueue `json:"queues"`
}

type liveQueue struct {
	Queue string `json:"queue"`
	State string `json:"state"` // confirmed, pending, refused
}

type liveCall struct {
	Service  string `json:"service"`
	Calls    int    `json:"calls"`
	Answered int    `json:"answered"`
}

// liveView reads the server (through the cache) and makes the page's view.
func (h *Handler) liveView(ctx context.Context, query string) liveView {
	v := liveView{Enabled: h.cfg.ServerAdmin != "", Query: query, Src: liveJSONPath}
	if query != "" {
		v.Src += "?q=" + url.QueryEscape(query)
	}
	if !v.Enabled {
		return v
	}
	rd := h.live.get(ctx)
	if rd.err != "" {
		v.Error = "The server could not be read: " + rd.err
		return v
	}
	now := time.Now()
	v.Reached, v.Checked = true, stamp(rd.at)
	a := rd.health.AMI
	v.Link = liveLink{Up: a.Up, State: "The AMI link is down.", Since: orText(since(a.Since, now), "unknown"),
		LastError: orText(a.LastError, "none"), Version: orText(a.ManagerVersion, "unknown"), Links: a.Links}
	if a.Up {
		v.Link.State = "The AMI link is up."
	}
	c := rd.health.Config
	v.Config = liveConfig{InForce: c.InForce, File: orText(c.File, "none"), Since: orText(since(c.Since, now), "unknown"), Summary: orText(c.Summary, "no configuration in force")}
	if c.Refused != nil {
		v.Config.RefusedFile, v.Config.Refused = c.Refused.File, c.Refused.Error
	}
	v.SeatsTotal = len(rd.status.Seats)
	v.Seats = make([]liveSeat, 0, min(len(rd.status.Seats), liveMaxSeats))
	for _, s := range rd.status.Seats {
		if s.Paused {
			v.Paused++
		}
		if !seatMatches(s, query) {
			continue
		}
		if v.Matching++; len(v.Seats) == liveMaxSeats {
			continue
		}
		ls := liveSeat{Operator: s.Operator, MAC: s.MAC, Interface: s.Interface, Paused: s.Paused, Pause: "Available",
			Queues: make([]liveQueue, 0, len(s.Queues))}
		switch {
		case s.PausePending:
			ls.Pause = "Pause pending"
			if !s.Paused {
				ls.Pause = "Pause ending"
			}
		case s.Paused && s.PauseReason != "":
			ls.Pause = "Paused: " + s.PauseReason
		case s.Paused:
			ls.Pause = "Paused"
		}
		if s.Paused {
			ls.Since = since(s.PausedSince, now)
		}
		for _, q := range s.Queues {
			ls.Queues = append(ls.Queues, liveQueue(q))
		}
		v.Seats = append(v.Seats, ls)
	}
	v.Calls = make([]liveCall, 0, len(rd.status.Calls))
	for _, c := range rd.status.Calls {
		v.Calls = append(v.Calls, liveCall{Service: c.Service, Calls: c.Calls, Answered: c.Answered})
	}
	return v
}

// seatMatches reports whether query, ignoring case, is in the seat's
// operator, MAC, interface or one of its queues; "" matches every seat.
func seatMatches(s liveStatusSeat, query string) bool {
	if query == "" {
		return true
	}
	has := func(t string) bool { return containsFold(t, query) }
	if has(s.Operator) || has(s.MAC) || has(s.Interface) {
		return true
	}
	return slices.ContainsFunc(s.Queues, func(q liveStatusQueue) bool { return has(q.Queue) })
}

// containsFold reports whether sub is in s, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// orText is s, or none when s is empty.
func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// stamp prints a time of the page.
func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }

// since prints t with how long ago it was, "" for the zero time.
func since(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t) + " (" + ago(now.Sub(t)) + ")"
}

// ago says how long d is, as a person reading a wallboard wants it.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d d %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// liveHealth is what the Live page reads of the server's /healthz
// (cti/status.go, health).
type liveHealth struct {
	AMI struct {
		Up             bool      `json:"up"`
		Since          time.Time `json:"since"`
		Links          int       `json:"links"`
		ManagerVersion string    `json:"manager_version"`
		LastError      string    `json:"last_error"`
	} `json:"ami"`
	Config struct {
		InForce bool           `json:"in_force"`
		File    string         `json:"file"`
		Since   time.Time      `json:"since"`
		Summary string         `json:"summary"`
		Refused *serverRefusal `json:"refused"`
	} `json:"config"`
}

// liveStatus is what the Live page reads of the server's /status
// (cti/status.go, status).
type liveStatus struct {
	Seats []liveStatusSeat `json:"seats"`
	Calls []struct {
		Service  string `json:"service"`
		Calls    int    `json:"calls"`
		Answered int    `json:"answered"`
	} `json:"calls"`
}

type liveStatusSeat struct {
	Operator     string            `json:"operator"`
	MAC          string            `json:"mac"`
	Interface    string            `json:"interface"`
	Paused       bool              `json:"paused"`
	PauseReason  string            `json:"pause_reason"`
	PausedSince  time.Time         `json:"paused_since"`
	PausePending bool              `json:"pause_pending"`
	Queues       []liveStatusQueue `json:"queues"`
}

type liveStatusQueue struct {
	Queue string `json:"queue"`
	State string `json:"state"`
}

// liveRead is one reading of the server: its /healthz and /status, or why
// they could not be read.
type liveRead struct {
	at     time.Time
	health liveHealth
	status liveStatus
	err    string
}

// liveCache shares the last reading of the server among every browser
// for ttl, and makes one reading at a time. It is safe for
// concurrent use.
type liveCache struct {
	admin string // the server's admin URL, without the final /
	log   *slog.Logger

	// ttl is how long a reading serves; guarded by mu (tests change it).
	ttl time.Duration

	mu     sync.Mutex
	last   liveRead      // guarded by mu
	flight chan struct{} // closed when the reading in flight ends; nil when none; guarded by mu
	// waiting counts the calls waiting for the reading in flight (tests
	// read it); guarded by mu.
	waiting int
	// lastErr is the error of the last reading, "" for none; only the
	// reading in flight uses it.
	lastErr string
}

// get returns a reading of the server no older than ttl, or the
// one in flight, which it waits for (until ctx ends), or a new one.
func (c *liveCache) get(ctx context.Context) liveRead {
	c.mu.Lock()
	if !c.last.at.IsZero() && time.Since(c.last.at) < c.ttl {
		rd := c.last
		c.mu.Unlock()
		return rd
	}
	if flight := c.flight; flight != nil {
		c.waiting++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.waiting--
			c.mu.Unlock()
		}()
		select {
		case <-flight:
		case <-ctx.Done():
			return liveRead{err: "the request ended before the server answered"}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last // the reading waited for, or a newer one
	}
	flight := make(chan struct{})
	c.flight = flight
	c.mu.Unlock()

	// The reading serves others than this request: a browser that leaves
	// does not cut it short. ServerTimeout bounds it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ServerTimeout)
	rd := c.read(rctx)
	cancel()

	c.mu.Lock()
	c.last, c.flight = rd, nil
	close(flight)
	c.mu.Unlock()
	return rd
}

// read reads the server's /healthz, then its /status, each answer within
// maxServerBody.
func (c *liveCache) read(ctx context.Context) liveRead {
	var rd liveRead
	err := readServerJSON(ctx, c.admin+"/healthz", "health", maxServerBody, &rd.health)
	if err == nil {
		err = readServerJSON(ctx, c.admin+"/status", "status", maxStatusBody, &rd.status)
	}
	rd.at = time.Now()
	if err != nil {
		rd.err = err.Error()
	}
	// Logged when it changes, not at every reading of a server that is
	// down.
	switch {
	case rd.err != "" && rd.err != c.lastErr:
		c.log.Info("live view: the server's admin endpoint could not be read", "url", c.admin, "err", err)
	case rd.err == "" && c.lastErr != "":
		c.log.Info("live view: the server's admin endpoint answers again", "url", c.admin)
	}
	c.lastErr = rd.err
	return rd
}
