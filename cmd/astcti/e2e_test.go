package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// e2eCmds are the script commands of the end-to-end suites: an in-process
// fake PBX, scripted seats, and polling checks.
var e2eCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"fakeami":   cmdFakeAMI,
	"waitready": cmdWaitReady,
	"seat":      cmdSeat,
	"send":      cmdSend,
	"expect":    cmdExpect,
	"nothing":   cmdNothing,
	"amiaction": cmdAMIAction,
	"pbx":       cmdPBX,
}

// waitFor is how long a polling check waits.
const waitFor = 15 * time.Second

type fakePBX struct {
	pbx    *fakeami.PBX
	server *fakeami.Server
}

// scriptState holds what a script's commands share: its fake PBX and seats.
type scriptState struct {
	mu    sync.Mutex
	pbx   *fakePBX
	seats map[string]*scriptSeat
}

// stateKey is the key of a script's *scriptState in its testscript values.
type stateKey struct{}

// setupState gives each script its own state.
func setupState(env *testscript.Env) error {
	env.Values[stateKey{}] = &scriptState{seats: map[string]*scriptSeat{}}
	return nil
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

// cmdFakeAMI starts a fake PBX in the process for the rest of the script:
//
//	fakeami [-dialect 1.4|modern] [SCENARIO...]
//
// It runs the demo PBX with the scenario files (paths in the script's work
// directory, or library names) merged over it, listens on 127.0.0.1 with
// user astcti and secret s3cret, and sets $AMI to its address.
func cmdFakeAMI(ts *testscript.TestScript, neg bool, args []string) {
	dialect := fakeami.DialectModern
	if len(args) >= 2 && args[0] == "-dialect" {
		d, err := fakeami.ParseDialect(args[1])
		ts.Check(err)
		dialect, args = d, args[2:]
	}
	files := []string{"demo"}
	for _, a := range args {
		if _, err := os.Stat(ts.MkAbs(a)); err == nil {
			a = ts.MkAbs(a)
		}
		files = append(files, a)
	}
	sc, err := scenarios.Open(files...)
	ts.Check(err)
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: dialect, Scenario: sc, Seed: 1})
	ts.Check(err)
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: dialect, Username: "astcti", Secret: "s3cret", Engine: pbx, StartTime: pbx.StartTime})
	ts.Check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.Serve(ln) }()
	go func() { defer wg.Done(); pbx.Run(ctx) }()
	ts.Defer(func() {
		cancel()
		srv.Close()
		wg.Wait()
	})
	state(ts).pbx = &fakePBX{pbx: pbx, server: srv}
	ts.Setenv("AMI", ln.Addr().String())
}

// cmdPBX drives the fake PBX: `pbx play FILE` plays a scenario file now;
// `pbx restart` restarts it (every call hung up, every session dropped).
func cmdPBX(ts *testscript.TestScript, neg bool, args []string) {
	p := state(ts).pbx
	if p == nil || len(args) == 0 {
		ts.Fatalf("usage: pbx play FILE | pbx restart (after fakeami)")
	}
	switch args[0] {
	case "play":
		sc, err := scenarios.ParseFragment(args[1], []byte(ts.ReadFile(args[1])))
		ts.Check(err)
		ts.Check(p.pbx.Play(sc))
	case "restart":
		p.pbx.Shutdown()
		p.server.DropSessions()
	default:
		ts.Fatalf("unknown pbx command %q", args[0])
	}
}

