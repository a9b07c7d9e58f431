package cti

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHealthSample: the recorded /healthz answer with which the
// configurator's tests stand in for the server
// (configurator/testdata/healthz.json) has the shape of the real one,
// health: a field renamed or removed here fails this test rather than
// leaving the configurator reading a key the server no longer sends.
func TestHealthSample(t *testing.T) {
	b, err := os.ReadFile("configurator/testdata/healthz.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var h health
	require.NoError(t, dec.Decode(&h))
	require.True(t, h.Config.InForce)
	require.NotEmpty(t, h.Config.File)

	real, err := json.Marshal(health{Config: configHealth{InForce: true, File: "/etc/astcti/a.db", Since: time.Now()}})
	require.NoError(t, err)
	var back struct{ Config map[string]any }
	require.NoError(t, json.Unmarshal(real, &back))
	for _, k := range []string{"in_force", "file", "since", "refused"} {
		require.Contains(t, back.Config, k)
	}
	require.Nil(t, back.Config["refused"], "none refused: null")

	// The sample of a server that refused the newest snapshot.
	b, err = os.ReadFile("configurator/testdata/healthz-refused.json")
	require.NoError(t, err)
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	h = health{}
	require.NoError(t, dec.Decode(&h))
	require.NotNil(t, h.Config.Refused)
	require.NotEmpty(t, h.Config.Refused.File)
	require.NotEmpty(t, h.Config.Refused.Error)
	require.False(t, h.Config.Refused.At.IsZero())
}

// TestStatusSample: the recorded /status answer of the configurator's
// live view tests (configurator/testdata/status.json) has the shape of
// the real one, status.
func TestStatusSample(t *testing.T) {
	b, err := os.ReadFile("configurator/testdata/status.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st status
	require.NoError(t, dec.Decode(&st))
	require.NotEmpty(t, st.Seats)
	require.NotEmpty(t, st.Seats[0].Queues)
	require.NotEmpty(t, st.Calls)
	require.False(t, st.Seats[0].PausedSince.IsZero())
}
