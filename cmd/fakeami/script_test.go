package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/cti/ami"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fakeami": main,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TRACES", tracesDir())
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"freeport": cmdFreeport,
			"ami":      cmdAMI,
			"http":     cmdHTTP,
		},
	})
}

func tracesDir() string {
	wd, _ := os.Getwd()
	return wd + "/../../testdata/ami-traces"
}

// cmdFreeport sets each named variable to a free TCP port on 127.0.0.1.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	for _, name := range args {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Setenv(name, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
		ln.Close()
	}
}

// dialRetry connects to addr, retrying until a deadline while the process
// under test starts up.
func dialRetry(addr string) (net.Conn, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil || time.Now().After(deadline) {
			return conn, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdAMI is a small manager client for scripts:
//
//	ami ADDR USER SECRET [md5] STEP...
//
// Steps: `action Name k=v ...` sends an action and prints its response (and
// the items of a list action); `events NAME|all DURATION` prints the events
// of that name that arrive within DURATION, one line each;
// `wait NAME[:k=v] DURATION` waits for such an event and prints it. The login
// response is printed first. A failed login makes the command fail.
func cmdAMI(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: ami ADDR USER SECRET [md5] STEP...")
	}
	err := runAMI(ts.Stdout(), args)
	if neg {
		if err == nil {
			ts.Fatalf("ami succeeded unexpectedly")
		}
		fmt.Fprintln(ts.Stdout(), "error:", err)
		return
	}
	ts.Check(err)
}

func runAMI(out io.Writer, args []string) error {
	conn, err := dialRetry(args[0])
	if err != nil {
		return err
	}
	r, w := ami.NewReader(conn), ami.NewWriter(conn)
	version, err := r.ReadBanner()
	if err != nil {
		conn.Close()
		return err
	}
	fmt.Fprintln(out, "banner:", version)
	// A reader goroutine feeds frames to the steps, so that a step can stop
	// waiting at a deadline and the next step can go on reading.
	frames := make(chan *ami.Frame, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(frames)
		for {
			m, err := r.Next()
			if err != nil {
				return
			}
			frames <- m.Frame()
		}
	}()
	defer func() {
		conn.Close()
		for range frames {
		}
		<-done
	}()
	c := &client{frames: frames, w: w}
	steps := args[3:]
	login := ami.NewAction("Login", "ActionID", "login", "Username", args[1], "Secret", args[2])
	if len(steps) > 0 && steps[0] == "md5" {
		steps = steps[1:]
		resp, err := c.roundTrip(ami.NewAction("Challenge", "ActionID", "ch", "AuthType", "MD5"), nil)
		if err != nil {
			return err
		}
		login = ami.NewAction("Login", "ActionID", "login", "Username", args[1], "AuthType", "MD5",
			"Key", md5hex(resp.Get("Challenge")+args[2]))
	}
	resp, err := c.roundTrip(login, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, line(resp))
	if resp.Response() != "Success" {
		return fmt.Errorf("login: %s", resp.Get("Message"))
	}
	return c.runSteps(out, steps)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// client is the state of one scripted manager session.
type client struct {
	frames  <-chan *ami.Frame
	backlog []*ami.Frame // frames a round trip passed over, for later steps
	w       *ami.Writer
}

// next returns the next frame, or an error at the deadline or at the end of
// the stream.
func (c *client) next(deadline time.Time) (*ami.Frame, error) {
	if len(c.backlog) > 0 {
		f := c.backlog[0]
		c.backlog = c.backlog[1:]
		return f, nil
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok {
			return nil, io.EOF
		}
		return f, nil
	case <-t.C:
		return nil, errors.New("timed out")
	}
}

func (c *client) runSteps(out io.Writer, steps []string) error {
	for n := 0; len(steps) > 0; n++ {
		switch steps[0] {
		case "action":
			if len(steps) < 2 {
				return errors.New("action needs a name")
			}
			end := 2
			for end < len(steps) && strings.Contains(steps[end], "=") {
				end++
			}
			f := ami.NewAction(steps[1], "ActionID", fmt.Sprint("s", n))
			for _, kv := range steps[2:end] {
				k, v, _ := strings.Cut(kv, "=")
				f.Add(k, v)
			}
			resp, err := c.roundTrip(f, out)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, line(resp))
			steps = steps[end:]
		case "events", "wait":
			if len(steps) < 3 {
				return fmt.Errorf("%s needs a filter and a duration", steps[0])
			}
			if err := c.readEvents(out, steps[0] == "wait", steps[1], steps[2]); err != nil {
				return err
			}
			steps = steps[3:]
		default:
			return fmt.Errorf("unknown step %q", steps[0])
		}
	}
	return nil
}

// roundTrip sends f and returns its response. For a list action it prints
// the response and the list's events to items, when not nil, and returns
// the final event.
func (c *client) roundTrip(f *ami.Frame, items io.Writer) (*ami.Frame, error) {
	if err := c.w.WriteFrame(f); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	var resp *ami.Frame
	var passed []*ami.Frame
	defer func() { c.backlog = append(c.backlog, passed...) }()
	for {
		got, err := c.next(deadline)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Action(), err)
		}
		if got.ActionID() != f.ActionID() {
			passed = append(passed, got)
			continue
		}
		if resp == nil {
			resp = got
			if !isList(resp) {
				return resp, nil
			}
			if items != nil {
				fmt.Fprintln(items, line(resp))
			}
			continue
		}
		if strings.HasSuffix(got.Event(), "Complete") {
			return got, nil
		}
		if items != nil {
			fmt.Fprintln(items, line(got))
		}
	}
}

func isList(f *ami.Frame) bool {
	return ami.EqualFold(f.Get("EventList"), "start") ||
		strings.HasSuffix(f.Get("Message"), "will follow")
}

// readEvents prints events: all that come within dur ("events"), or the
// first that matches what, NAME[:key=value] ("wait").
func (c *client) readEvents(out io.Writer, wait bool, what, dur string) error {
	d, err := time.ParseDuration(dur)
	if err != nil {
		return err
	}
	name, kv, _ := strings.Cut(what, ":")
	k, v, _ := strings.Cut(kv, "=")
	deadline := time.Now().Add(d)
	for {
		f, err := c.next(deadline)
		if err != nil {
			if wait {
				return fmt.Errorf("no %s event within %s: %w", what, dur, err)
			}
			return nil
		}
		if !f.IsEvent() {
			continue
		}
		if !wait {
			if name == "all" || ami.EqualFold(f.Event(), name) {
				fmt.Fprintln(out, line(f))
			}
			continue
		}
		if ami.EqualFold(f.Event(), name) && (k == "" || f.Get(k) == v) {
			fmt.Fprintln(out, line(f))
			return nil
		}
	}
}

// line prints a frame on one line, "Key: Value" pairs joined by " | ".
func line(f *ami.Frame) string {
	var b bytes.Buffer
	for i, fl := range f.Fields {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(fl.Key + ": " + fl.Value)
	}
	return b.String()
}

// cmdHTTP sends a request to the control API: http METHOD URL [FILE].
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: http METHOD URL [FILE]")
	}
	var body io.Reader
	if len(args) > 2 {
		body = strings.NewReader(ts.ReadFile(args[2]))
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	var resp *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err = http.DefaultClient.Do(req)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if body != nil {
			req.Body = io.NopCloser(strings.NewReader(ts.ReadFile(args[2])))
		}
	}
	ts.Check(err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ts.Stdout().Write(b)
	if (resp.StatusCode >= 300) != neg {
		ts.Fatalf("%s %s: %s", args[0], args[1], resp.Status)
	}
}