// cmdAMIAction waits until the fake PBX has received an action with the
// given name and fields: amiaction NAME [KEY=VALUE...]. With !, it checks
// that no such action has come (now).
func cmdAMIAction(ts *testscript.TestScript, neg bool, args []string) {
	p := state(ts).pbx
	if p == nil || len(args) == 0 {
		ts.Fatalf("usage: amiaction NAME [KEY=VALUE...] (after fakeami)")
	}
	match := func() bool {
		for _, rec := range p.server.Actions() {
			if !ami.EqualFold(rec.Action, args[0]) {
				continue
			}
			f := &ami.Frame{}
			for _, kv := range rec.Fields {
				f.Add(kv[0], kv[1])
			}
			ok := true
			for _, kv := range args[1:] {
				k, v, _ := strings.Cut(kv, "=")
				if f.Get(k) != v {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	if neg {
		if match() {
			ts.Fatalf("the PBX received %v", args)
		}
		return
	}
	deadline := time.Now().Add(waitFor)
	for !match() {
		if time.Now().After(deadline) {
			ts.Fatalf("the PBX never received %v", args)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdWaitReady waits for the server's --ready-file and sets VAR to the seat
// address in it: waitready FILE VAR.
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitready FILE VAR")
	}
	deadline := time.Now().Add(waitFor)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		if err == nil {
			var ready struct{ Seats string }
			ts.Check(json.Unmarshal(b, &ready))
			ts.Setenv(args[1], ready.Seats)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no ready file %s: the server did not start", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scriptSeat is a seat client driven by a script: it keeps every line the
// server sent, and a cursor for expect.
type scriptSeat struct {
	conn  net.Conn
	mu    sync.Mutex
	lines []string
	next  int
	done  chan struct{}
}

// cmdSeat connects a seat: seat NAME ADDR [USER PASSWORD [MAC]]. With a
// user it logs in (USER, PASS with the MD5 of the password, MAC) and checks
// the answers; `-` skips the MAC.
func cmdSeat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: seat NAME ADDR [USER PASSWORD [MAC]]")
	}
	conn, err := net.DialTimeout("tcp", args[1], 5*time.Second)
	ts.Check(err)
	s := &scriptSeat{conn: conn, done: make(chan struct{})}
	go s.read()
	ts.Defer(func() { conn.Close(); <-s.done })
	st := state(ts)
	st.mu.Lock()
	st.seats[args[0]] = s
	st.mu.Unlock()
	s.expect(ts, regexp.MustCompile(`^100 WELCOME`))
	if len(args) >= 4 {
		s.send(ts, "USER "+args[2])
		s.expect(ts, regexp.MustCompile(`^100 OK`))
		s.send(ts, "PASS "+config.MD5Hex(args[3]))
		if neg {
			s.expect(ts, regexp.MustCompile(`^101 KO`))
			return
		}
		s.expect(ts, regexp.MustCompile(`^102 OK`))
	}
	if len(args) >= 5 && args[4] != "-" {
		// The answer to MAC is taken out of the seat's lines, so that the
		// script's own expects still see whatever came around it (a 200
		// line may come first, for an operator with a fixed seat).
		mark := s.cursor()
		s.send(ts, "MAC "+args[4])
		s.expect(ts, regexp.MustCompile(`^100 OK`))
		s.drop(mark)
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

func (s *scriptSeat) send(ts *testscript.TestScript, line string) {
	s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := s.conn.Write([]byte(line + "\n"))
	ts.Check(err)
}

// expect waits for the next line matching re (lines before it are passed
// over) and prints it.
func (s *scriptSeat) expect(ts *testscript.TestScript, re *regexp.Regexp) string {
	deadline := time.Now().Add(waitFor)
	for {
		s.mu.Lock()
		for s.next < len(s.lines) {
			line := s.lines[s.next]
			s.next++
			if re.MatchString(line) {
				s.mu.Unlock()
				fmt.Fprintln(ts.Stdout(), line)
				return line
			}
		}
		s.mu.Unlock()
		select {
		case <-s.done:
			ts.Fatalf("the connection closed before a line matching %q; last lines:\n%s", re, s.tail())
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no line matching %q; last lines:\n%s", re, s.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *scriptSeat) cursor() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// drop removes the line the last expect matched and moves the cursor back
// to mark.
func (s *scriptSeat) drop(mark int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines[:s.next-1], s.lines[s.next:]...)
	s.next = mark
}

func (s *scriptSeat) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := max(0, len(s.lines)-8)
	return strings.Join(s.lines[from:], "\n")
}

func lookupSeat(ts *testscript.TestScript, name string) *scriptSeat {
	st := state(ts)
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.seats[name]
	if s == nil {
		ts.Fatalf("no seat %q", name)
	}
	return s
}

// cmdSend sends a line from a seat: send NAME LINE...
func cmdSend(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: send NAME LINE")
	}
	lookupSeat(ts, args[0]).send(ts, strings.Join(args[1:], " "))
}

// cmdExpect waits for the seat's next line that matches: expect NAME REGEX.
// With `closed` as REGEX it waits for the server to close the connection.
func cmdExpect(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: expect NAME REGEX")
	}
	s := lookupSeat(ts, args[0])
	if args[1] == "closed" {
		select {
		case <-s.done:
		case <-time.After(waitFor):
			ts.Fatalf("the server did not close the connection")
		}
		return
	}
	s.expect(ts, regexp.MustCompile(args[1]))
}

// cmdNothing checks that no line matching REGEX comes within DURATION, and
// that none came since the last expect: nothing NAME REGEX DURATION.
func cmdNothing(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: nothing NAME REGEX DURATION")
	}
	s := lookupSeat(ts, args[0])
	re := regexp.MustCompile(args[1])
	d, err := time.ParseDuration(args[2])
	ts.Check(err)
	time.Sleep(d) // the absence of a line can only be seen by waiting
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range s.lines[s.next:] {
		if re.MatchString(line) {
			ts.Fatalf("unexpected line: %s", line)
		}
	}
}
