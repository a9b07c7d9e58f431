package cti

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatconn"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// idleSeatsEnv, set to a number of seats, makes the test binary the other
// side of BenchmarkIdleSeats (TestMain runs idleSeatsChild): the fake PBX
// and the seats, in their own process, so that the benchmark's process
// holds the server alone and its memory is the server's.
const idleSeatsEnv = "ASTCTI_IDLE_SEATS_CHILD"

// The manager account and operator password of BenchmarkIdleSeats.
const (
	idleAMIUser   = "bench"
	idleAMISecret = "bench"
	idlePassword  = "idle"
	idleQueue     = "astcti-queue"
)

// BenchmarkIdleSeats measures what an idle seat costs the server: N seats
// log in (each confirmed in one queue) and then send nothing. The fake PBX
// and the seats run in a child process; this process holds only the
// server, whose memory is sampled before the seats come and with all of
// them connected, after a garbage collection that returns freed memory to
// the OS. One op is one sample. Reported per seat: resident memory
// (VmRSS), live heap objects, goroutine stacks, goroutines. The kernel's
// socket buffers are not in RSS and not counted.
func BenchmarkIdleSeats(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("seats=%d", n), func(b *testing.B) { benchIdleSeats(b, n) })
	}
}

func benchIdleSeats(b *testing.B, n int) {
	child := startIdleChild(b, n)
	srv := startIdleServer(b, n, child.amiAddr)
	before := sampleMemory()
	child.connect(b, srv.addr)
	if err := waitSessions(srv.Server, n, time.Minute); err != nil {
		b.Fatal(err)
	}
	var with memSample
	for b.Loop() {
		with = sampleMemory()
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) / 1024 }
	b.ReportMetric(per(with.rss, before.rss), "rss-KiB/seat")
	b.ReportMetric(per(with.heap, before.heap), "heap-KiB/seat")
	b.ReportMetric(per(with.stacks, before.stacks), "stack-KiB/seat")
	b.ReportMetric((float64(with.goroutines)-float64(before.goroutines))/float64(n), "goroutines/seat")
}

// memSample is the server process's memory at one moment.
type memSample struct {
	rss, heap, stacks uint64 // bytes
	goroutines        uint64
}

// sampleMemory collects the garbage, returns the freed memory to the OS,
// and reads the process's memory.
func sampleMemory() memSample {
	runtime.GC()
	debug.FreeOSMemory()
	ms := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	metrics.Read(ms)
	return memSample{
		rss:        vmRSS(),
		heap:       ms[0].Value.Uint64(),
		stacks:     ms[1].Value.Uint64(),
		goroutines: ms[2].Value.Uint64(),
	}
}

// vmRSS returns the process's resident set size, or 0 where
// /proc/self/status does not tell it.
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// waitSessions polls the hub until it has n sessions.
func waitSessions(srv *Server, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var got int
		srv.hub.inspect(func(h *hub) { got = len(h.sessions) })
		if got == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d sessions after %v", got, n, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idleModel is n operators i00000…, each with a fixed seat and in one
// queue service, all with the same password.
func idleModel(tb testing.TB, n int) *config.Model {
	op0 := config.Operator{Enabled: true}
	if err := op0.SetPassword(idlePassword); err != nil {
		tb.Fatal(err)
	}
	m := &config.Model{}
	members := make([]config.Member, 0, n)
	for i := range n {
		op := op0
		op.Username = idleUser(i)
		op.Seat = fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16, (i>>8)&0xff, i&0xff)
		m.Operators = append(m.Operators, op)
		m.Seats = append(m.Seats, config.Seat{MAC: op.Seat, Interface: fmt.Sprintf("SIP/%05d", i)})
		members = append(members, config.Member{Operator: op.Username})
	}
	m.Services = []config.Service{{
		Name: "support", Type: config.Inbound, Context: "astcti-queue-service", IsQueue: true, Queue: idleQueue,
		Trigger: config.TriggerNone, Enabled: true, Members: members,
	}}
	return m
}

func idleUser(i int) string { return fmt.Sprintf("i%05d", i) }

// idleServer is the server under measurement.
type idleServer struct {
	*Server
	addr string
}

func startIdleServer(b *testing.B, n int, amiAddr string) *idleServer {
	b.Helper()
	dir := b.TempDir()
	if _, err := config.WriteSnapshot(context.Background(), dir, idleModel(b, n)); err != nil {
		b.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	srv := New(Config{
		AMI: ami.Config{
			Addr: amiAddr, Username: idleAMIUser, Secret: idleAMISecret,
			RetryPause: 50 * time.Millisecond, FullyBootedWait: -1, Retries: 20,
		},
		Listen:    "127.0.0.1:0",
		ConfigDir: dir,
		Keepalive: time.Hour, // idle means idle: no NOOP needed while measuring
		Ready:     func(a net.Addr) { ready <- a },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("server: %v", err)
		}
	})
	select {
	case a := <-ready:
		return &idleServer{Server: srv, addr: a.String()}
	case err := <-done:
		b.Fatalf("server: %v", err)
	case <-time.After(30 * time.Second):
		b.Fatal("the server was not ready within 30 s")
	}
	return nil
}

