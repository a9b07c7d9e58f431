package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/seatproto"
)

// liveCmds are the script commands of the live suite, beside those of the
// fake-PBX suites (seat, send, expect, nothing, waitready, …). They act on
// the script's observer: its own manager connection to the real PBX.
var liveCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"originate":   cmdOriginate,
	"ami":         cmdAMI,
	"amicommand":  cmdAMICommand,
	"amievent":    cmdAMIEvent,
	"amimark":     cmdAMIMark,
	"amilinkup":   cmdAMILinkUp,
	"queuemember": cmdQueueMember,
	"waitidle":    cmdWaitIdle,
	"popscheck":   cmdPopsCheck,
}

// maxObserved bounds the events an observer keeps.
const maxObserved = 1 << 18

// observer is a live script's own manager connection: it sends the
// script's actions and records every event, as a second AMI client of the
// PBX would. Its client reconnects by itself after a PBX restart.
type observer struct {
	client *ami.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	events []*ami.Frame // since the last mark
	ups    int          // links that came up
	err    error        // why the subscription ended
}

func startObserver(cfg ami.Config) (*observer, error) {
	o := &observer{client: ami.New(cfg)}
	sub := o.client.Subscribe(1 << 16)
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	o.wg.Add(2)
	go func() { defer o.wg.Done(); _ = o.client.Run(ctx) }()
	go func() { defer o.wg.Done(); o.record(sub) }()
	if err := o.waitLinks(1, liveWait); err != nil {
		o.close()
		return nil, err
	}
	return o, nil
}

func (o *observer) record(sub *ami.Subscription) {
	for it := range sub.C() {
		o.mu.Lock()
		switch {
		case it.Up != nil:
			o.ups++
		case it.Frame != nil && len(o.events) < maxObserved:
			o.events = append(o.events, it.Frame)
		}
		o.mu.Unlock()
	}
	o.mu.Lock()
	o.err = sub.Err()
	o.mu.Unlock()
}

func (o *observer) close() {
	o.cancel()
	o.client.Close()
	o.wg.Wait()
}

// waitLinks waits until the observer's n-th link is up.
func (o *observer) waitLinks(n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		o.mu.Lock()
		ups, err := o.ups, o.err
		o.mu.Unlock()
		switch {
		case ups >= n:
			return nil
		case err != nil && !errors.Is(err, ami.ErrClosed):
			return fmt.Errorf("the observer's events ended: %w", err)
		case time.Now().After(deadline):
			return fmt.Errorf("no manager link #%d within %s (links so far: %d)", n, d, ups)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (o *observer) snapshot() []*ami.Frame {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.events)
}

// do sends an action with a deadline.
func (o *observer) do(action *ami.Frame) (*ami.Call, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	return o.client.Do(ctx, action)
}

// parseKVs turns KEY=VALUE arguments into action fields.
func parseKVs(ts *testscript.TestScript, kvs []string) []string {
	var out []string
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			ts.Fatalf("want KEY=VALUE, not %q", kv)
		}
		out = append(out, k, v)
	}
	return out
}

// cmdOriginate places calls as the recordings did: originate [-cid NUM]
// [-wait SECONDS] [-n COUNT -every DURATION] CHANNEL. Each originated leg
// (the caller) runs Wait for SECONDS (30) and hangs up, with caller id
// "Live" <NUM> (5550101); with -n, COUNT calls go out DURATION apart, the
// i-th (from 0) with the caller number NUM+i.
func cmdOriginate(ts *testscript.TestScript, neg bool, args []string) {
	cid, wait, n, every := "5550101", "30", 1, time.Duration(0)
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		var err error
		switch args[0] {
		case "-cid":
			cid = args[1]
		case "-wait":
			wait = args[1]
		case "-n":
			n, err = strconv.Atoi(args[1])
		case "-every":
			every, err = time.ParseDuration(args[1])
		default:
			ts.Fatalf("originate: unknown flag %s", args[0])
		}
		ts.Check(err)
		args = args[2:]
	}
	base, err := strconv.Atoi(cid)
	if neg || len(args) != 1 || n < 1 || n > 1000 || (n > 1 && err != nil) {
		ts.Fatalf("usage: originate [-cid NUM] [-wait SECONDS] [-n COUNT -every DURATION] CHANNEL")
	}
	o := scriptObserver(ts)
	next := time.Now()
	for i := range n {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		num := cid
		if n > 1 {
			num = strconv.Itoa(base + i)
		}
		_, err := o.do(ami.NewAction("Originate", "Channel", args[0], "Application", "Wait", "Data", wait,
			"CallerID", `"Live" <`+num+`>`, "Async", "true"))
		ts.Check(err)
	}
}

