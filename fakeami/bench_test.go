package fakeami

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// BenchmarkCallsPerSecond runs b.N calls of steady traffic at 1,000 calls a
// second of model time through one rrmemory queue of 10,000 members
// (ringinuse no) whose phones answer after 100 ms and talk 1 s, with one
// manager session over TCP that reads and discards everything, and reports
// calls per second of wall time: what the fake PBX can sustain on the
// CPUs it has (run with GOMAXPROCS=1 for one core). The clock is manual so
// that the model runs as fast as it can; the time includes writing every
// event to the session and the client reading it.
func BenchmarkCallsPerSecond(b *testing.B) {
	for _, d := range []Dialect{DialectModern, Dialect14} {
		b.Run("dialect="+d.String()+"/members=10000", func(b *testing.B) { benchCalls(b, d, 10000) })
	}
}

func benchCalls(b *testing.B, d Dialect, members int) {
	clock := NewManualClock(testEpoch)
	sc := parseScenario(b, string(LoadScenario(members, "rrmemory", 100*time.Millisecond, time.Second)))
	p, err := NewPBX(Options{Dialect: d, Scenario: sc, Seed: 1, Clock: clock})
	require.NoError(b, err)
	startStepped(b, p)
	srv, err := NewServer(Config{Dialect: d, Username: "u", Secret: "s", Engine: p})
	require.NoError(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(b, err)
	defer conn.Close()
	r := ami.NewReader(conn)
	_, err = r.ReadBanner()
	require.NoError(b, err)
	w := ami.NewWriter(conn)
	require.NoError(b, w.WriteFrame(ami.NewAction("Login", "Username", "u", "Secret", "s")))
	require.NoError(b, w.Flush())
	for srv.Stats().Sessions == 0 {
		time.Sleep(time.Millisecond)
	}
	read := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, conn); read <- n }()

	traffic, err := scenarios.ParseFragment("traffic", []byte("-- traffic --\nrate 1000/s to 600@from-trunk from 10000-99999 patience 30s-60s seed 1\n"))
	require.NoError(b, err)
	require.NoError(b, p.Play(traffic))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	// The model must not outrun the session's writer, which would drop a
	// client whose queue fills: after each step it waits for the queue to
	// drain below a quarter, so the figure is what model and writer
	// sustain together.
	step := func(d time.Duration) {
		clock.Advance(d)
		for queued(srv) > sessionQueue/4 {
			runtime.Gosched()
		}
	}
	for p.Traffic().Placed < int64(b.N) {
		step(time.Millisecond)
	}
	p.StopTraffic()
	for p.callsEnded.Load() < p.callsStarted.Load() {
		step(10 * time.Millisecond)
	}
	for queued(srv) > 0 {
		runtime.Gosched()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	calls := p.callsStarted.Load()
	b.ReportMetric(float64(calls)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(srv.Stats().EventsWritten)/float64(calls), "events/call")
	require.Equal(b, calls, p.callsAnswered.Load(), "every call answered")
	require.Equal(b, 1, srv.Stats().Sessions, "the reading client was never dropped")
	conn.Close()
	<-read
}

// queued returns the most frames waiting in one session's queue.
func queued(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ss := range s.sessions {
		n = max(n, len(ss.out))
	}
	return n
}
