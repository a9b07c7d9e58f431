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
	for _, k := range []string{"in_force", "file", "since"} {
		require.Contains(t, back.Config, k)
	}
}
