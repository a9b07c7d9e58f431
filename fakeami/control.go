package fakeami

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/astcti/astcti/scenarios"
)

// maxScenarioBody bounds a scenario posted to the control API.
var maxScenarioBody int64 = 1 << 20

// Control serves the fake PBX's HTTP control API, which tests, demos and
// load runs use to drive it:
//
//	GET  /state       the whole model as JSON: channels, queues with members
//	GET  /channels    the live channels
//	GET  /queues      the queues, with their waiting callers and members
//	GET  /members     every queue membership, one entry per queue and member
//	GET  /actions     the manager actions received so far, oldest first
//	POST /scenario    play the scenario in the body (scenario file text) now
//	POST /restart     restart the PBX: hang up every call, drop every session
//	POST /replay      start a replay that waits for it (fakeami --replay-wait)
type Control struct {
	PBX    *PBX    // nil in replay mode
	Server *Server // the manager server
}

// QueueMembership is one entry of GET /members.
type QueueMembership struct {
	Queue string `json:"queue"`
	MemberSnapshot
}

// Handler returns the control API's handler.
func (c *Control) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", c.withPBX(func(w http.ResponseWriter, st State) { writeJSON(w, st) }))
	mux.HandleFunc("GET /channels", c.withPBX(func(w http.ResponseWriter, st State) { writeJSON(w, st.Channels) }))
	mux.HandleFunc("GET /queues", c.withPBX(func(w http.ResponseWriter, st State) { writeJSON(w, st.Queues) }))
	mux.HandleFunc("GET /members", c.withPBX(func(w http.ResponseWriter, st State) {
		members := []QueueMembership{}
		for _, q := range st.Queues {
			for _, m := range q.Members {
				members = append(members, QueueMembership{Queue: q.Name, MemberSnapshot: m})
			}
		}
		writeJSON(w, members)
	}))
	mux.HandleFunc("GET /actions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, c.Server.Actions())
	})
	mux.HandleFunc("POST /scenario", c.postScenario)
	mux.HandleFunc("POST /restart", c.postRestart)
	mux.HandleFunc("POST /replay", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]int{"started": c.Server.StartReplay()})
	})
	return mux
}

// withPBX serves a view of the model's state, or 404 in replay mode.
func (c *Control) withPBX(view func(http.ResponseWriter, State)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.PBX == nil {
			http.Error(w, errReplaying, http.StatusNotFound)
			return
		}
		view(w, c.PBX.State())
	}
}

const errReplaying = "no PBX model: fakeami is replaying a recording"

func (c *Control) postScenario(w http.ResponseWriter, r *http.Request) {
	if c.PBX == nil {
		http.Error(w, errReplaying, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxScenarioBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("reading scenario: %v", err), http.StatusRequestEntityTooLarge)
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "posted"
	}
	sc, err := scenarios.ParseFragment(name, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := c.PBX.Play(sc); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	writeJSON(w, map[string]any{"played": name, "calls": len(sc.Calls)})
}

func (c *Control) postRestart(w http.ResponseWriter, r *http.Request) {
	if c.PBX == nil {
		http.Error(w, errReplaying, http.StatusNotFound)
		return
	}
	c.PBX.Shutdown()
	c.Server.DropSessions()
	writeJSON(w, map[string]string{"restarted": "ok"})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