// cmdAMI sends an action on the observer's connection and prints the
// reply: ami ACTION [KEY=VALUE...]. It fails when Asterisk answers with an
// error, and with ! when it does not.
func cmdAMI(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: ami ACTION [KEY=VALUE...]")
	}
	call, err := scriptObserver(ts).do(ami.NewAction(args[0], parseKVs(ts, args[1:])...))
	if call != nil && call.Reply != nil {
		fmt.Fprint(ts.Stdout(), call.Reply.String())
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("%s succeeded", args[0])
	case neg && !errors.Is(err, ami.ErrActionFailed):
		ts.Fatalf("%s: %v", args[0], err)
	case !neg:
		ts.Check(err)
	}
}

// cmdAMICommand runs a CLI command on the PBX (the Command action) and
// prints its output: amicommand WORDS... A command that restarts the PBX
// gets no answer; that is not an error.
func cmdAMICommand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: amicommand WORDS...")
	}
	cli := strings.Join(args, " ")
	call, err := scriptObserver(ts).do(ami.NewAction("Command", "Command", cli))
	if strings.Contains(cli, "restart") && errors.Is(err, ami.ErrDisconnected) {
		return
	}
	ts.Check(err)
	if call.Reply != nil {
		for _, line := range append(call.Reply.Output, call.Reply.Values("Output")...) {
			fmt.Fprintln(ts.Stdout(), line)
		}
	}
}

// eventMatcher is NAME [KEY=VALUE | KEY~REGEX ...].
type eventMatcher struct {
	name  string
	exact map[string]string
	re    map[string]*regexp.Regexp
}

func parseMatcher(ts *testscript.TestScript, args []string) eventMatcher {
	m := eventMatcher{name: args[0], exact: map[string]string{}, re: map[string]*regexp.Regexp{}}
	for _, a := range args[1:] {
		if k, v, ok := strings.Cut(a, "~"); ok && !strings.Contains(k, "=") {
			re, err := regexp.Compile(v)
			ts.Check(err)
			m.re[k] = re
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("want KEY=VALUE or KEY~REGEX, not %q", a)
		}
		m.exact[k] = v
	}
	return m
}

func (m eventMatcher) match(f *ami.Frame) bool {
	if !ami.EqualFold(f.Event(), m.name) {
		return false
	}
	for k, v := range m.exact {
		if got, ok := f.Lookup(k); !ok || got != v {
			return false
		}
	}
	for k, re := range m.re {
		if got, ok := f.Lookup(k); !ok || !re.MatchString(got) {
			return false
		}
	}
	return true
}

func countMatches(frames []*ami.Frame, m eventMatcher) int {
	n := 0
	for _, f := range frames {
		if m.match(f) {
			n++
		}
	}
	return n
}

