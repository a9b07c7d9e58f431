package configurator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeAdmin stands in for the server's admin endpoints (cti/admin.go):
// /healthz and /status answer the recorded samples of testdata, which
// cti's TestHealthSample and TestStatusSample hold to the server's own
// types, as the test changes them (edit). down makes it answer 503 with
// the hub's error, as a server whose hub is stuck does; Close stops it.
type fakeAdmin struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	health map[string]any // /healthz's body
	status map[string]any // /status's body
	hits   atomic.Int64   // requests answered
	// gate, when set, holds every request until it is closed.
	gate chan struct{}
}

// newFakeAdmin serves a server that runs file and refused none.
func newFakeAdmin(t *testing.T, file string) *fakeAdmin {
	f := &fakeAdmin{t: t, health: readSample(t, "testdata/healthz-refused.json"), status: readSample(t, "testdata/status.json")}
	f.edit(func(h, _ map[string]any) {
		cfg := configOf(h)
		cfg["file"], cfg["refused"] = "/etc/astcti/"+file, nil
	})
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func readSample(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// edit changes the answers; fn gets /healthz's and /status's bodies.
func (f *fakeAdmin) edit(fn func(health, status map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.health, f.status)
}

// configOf is /healthz's config object, to edit within edit.
func configOf(h map[string]any) map[string]any { return h["config"].(map[string]any) }

func (f *fakeAdmin) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.hits.Add(1)
	f.mu.Lock()
	var body any
	code := http.StatusOK
	switch r.URL.Path {
	case "/healthz":
		body = f.health
		if ok, _ := f.health["healthy"].(bool); !ok {
			code = http.StatusServiceUnavailable
		}
	case "/status":
		body = f.status
	}
	b, err := json.Marshal(body)
	f.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	require.NoError(f.t, err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
