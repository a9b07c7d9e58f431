package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
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
	"sendraw":   cmdSendRaw,
	"expect":    cmdExpect,
	"nothing":   cmdNothing,
	"amiaction": cmdAMIAction,
	"amiorder":  cmdAMIOrder,
	"pbx":       cmdPBX,
	"execcode":  cmdExecCode,
	"freeaddr":  cmdFreeAddr,
	"waitfile":  cmdWaitFile,
}

// waitFor is how long a polling check waits, unless the script's
// $SCRIPT_WAIT says otherwise (the live suite waits longer: a real PBX's
// phones ring for seconds).
const waitFor = 15 * time.Second

func scriptWait(ts *testscript.TestScript) time.Duration {
	if d, err := time.ParseDuration(ts.Getenv("SCRIPT_WAIT")); err == nil && d > 0 {
		return d
	}
	return waitFor
}

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
//	fakeami [-dialect 1.4|modern] [-user NAME:SECRET:READ:WRITE]... [-eventfilter NAME:LINE]... [SCENARIO...]
//
// It runs the demo PBX with the scenario files (paths in the script's work
// directory, or library names) merged over it, listens on 127.0.0.1 with
// user astcti and secret s3cret (and the -user ones, see fakeUsers), and
// sets $AMI to its address.
func cmdFakeAMI(ts *testscript.TestScript, neg bool, args []string) {
	dialect := fakeami.DialectModern
	if len(args) >= 2 && args[0] == "-dialect" {
		d, err := fakeami.ParseDialect(args[1])
		ts.Check(err)
		dialect, args = d, args[2:]
	}
	users, args := fakeUsers(ts, args) // -user, -eventfilter: doctor_script_test.go
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
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: dialect, Username: "astcti", Secret: "s3cret", Users: users, Engine: pbx, StartTime: pbx.StartTime})
	ts.Check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(fakeami.Start(pbx, srv, ln).Close)
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
// given name and fields: amiaction [-count N] NAME [KEY=VALUE...]. With
// -count, it waits for exactly N such actions (more fail at once). With !,
// it checks that no such action has come (now).
func cmdAMIAction(ts *testscript.TestScript, neg bool, args []string) {
	p := state(ts).pbx
	want, exact := 1, false
	if len(args) >= 2 && args[0] == "-count" {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || neg {
			ts.Fatalf("amiaction: -count wants a number >= 1, and no !")
		}
		want, exact, args = n, true, args[2:]
	}
	if p == nil || len(args) == 0 {
		ts.Fatalf("usage: amiaction [-count N] NAME [KEY=VALUE...] (after fakeami)")
	}
	count := func() int {
		n := 0
		for _, rec := range p.server.Actions() {
			if actionMatches(rec, args[0], args[1:]) {
				n++
			}
		}
		return n
	}
	if neg {
		if count() > 0 {
			ts.Fatalf("the PBX received %v", args)
		}
		return
	}
	deadline := time.Now().Add(waitFor)
	for {
		n := count()
		if exact && n > want {
			ts.Fatalf("the PBX received %v %d times, want %d", args, n, want)
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the PBX received %v %d times, want %d", args, n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// actionMatches reports whether rec is the action name with every field
// of kvs (KEY=VALUE).
func actionMatches(rec fakeami.ActionRecord, name string, kvs []string) bool {
	if !ami.EqualFold(rec.Action, name) {
		return false
	}
	f := &ami.Frame{}
	for _, kv := range rec.Fields {
		f.Add(kv[0], kv[1])
	}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if f.Get(k) != v {
			return false
		}
	}
	return true
}

// cmdAMIOrder checks that the fake PBX received actions in an order: amiorder
// ACTION... where each ACTION is NAME[,KEY=VALUE...] (quote it if a value
// has spaces). The actions received must hold them in that order, with
// any others between. It does not wait: use amiaction first.
func cmdAMIOrder(ts *testscript.TestScript, neg bool, args []string) {
	p := state(ts).pbx
	if p == nil || neg || len(args) < 2 {
		ts.Fatalf("usage: amiorder NAME[,KEY=VALUE...] NAME[,KEY=VALUE...]... (after fakeami)")
	}
	i := 0
	for _, rec := range p.server.Actions() {
		if i == len(args) {
			break
		}
		spec := strings.Split(args[i], ",")
		if actionMatches(rec, spec[0], spec[1:]) {
			i++
		}
	}
	if i < len(args) {
		ts.Fatalf("the PBX did not receive %s after %v", args[i], args[:i])
	}
}

// cmdWaitReady waits for the server's --ready-file and sets VAR to the seat
// address in it, and ADMINVAR to the admin address: waitready FILE VAR
// [ADMINVAR].
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: waitready FILE VAR [ADMINVAR]")
	}
	deadline := time.Now().Add(scriptWait(ts))
	for {
		// The server may be in the middle of writing the file: an empty or
		// partial file is read again.
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		var ready struct{ Seats, Admin string }
		if err == nil && json.Unmarshal(b, &ready) == nil && ready.Seats != "" {
			ts.Setenv(args[1], ready.Seats)
			if len(args) == 3 {
				ts.Setenv(args[2], ready.Admin)
			}
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no valid ready file %s (%q): the server did not start", args[0], b)
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
		// A seat known before MAC (a fixed seat) is told its queues again
		// after the MAC's answer (docs/protocol.md): a NOOP round trip
		// lets those repeats arrive, and they are dropped too, so that a
		// script sees each 200 line once.
		s.send(ts, "NOOP")
		s.expect(ts, regexp.MustCompile(`^100 OK`))
		s.drop(mark)
		s.dropRepeats(mark)
	}
}

// dropRepeats removes, from the lines after mark, every 200 line that
// repeats an earlier line.
func (s *scriptSeat) dropRepeats(mark int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	kept := s.lines[:0]
	for i, line := range s.lines {
		if i >= mark && strings.HasPrefix(line, "200 ") && seen[line] {
			continue
		}
		seen[line] = true
		kept = append(kept, line)
	}
	s.lines = kept
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
	deadline := time.Now().Add(scriptWait(ts))
	for {
		closed := s.closed() // before looking at the lines: the last ones come before done
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
		if closed {
			ts.Fatalf("the connection closed before a line matching %q; last lines:\n%s", re, s.tail())
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no line matching %q; last lines:\n%s", re, s.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectNext waits for the seat's next line and checks that it matches re.
func (s *scriptSeat) expectNext(ts *testscript.TestScript, re *regexp.Regexp) string {
	deadline := time.Now().Add(scriptWait(ts))
	for {
		closed := s.closed()
		s.mu.Lock()
		if s.next < len(s.lines) {
			line := s.lines[s.next]
			s.next++
			s.mu.Unlock()
			fmt.Fprintln(ts.Stdout(), line)
			if !re.MatchString(line) {
				ts.Fatalf("the next line does not match %q", re)
			}
			return line
		}
		s.mu.Unlock()
		if closed {
			ts.Fatalf("the connection closed before a line matching %q; last lines:\n%s", re, s.tail())
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no line matching %q; last lines:\n%s", re, s.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *scriptSeat) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
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

// cmdSendRaw sends bytes from a seat as they are, with no "\n" added:
// sendraw NAME TEXT [xN]. TEXT takes Go's escapes (\n, \x00, \xff), and
// xN repeats it N times: `sendraw s A x5000` then `sendraw s '\n'` sends
// a line of 5000 bytes.
func cmdSendRaw(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: sendraw NAME TEXT [xN]")
	}
	text, err := strconv.Unquote(`"` + strings.ReplaceAll(args[1], `"`, `\"`) + `"`)
	if err != nil {
		ts.Fatalf("sendraw: bad escapes in %q: %v", args[1], err)
	}
	n := 1
	if len(args) == 3 {
		if n, err = strconv.Atoi(strings.TrimPrefix(args[2], "x")); err != nil || n < 1 || !strings.HasPrefix(args[2], "x") {
			ts.Fatalf("sendraw: want xN (a count >= 1), not %q", args[2])
		}
	}
	s := lookupSeat(ts, args[0])
	s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = s.conn.Write([]byte(strings.Repeat(text, n)))
	ts.Check(err)
}

// cmdExpect waits for the seat's next line that matches: expect [-next]
// NAME REGEX. With -next the line must be the very next one the seat got
// (nothing passed over), so a run of -next checks the exact sequence of
// lines. Each named group of REGEX sets the variable of its name to what it
// matched, so that later lines can be checked against it: `(?P<UID>[0-9.]+)`
// then `\Q$UID\E`. With `closed` as REGEX it waits for the server to close
// the connection.
func cmdExpect(ts *testscript.TestScript, neg bool, args []string) {
	next := len(args) == 3 && args[0] == "-next"
	if next {
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: expect [-next] NAME REGEX")
	}
	s := lookupSeat(ts, args[0])
	if args[1] == "closed" {
		select {
		case <-s.done:
		case <-time.After(scriptWait(ts)):
			ts.Fatalf("the server did not close the connection")
		}
		return
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	var line string
	if next {
		line = s.expectNext(ts, re)
	} else {
		line = s.expect(ts, re)
	}
	m := re.FindStringSubmatch(line)
	for i, name := range re.SubexpNames() {
		if name != "" {
			ts.Setenv(name, m[i])
		}
	}
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
