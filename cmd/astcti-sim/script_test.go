package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"astcti-sim": main,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Values[seatsKey{}] = &seats{m: map[string]*scriptSeat{}}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitready": cmdWaitReady,
			"httpwait":  cmdHTTPWait,
			"login":     cmdLogin,
			"seat":      cmdSeat,
			"expect":    cmdExpect,
		},
	})
}

// waitFor is how long a polling command waits.
const waitFor = 20 * time.Second

// cmdWaitReady waits for the simulation's --ready-file and sets $AMI,
// $SEATS, $CONTROL, $ADMIN and the configurator's $CONFIGURATOR_URL,
// $CONFIGURATOR_ADDR (its host:port), $CONFIGURATOR_USER and
// $CONFIGURATOR_PASSWORD from it: waitready FILE.
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitready FILE")
	}
	deadline := time.Now().Add(waitFor)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		if err == nil {
			var ready struct {
				AMI, Seats, Control, Admin string
				Configurator               struct{ URL, User, Password string }
			}
			ts.Check(json.Unmarshal(b, &ready))
			ts.Setenv("AMI", ready.AMI)
			ts.Setenv("SEATS", ready.Seats)
			ts.Setenv("CONTROL", ready.Control)
			ts.Setenv("ADMIN", ready.Admin)
			ts.Setenv("CONFIGURATOR_URL", ready.Configurator.URL)
			u, err := url.Parse(ready.Configurator.URL)
			ts.Check(err)
			ts.Setenv("CONFIGURATOR_ADDR", u.Host)
			ts.Setenv("CONFIGURATOR_USER", ready.Configurator.User)
			ts.Setenv("CONFIGURATOR_PASSWORD", ready.Configurator.Password)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no ready file %s: the simulation did not start", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdHTTPWait polls GET URL until its body matches every REGEX:
// httpwait URL REGEX...
func cmdHTTPWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: httpwait URL REGEX...")
	}
	var res []*regexp.Regexp
	for _, a := range args[1:] {
		res = append(res, regexp.MustCompile(a))
	}
	deadline := time.Now().Add(waitFor)
	var body []byte
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			ok := true
			for _, re := range res {
				ok = ok && re.Match(body)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("GET %s: no body matching %q within %v; last: %v %s", args[0], args[1:], waitFor, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// csrfInput is the hidden field of the configurator's forms.
var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// cmdLogin logs in to the configurator at URL as a browser does: GET the
// login page (its form token, in the page and in a cookie), POST the form,
// follow the redirect. It prints the path it lands on and that page:
// login URL USER PASSWORD. With !, the login is to be refused (401) and it
// prints the page that says why.
func cmdLogin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: login URL USER PASSWORD")
	}
	jar, err := cookiejar.New(nil)
	ts.Check(err)
	client := &http.Client{Jar: jar, Timeout: waitFor}
	get := func(resp *http.Response, err error) (*http.Response, string) {
		ts.Check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		ts.Check(err)
		return resp, string(b)
	}
	base := strings.TrimSuffix(args[0], "/")
	resp, page := get(client.Get(base + "/login"))
	m := csrfInput.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		ts.Fatalf("GET %s/login: %s, no form token in:\n%s", base, resp.Status, page)
	}
	resp, page = get(client.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "userid": {args[1]}, "password": {args[2]}}))
	fmt.Fprintf(ts.Stdout(), "%d, landed on %s\n%s\n", resp.StatusCode, resp.Request.URL.Path, page)
	switch ok := resp.StatusCode == http.StatusOK && resp.Request.URL.Path != "/login"; {
	case neg && ok:
		ts.Fatalf("logged in as %s, want a refusal", args[1])
	case neg && resp.StatusCode != http.StatusUnauthorized:
		ts.Fatalf("login as %s: %s, want 401", args[1], resp.Status)
	case !neg && !ok:
		ts.Fatalf("login as %s refused: %s on %s", args[1], resp.Status, resp.Request.URL.Path)
	}
}

type seatsKey struct{}

type seats struct {
	mu sync.Mutex
	m  map[string]*scriptSeat
}

// scriptSeat is a seat client of a script, as the user's own would be.
type scriptSeat struct {
	conn  net.Conn
	mu    sync.Mutex
	lines []string
	next  int
	done  chan struct{}
}

// cmdSeat connects a seat and logs in: seat NAME ADDR USER PASSWORD MAC.
func cmdSeat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: seat NAME ADDR USER PASSWORD MAC")
	}
	conn, err := net.DialTimeout("tcp", args[1], 5*time.Second)
	ts.Check(err)
	s := &scriptSeat{conn: conn, done: make(chan struct{})}
	go s.read()
	ts.Defer(func() { conn.Close(); <-s.done })
	st := ts.Value(seatsKey{}).(*seats)
	st.mu.Lock()
	st.m[args[0]] = s
	st.mu.Unlock()
	s.take(ts, `^100 WELCOME$`)
	for _, step := range [][2]string{
		{"USER " + args[2], `^100 OK$`},
		{"PASS " + config.MD5Hex(args[3]), `^102 OK$`},
		{"MAC " + args[4], `^100 OK$`},
	} {
		s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := io.WriteString(s.conn, step[0]+"\n")
		ts.Check(err)
		s.take(ts, step[1])
	}
}

// take waits for the answer to a login command, the first line from the
// cursor that matches re, and removes it, leaving the lines around it
// (200 queue, events) to the script's expects.
func (s *scriptSeat) take(ts *testscript.TestScript, re string) {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(waitFor)
	for {
		s.mu.Lock()
		for i := s.next; i < len(s.lines); i++ {
			if rx.MatchString(s.lines[i]) {
				fmt.Fprintln(ts.Stdout(), s.lines[i])
				s.lines = append(s.lines[:i], s.lines[i+1:]...)
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
		select {
		case <-s.done:
			ts.Fatalf("the connection closed before a line matching %q", re)
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no line matching %q within %v", re, waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *scriptSeat) read() {
	defer close(s.done)
	br := bufio.NewReaderSize(s.conn, 64<<10)
	for {
		line, err := seatproto.ReadLine(br, seatproto.MaxServerLineLen)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.lines = append(s.lines, string(line))
		s.mu.Unlock()
	}
}

// expect waits for the next line that matches re, passing over the others,
// and prints it; "closed" waits for the end of the connection.
func (s *scriptSeat) expect(ts *testscript.TestScript, re string) {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(waitFor)
	for {
		closed := false
		select {
		case <-s.done:
			closed = true
		default:
		}
		s.mu.Lock()
		for s.next < len(s.lines) {
			line := s.lines[s.next]
			s.next++
			if re != "closed" && rx.MatchString(line) {
				s.mu.Unlock()
				fmt.Fprintln(ts.Stdout(), line)
				return
			}
		}
		last := strings.Join(s.lines[max(0, len(s.lines)-5):], "\n")
		s.mu.Unlock()
		switch {
		case closed && re == "closed":
			return
		case closed:
			ts.Fatalf("the connection closed before a line matching %q; last lines:\n%s", re, last)
		case time.Now().After(deadline):
			ts.Fatalf("no line matching %q within %v; last lines:\n%s", re, waitFor, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdExpect waits for a seat's line: expect NAME REGEX (or closed).
func cmdExpect(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expect NAME REGEX|closed")
	}
	st := ts.Value(seatsKey{}).(*seats)
	st.mu.Lock()
	s := st.m[args[0]]
	st.mu.Unlock()
	if s == nil {
		ts.Fatalf("no seat %q", args[0])
	}
	s.expect(ts, args[1])
}
