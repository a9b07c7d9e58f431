package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/fakeami"
)

// TestRunPBXChild runs the fake PBX child in this process: it writes its
// ready line, serves both addresses, and once ctx is done it has stopped
// everything, so both addresses refuse connections.
func TestRunPBXChild(t *testing.T) {
	spec := func(edit func(*pbxSpec)) string {
		s := pbxSpec{Dialect: "modern", Scenario: string(fakeami.LoadScenario(10, "rrmemory", 100*time.Millisecond, time.Second)),
			Username: "u", Secret: "s", Seed: 1, LogLevel: "error"}
		if edit != nil {
			edit(&s)
		}
		b, err := json.Marshal(s)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name    string
		spec    string
		wantErr string // "": it serves until ctx is done
	}{
		{name: "serves", spec: spec(nil)},
		{name: "bad spec", spec: "{", wantErr: "loadgen: pbx spec"},
		{name: "bad dialect", spec: spec(func(s *pbxSpec) { s.Dialect = "2.0" }), wantErr: "dialect"},
		{name: "bad log level", spec: spec(func(s *pbxSpec) { s.LogLevel = "loud" }), wantErr: "loadgen: log level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				err := runPBXChild(ctx, []byte(tc.spec), pw)
				pw.Close()
				done <- err
			}()
			if tc.wantErr != "" {
				_, _ = io.Copy(io.Discard, pr)
				err := <-done
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr, "runPBXChild(%q)", tc.spec)
				return
			}

			line, err := bufio.NewReader(pr).ReadString('\n')
			require.NoError(t, err, "the ready line")
			go io.Copy(io.Discard, pr)
			var ready pbxReady
			require.NoError(t, json.Unmarshal([]byte(line), &ready), "ready line %q", line)
			conn, err := net.Dial("tcp", ready.AMI)
			require.NoError(t, err)
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			banner, err := bufio.NewReader(conn).ReadString('\n')
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(banner, "Asterisk Call Manager/"), "banner %q", banner)
			conn.Close()
			resp, err := http.Get(ready.Control + "/stats")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /stats")

			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "runPBXChild once ctx is done")
			case <-time.After(10 * time.Second):
				t.Fatal("runPBXChild has not returned 10 s after ctx was done")
			}
			for _, addr := range []string{ready.AMI, strings.TrimPrefix(ready.Control, "http://")} {
				if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					c.Close()
					t.Errorf("%s accepts connections after runPBXChild returned", addr)
				}
			}
		})
	}
}