// idleChild is the child process: the fake PBX, then the seats.
type idleChild struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	amiAddr string
}

// startIdleChild starts the test binary as the child and reads the fake
// PBX's address.
func startIdleChild(b *testing.B, n int) *idleChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleSeatsEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &idleChild{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(func() {
		in.Close() // the child hangs up its seats and ends
		if err := cmd.Wait(); err != nil {
			b.Errorf("the seats' process: %v", err)
		}
	})
	c.amiAddr = c.expect(b, "AMI ")
	return c
}

// connect tells the child to connect its seats to addr and waits until
// every one is logged in and confirmed in its queue.
func (c *idleChild) connect(b *testing.B, addr string) {
	b.Helper()
	if _, err := fmt.Fprintf(c.in, "SEATS %s\n", addr); err != nil {
		b.Fatal(err)
	}
	c.expect(b, "READY")
}

// expect reads the child's next line, which must start with prefix, and
// returns the rest.
func (c *idleChild) expect(b *testing.B, prefix string) string {
	b.Helper()
	if !c.out.Scan() {
		b.Fatalf("the seats' process ended before %q: %v", prefix, c.out.Err())
	}
	rest, ok := strings.CutPrefix(c.out.Text(), prefix)
	if !ok {
		b.Fatalf("the seats' process said %q, want %q", c.out.Text(), prefix)
	}
	return strings.TrimSpace(rest)
}

// idleSeatsChild is the child's side: it serves a fake PBX, prints its
// address, reads the server's, logs n seats in, prints READY, and keeps
// the seats connected until its standard input ends.
func idleSeatsChild(n int, in io.Reader, out io.Writer) error {
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: fakeami.DialectModern, Scenario: scenarios.Demo(), Seed: 1})
	if err != nil {
		return err
	}
	mgr, err := fakeami.NewServer(fakeami.Config{
		Dialect: fakeami.DialectModern, Username: idleAMIUser, Secret: idleAMISecret,
		Engine: pbx, StartTime: pbx.StartTime,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	running := fakeami.Start(pbx, mgr, ln)
	defer running.Close()
	fmt.Fprintf(out, "AMI %s\n", running.Addr)

	lines := bufio.NewScanner(in)
	if !lines.Scan() {
		return fmt.Errorf("no server address: %v", lines.Err())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "SEATS ")
	if !ok {
		return fmt.Errorf("want SEATS addr, got %q", lines.Text())
	}
	seats, err := loginIdleSeats(addr, n)
	defer func() {
		for _, s := range seats {
			if s != nil {
				s.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "READY")
	for lines.Scan() { // until the benchmark closes our input
	}
	return nil
}

// loginIdleSeats connects n seats to addr, a few at a time, and waits for
// each one's queue confirmation.
func loginIdleSeats(addr string, n int) ([]*seatconn.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seats := make([]*seatconn.Conn, n)
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			c, err := loginIdleSeat(ctx, addr, i)
			mu.Lock()
			seats[i] = c
			mu.Unlock()
			return err
		})
	}
	return seats, g.Wait()
}

func loginIdleSeat(ctx context.Context, addr string, i int) (*seatconn.Conn, error) {
	c, err := seatconn.Dial(ctx, addr, seatconn.Options{ReadBuffer: 256})
	if err != nil {
		return nil, err
	}
	res, err := c.Login(ctx, idleUser(i), idlePassword, "")
	if err != nil {
		return c, fmt.Errorf("seat %d: %w", i, err)
	}
	for _, m := range res.Early {
		if isQueueConfirmed(m) {
			return c, nil
		}
	}
	deadline, _ := ctx.Deadline()
	for {
		m, err := c.ReadMessage(deadline)
		if err != nil {
			return c, fmt.Errorf("seat %d: waiting for its queue: %w", i, err)
		}
		if isQueueConfirmed(m) {
			return c, nil
		}
	}
}

func isQueueConfirmed(m seatconn.Message) bool {
	return m.Kind == seatconn.KindStatus && m.Status.Code == seatproto.CodeQueue && m.Status.Token == idleQueue
}

// runIdleSeatsChild runs the child's side when the environment asks for
// it, and reports whether it did; TestMain then exits with its status.
func runIdleSeatsChild() (ran bool, code int) {
	v := os.Getenv(idleSeatsEnv)
	if v == "" {
		return false, 0
	}
	n, err := strconv.Atoi(v)
	if err == nil {
		err = idleSeatsChild(n, os.Stdin, os.Stdout)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr, "idle seats:", err)
		return true, 1
	}
	return true, 0
}