// cmdAMIEvent waits for events on the observer's connection since the last
// amimark: amievent [-count N] NAME [KEY=VALUE | KEY~REGEX ...]. With
// -count, exactly N (more fail at once); with !, none has come (now).
func cmdAMIEvent(ts *testscript.TestScript, neg bool, args []string) {
	want, exact := 1, false
	if len(args) >= 2 && args[0] == "-count" {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || neg {
			ts.Fatalf("amievent: -count wants a number >= 1, and no !")
		}
		want, exact, args = n, true, args[2:]
	}
	if len(args) == 0 {
		ts.Fatalf("usage: amievent [-count N] NAME [KEY=VALUE | KEY~REGEX ...]")
	}
	o, m := scriptObserver(ts), parseMatcher(ts, args)
	if neg {
		if n := countMatches(o.snapshot(), m); n > 0 {
			ts.Fatalf("the PBX sent %v %d times", args, n)
		}
		return
	}
	deadline := time.Now().Add(liveWait)
	for {
		n := countMatches(o.snapshot(), m)
		if exact && n > want {
			ts.Fatalf("the PBX sent %v %d times, want %d", args, n, want)
		}
		if n >= want {
			fmt.Fprintf(ts.Stdout(), "%s: %d\n", args[0], n)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the PBX sent %v %d times in %s, want %d", args, n, liveWait, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdAMIMark forgets the events the observer has seen: amievent and
// popscheck look only at later ones.
func cmdAMIMark(ts *testscript.TestScript, neg bool, args []string) {
	o := scriptObserver(ts)
	o.mu.Lock()
	o.events = nil
	o.mu.Unlock()
}

// cmdAMILinkUp waits until the observer's N-th manager link is up (after a
// PBX restart the observer logs in again by itself): amilinkup N.
func cmdAMILinkUp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: amilinkup N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	ts.Check(scriptObserver(ts).waitLinks(n, 2*liveWait))
}

// cmdQueueMember waits until QueueStatus shows IFACE as a member of QUEUE:
// queuemember [-paused 0|1] [-reason TEXT] QUEUE IFACE. With ! it waits
// until IFACE is not a member. The interface compares as Asterisk writes
// it (Location), the reason with PausedReason (Asterisk 12 and later).
func cmdQueueMember(ts *testscript.TestScript, neg bool, args []string) {
	want := map[string]string{}
	for len(args) > 2 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-paused":
			want["Paused"] = args[1]
		case "-reason":
			want["PausedReason"] = args[1]
		default:
			ts.Fatalf("queuemember: unknown flag %s", args[0])
		}
		args = args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: queuemember [-paused 0|1] [-reason TEXT] QUEUE IFACE")
	}
	o := scriptObserver(ts)
	deadline := time.Now().Add(liveWait)
	for {
		call, err := o.do(ami.NewAction("QueueStatus", "Queue", args[0]))
		ts.Check(err)
		var member *ami.Frame
		for _, f := range call.Items {
			if f.Event() == "QueueMember" && f.Get("Queue") == args[0] && ami.EqualFold(f.Get("Location"), args[1]) {
				member = f
			}
		}
		ok := member != nil
		for k, v := range want {
			ok = ok && member.Get(k) == v
		}
		if ok != neg {
			if member != nil {
				fmt.Fprintf(ts.Stdout(), "member %s of %s: paused=%s reason=%q\n", args[1], args[0], member.Get("Paused"), member.Get("PausedReason"))
			} else {
				fmt.Fprintf(ts.Stdout(), "%s is no member of %s\n", args[1], args[0])
			}
			return
		}
		if time.Now().After(deadline) {
			if member == nil {
				ts.Fatalf("%s is no member of %s", args[1], args[0])
			}
			ts.Fatalf("member %s of %s: %s", args[1], args[0], member)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cmdWaitIdle waits until the PBX has no channel left: waitidle.
func cmdWaitIdle(ts *testscript.TestScript, neg bool, args []string) {
	o := scriptObserver(ts)
	deadline := time.Now().Add(2 * liveWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), liveWait)
		names, err := o.channels(ctx)
		cancel()
		ts.Check(err)
		if len(names) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the PBX still has channels: %v", names)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// cmdPopsCheck holds the seats' screen pops to what the PBX did:
// popscheck QUEUE SEAT... Every AgentConnect of QUEUE seen since the last
// amimark (the caller's Uniqueid and the member that answered) must be
// exactly one Link at the seat of that member, with that caller's
// uniqueid, and no seat may have a Link the PBX did not connect.
func cmdPopsCheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: popscheck QUEUE SEAT...")
	}
	type pop struct{ uniqueid, iface string }
	connected := map[pop]int{}
	for _, f := range scriptObserver(ts).snapshot() {
		if f.Event() != "AgentConnect" || f.Get("Queue") != args[0] {
			continue
		}
		member, ok := f.Lookup("Interface") // 12+
		if !ok {
			member = f.Get("Member") // 1.4–11
		}
		connected[pop{f.Get("Uniqueid"), calls.NormalizeInterface(member)}]++
	}
	popped := map[pop]int{}
	perSeat := map[string]int{}
	for _, name := range args[1:] {
		s := lookupSeat(ts, name)
		s.mu.Lock()
		lines := slices.Clone(s.lines)
		s.mu.Unlock()
		for _, line := range lines {
			if !strings.HasPrefix(line, `<event id="Link">`) {
				continue
			}
			ev, err := seatproto.ParseEvent([]byte(line))
			ts.Check(err)
			popped[pop{ev.Call.UniqueID, calls.InterfaceOf(ev.Call.Channel)}]++
			perSeat[name]++
		}
	}
	var problems []string
	for p, n := range connected {
		if popped[p] != n {
			problems = append(problems, fmt.Sprintf("call %s connected to %s %d times, popped there %d times", p.uniqueid, p.iface, n, popped[p]))
		}
	}
	for p, n := range popped {
		if connected[p] == 0 {
			problems = append(problems, fmt.Sprintf("call %s popped at %s %d times, never connected there", p.uniqueid, p.iface, n))
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		ts.Fatalf("%d connected, %d popped:\n%s", len(connected), len(popped), strings.Join(problems, "\n"))
	}
	var counts []string
	for _, name := range args[1:] {
		counts = append(counts, fmt.Sprintf("%s=%d", name, perSeat[name]))
	}
	fmt.Fprintf(ts.Stdout(), "connected %d, each popped once at its seat: %s\n", len(connected), strings.Join(counts, " "))
}
