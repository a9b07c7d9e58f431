package fakeami

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami/amitrace"
	"github.com/astcti/astcti/scenarios"
)

// newServing makes the parts Listen serves: a PBX on the demo scenario
// and its manager server, or, with replay set, a manager server that plays
// a recorded trace and no PBX.
func newServing(t *testing.T, replay bool) (*PBX, *Server) {
	t.Helper()
	if replay {
		tr, err := amitrace.Load(filepath.Join(amitrace.Root(), "asterisk-22.10.1/c_queue_answered.ami"))
		require.NoError(t, err)
		rp, err := NewReplay(tr, 0)
		require.NoError(t, err)
		srv, err := NewServer(Config{Username: "u", Secret: "s3cret", Replay: rp})
		require.NoError(t, err)
		return nil, srv
	}
	sc, err := scenarios.Open("demo")
	require.NoError(t, err)
	pbx, err := NewPBX(Options{Dialect: DialectModern, Scenario: sc, Seed: 1})
	require.NoError(t, err)
	srv, err := NewServer(Config{Dialect: DialectModern, Username: "u", Secret: "s3cret", Engine: pbx, StartTime: pbx.StartTime})
	require.NoError(t, err)
	return pbx, srv
}

// httpConn is a raw HTTP/1.1 connection that stays open between requests.
type httpConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialHTTP(t *testing.T, addr string) *httpConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &httpConn{conn: conn, r: bufio.NewReader(conn)}
}

// get sends GET path and returns the response's status code.
func (c *httpConn) get(t *testing.T, path string) int {
	t.Helper()
	_, err := fmt.Fprintf(c.conn, "GET %s HTTP/1.1\r\nHost: fakeami\r\n\r\n", path)
	require.NoError(t, err)
	resp, err := http.ReadResponse(c.r, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	return resp.StatusCode
}

// refused reports whether nothing listens on addr any more.
func refused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	conn.Close()
	return false
}

// pbxRunning reports whether p's Run is still running.
func pbxRunning(p *PBX) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

func TestListenServesAndStops(t *testing.T) {
	tests := []struct {
		name      string
		replay    bool
		control   bool
		stateCode int // GET /state from the control API
	}{
		{name: "model", replay: false, control: false},
		{name: "model and control API", replay: false, control: true, stateCode: http.StatusOK},
		{name: "replay and control API", replay: true, control: true, stateCode: http.StatusNotFound},
		{name: "replay", replay: true, control: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbx, srv := newServing(t, tc.replay)
			cfg := ServeConfig{Server: srv, PBX: pbx, Listen: "127.0.0.1:0"}
			if tc.control {
				cfg.Control = "127.0.0.1:0"
			}
			r, err := Listen(cfg)
			require.NoError(t, err)
			t.Cleanup(r.Close)
			require.NotEmpty(t, r.Addr)
			assert.Equal(t, tc.control, r.ControlAddr != "", "ControlAddr = %q", r.ControlAddr)

			mgr := dialAMI(t, r.Addr)
			require.Equal(t, "Success", mgr.login().Response())
			var ctl *httpConn
			if tc.control {
				ctl = dialHTTP(t, r.ControlAddr)
				assert.Equal(t, http.StatusOK, ctl.get(t, "/"), "GET /")
				assert.Equal(t, tc.stateCode, ctl.get(t, "/state"), "GET /state")
			}
			if pbx != nil {
				require.Eventually(t, func() bool { return pbxRunning(pbx) }, 5*time.Second, 5*time.Millisecond, "the PBX runs")
			}

			require.NoError(t, r.Stop())
			// Once Stop has returned, every part has ended: nothing is
			// left to wait for.
			if pbx != nil {
				assert.False(t, pbxRunning(pbx), "the PBX's Run has ended")
			}
			for {
				// A replay may be cut in the middle of a frame.
				if _, err := mgr.next(); err != nil {
					var ne net.Error
					assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the manager session is closed, not timed out: %v", err)
					break
				}
			}
			assert.True(t, refused(r.Addr), "the manager address %s refuses connections", r.Addr)
			if tc.control {
				_, err := ctl.r.ReadByte()
				assert.ErrorIs(t, err, io.EOF, "the control API's open connection is closed")
				assert.True(t, refused(r.ControlAddr), "the control address %s refuses connections", r.ControlAddr)
			}
			assert.NoError(t, r.Stop(), "a second Stop")
		})
	}
}

// TestStopWaitsForPBX holds the PBX's lock, which its Run takes to end,
// and expects Stop to return only once the lock is let go.
func TestStopWaitsForPBX(t *testing.T) {
	pbx, srv := newServing(t, false)
	r, err := Listen(ServeConfig{Server: srv, PBX: pbx, Listen: "127.0.0.1:0", Control: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(r.Close)
	require.Eventually(t, func() bool { return pbxRunning(pbx) }, 5*time.Second, 5*time.Millisecond, "the PBX runs")

	pbx.mu.Lock()
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop() }()
	select {
	case err := <-stopped:
		pbx.mu.Unlock()
		t.Fatalf("Stop() = %v while the PBX's Run still waits for its lock, want it to wait", err)
	case <-time.After(100 * time.Millisecond):
	}
	pbx.mu.Unlock()
	select {
	case err := <-stopped:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop has not returned 5 s after the PBX's lock was let go")
	}
	assert.False(t, pbxRunning(pbx), "the PBX's Run has ended")
}

func TestRunningWait(t *testing.T) {
	tests := []struct {
		name    string
		cancel  bool // cancel Wait's context
		closeLn bool // close the manager listener under the server, which fails its Serve
		wantErr error
	}{
		{name: "context done", cancel: true},
		{name: "manager listener fails", closeLn: true, wantErr: net.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbx, srv := newServing(t, false)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			r := Start(pbx, srv, ln)
			t.Cleanup(r.Close)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			if tc.closeLn {
				ln.Close()
			}
			done := make(chan error, 1)
			go func() { done <- r.Wait(ctx) }()
			select {
			case err := <-done:
				if tc.wantErr == nil {
					assert.NoError(t, err, "Wait")
				} else {
					assert.ErrorIs(t, err, tc.wantErr, "Wait")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Wait has not returned within 5 s")
			}
			assert.False(t, pbxRunning(pbx), "the PBX's Run has ended")
		})
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name    string
		noSrv   bool
		listen  string
		control string
		want    string // the error's prefix
	}{
		{name: "no server", noSrv: true, listen: "127.0.0.1:0", want: "fakeami: Listen without a Server"},
		{name: "manager address in use", listen: busy.Addr().String(), want: "listen tcp"},
		{name: "control address in use", listen: "127.0.0.1:0", control: busy.Addr().String(), want: "control: listen tcp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbx, srv := newServing(t, false)
			cfg := ServeConfig{Server: srv, PBX: pbx, Listen: tc.listen, Control: tc.control}
			if tc.noSrv {
				cfg.Server = nil
			}
			r, err := Listen(cfg)
			if r != nil {
				r.Close()
			}
			require.Error(t, err, "Listen(%+v)", cfg)
			assert.Nil(t, r)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "Listen(%+v) = %v, want an error starting %q", cfg, err, tc.want)
			assert.False(t, pbxRunning(pbx), "the PBX does not run")
		})
	}
}
