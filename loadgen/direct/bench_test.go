package direct

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
	"github.com/astcti/astcti/fakeami"
)

// BenchmarkClientEvent is what one event of the PBX costs one client:
// framing by the codec and the link rule, on a recorded Asterisk 22 stream.
// Every client pays it for every event, whoever's phone it is about.
func BenchmarkClientEvent(b *testing.B) {
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), "asterisk-22.10.1/o_bench_burst.ami"))
	if err != nil {
		b.Fatal(err)
	}
	body := tr.Received[bytes.Index(tr.Received, []byte("\r\n"))+2:]
	r := ami.NewReader(bytes.NewReader(body))
	l := linker{phone: "Local/201@phones"}
	b.SetBytes(int64(len(body) / bytes.Count(body, []byte("\r\n\r\n"))))
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			b.StopTimer() // the stream again, from its start, not counted
			r = ami.NewReader(bytes.NewReader(body))
			b.StartTimer()
			m, err = r.Next()
		}
		if err != nil {
			b.Fatal(err)
		}
		l.observe(m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMemoryPerClient logs 200 clients in to an idle fake PBX and
// reports the heap and goroutine stacks each one holds, the PBX's side of
// the session included (bare: a socket that logged in, and nothing else): this package's
// client (codec Reader, one goroutine), and, for comparison, the project's
// ami.Client with the subscription a mini-CTI would read (three goroutines
// of its own and the reader's, an action queue, a 4,096-item subscription
// buffer, a Writer, keepalive Pings). Run with -benchtime 1x.
func BenchmarkMemoryPerClient(b *testing.B) {
	const n = 200
	for _, tc := range []struct {
		name  string
		start func(b *testing.B, addr string) (stop func())
	}{
		{"bare", startBare(n)},
		{"direct", startDirect(n)},
		{"ami.Client", startAMIClients(n)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := startPBX(b, fakeami.DialectModern, n)
			var perClient float64
			for b.Loop() {
				before := inUse()
				stop := tc.start(b, r.Addr)
				perClient = float64(inUse()-before) / n
				stop()
			}
			b.ReportMetric(perClient, "B/client")
		})
	}
}

func startDirect(n int) func(*testing.B, string) func() {
	return func(b *testing.B, addr string) func() {
		f, err := Start(context.Background(), Options{Addr: addr, Username: testUser, Secret: testSecret, Phones: loadPhones(n)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return func() { f.Close() }
	}
}

func startAMIClients(n int) func(*testing.B, string) func() {
	return func(b *testing.B, addr string) func() {
		var wg sync.WaitGroup
		clients := make([]*ami.Client, n)
		for i := range clients {
			c := ami.New(ami.Config{Addr: addr, Username: testUser, Secret: testSecret, FullyBootedWait: time.Second, Retries: 1})
			sub := c.Subscribe(0)
			wg.Go(func() { c.Run(context.Background()) })
			it, ok := <-sub.C()
			if !ok || it.Up == nil {
				b.Fatalf("client %d: no link: %v", i, sub.Err())
			}
			wg.Go(func() {
				for range sub.C() {
				}
			})
			clients[i] = c
		}
		return func() {
			for _, c := range clients {
				c.Close()
			}
			wg.Wait()
		}
	}
}

// startBare logs in bare connections that hold nothing but the socket
// and read nothing after the login: what remains is the PBX's side of a
// session, to subtract from the other figures.
func startBare(n int) func(*testing.B, string) func() {
	return func(b *testing.B, addr string) func() {
		conns := make([]net.Conn, n)
		for i := range conns {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(c, "Action: Login\r\nUsername: %s\r\nSecret: %s\r\n\r\n", testUser, testSecret)
			if err := readUntil(c, "Authentication accepted"); err != nil {
				b.Fatal(err)
			}
			conns[i] = c
		}
		return func() {
			for _, c := range conns {
				c.Close()
			}
		}
	}
}

// readUntil reads from c, a few bytes at a time, until want has been read.
func readUntil(c net.Conn, want string) error {
	var seen []byte
	buf := make([]byte, 256)
	for len(seen) < 4096 {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if seen = append(seen, buf[:n]...); bytes.Contains(seen, []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no %q in %q", want, seen)
}

// inUse is the heap and the goroutine stacks in use after a collection.
func inUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}
