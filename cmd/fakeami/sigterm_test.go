//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
)

// TestSIGTERMUnderLoad starts fakeami with 10,000 queue members, loads it
// with traffic, one manager client that reads everything and one that
// reads nothing, checks that the control API answers meanwhile, sends
// SIGTERM and expects the process to exit, cleanly, well within a
// generous bound.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fakeami with 10,000 members under load")
	}
	bin, err := exec.LookPath("fakeami") // the test binary, as testscript.Main installs it
	require.NoError(t, err)
	scenario := filepath.Join(t.TempDir(), "load.txtar")
	require.NoError(t, os.WriteFile(scenario, fakeami.LoadScenario(10000, "rrmemory", 100*time.Millisecond, time.Second), 0o644))

	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--scenario", scenario,
		"--user", "u", "--secret", "s", "--log-level", "error")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 16)
	exited := make(chan struct{}) // closed once cmd.Wait has returned waitErr
	var waitErr error
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads them any more
			}
		}
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				t.Error("fakeami did not exit 5 s after SIGKILL")
			}
		}
	})
	amiAddr, ctl := readAddrs(t, lines)

	reader := loginAMI(t, amiAddr)
	go io.Copy(io.Discard, reader)
	loginAMI(t, amiAddr) // never reads: fakeami drops it, or it waits on a full write

	post(t, "POST", ctl+"/traffic", "rate 1000/s to "+fakeami.LoadService+" from 10000-99999 patience 30s-60s", http.StatusOK)
	deadline := time.Now().Add(30 * time.Second)
	var st fakeami.Stats
	for st.CallsAnswered < 300 {
		require.True(t, time.Now().Before(deadline), "300 calls answered within 30 s; stats %+v", st)
		time.Sleep(20 * time.Millisecond)
		getJSON(t, ctl+"/stats", &st)
	}
	for _, path := range []string{"/members", "/state", "/links?after=0", "/traffic"} {
		start := time.Now()
		resp, err := http.Get(ctl + path)
		require.NoError(t, err)
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		t.Logf("GET %s under load: %d bytes in %v", path, n, time.Since(start))
	}

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		assert.NoError(t, waitErr, "fakeami exits cleanly on SIGTERM")
		t.Logf("exited %v after SIGTERM, %d calls answered", time.Since(start), st.CallsAnswered)
	case <-time.After(10 * time.Second):
		t.Fatal("fakeami still runs 10 s after SIGTERM")
	}
}

// TestSIGHUPStops: SIGHUP (the terminal fakeami runs in closing) stops it
// cleanly, exit status 0, with a log line naming the signal; it used to
// die of it with status 129, saying nothing.
func TestSIGHUPStops(t *testing.T) {
	bin, err := exec.LookPath("fakeami") // the test binary, as testscript.Main installs it
	require.NoError(t, err)
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--user", "u", "--secret", "s")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 16)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		exited <- cmd.Wait()
	}()
	readAddrs(t, lines)
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	select {
	case err := <-exited:
		assert.NoError(t, err, "fakeami exits 0 on SIGHUP")
		assert.Contains(t, stderr.String(), `msg="stopped on a signal" signal=SIGHUP`+"\n")
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatal("fakeami still runs 10 s after SIGHUP")
	}
}

// readAddrs reads the manager and control addresses fakeami prints.
func readAddrs(t *testing.T, lines <-chan string) (amiAddr, ctl string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for amiAddr == "" || ctl == "" {
		var line string
		select {
		case line = <-lines:
		case <-timeout:
			t.Fatal("fakeami did not print its addresses within 30 s")
		}
		if rest, ok := strings.CutPrefix(line, "fakeami: manager interface on "); ok {
			amiAddr, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(line, "fakeami: control API on "); ok {
			ctl = rest
		}
	}
	require.NotEmpty(t, amiAddr, "fakeami printed its manager address")
	require.NotEmpty(t, ctl, "fakeami printed its control address")
	return amiAddr, ctl
}

// loginAMI logs in to the manager interface and returns the connection,
// closed when the test ends.
func loginAMI(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := ami.NewReader(conn), ami.NewWriter(conn)
	_, err = r.ReadBanner()
	require.NoError(t, err)
	require.NoError(t, w.WriteFrame(ami.NewAction("Login", "Username", "u", "Secret", "s", "ActionID", "l")))
	require.NoError(t, w.Flush())
	m, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, "Success", m.Frame().Response())
	conn.SetDeadline(time.Time{})
	return conn
}

func post(t *testing.T, method, url, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, url, b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
