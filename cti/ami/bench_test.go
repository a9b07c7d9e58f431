package ami

import (
	"bufio"
	"bytes"
	"net/textproto"
	"path/filepath"
	"testing"

	"github.com/astcti/astcti/cti/ami/amitrace"
)

// cycleReader serves body again and again, so a benchmark can read as many
// messages as it needs from one recorded stream.
type cycleReader struct {
	body []byte
	off  int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	n := copy(p, c.body[c.off:])
	c.off = (c.off + n) % len(c.body)
	return n, nil
}

func traceBody(b *testing.B, name string) []byte {
	b.Helper()
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), name))
	if err != nil {
		b.Fatal(err)
	}
	i := bytes.Index(tr.Received, []byte("\r\n"))
	return tr.Received[i+2:]
}

// BenchmarkReader measures the codec on recorded streams: one op is one
// message. The msgs/s metric is what docs/performance.md reports.
func BenchmarkReader(b *testing.B) {
	for _, name := range []string{
		"asterisk-22.10.1/o_bench_burst.ami",
		"asterisk-1.4.44/c_queue_answered.ami",
	} {
		body := traceBody(b, name)
		b.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(b *testing.B) {
			r := NewReader(&cycleReader{body: body})
			msgs := bytes.Count(body, []byte("\r\n\r\n"))
			b.SetBytes(int64(len(body) / msgs))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Next(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkReaderFrame adds the copy a consumer makes to keep a message.
func BenchmarkReaderFrame(b *testing.B) {
	body := traceBody(b, "asterisk-22.10.1/o_bench_burst.ami")
	r := NewReader(&cycleReader{body: body})
	var f Frame
	b.SetBytes(int64(len(body) / bytes.Count(body, []byte("\r\n\r\n"))))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		m.FrameInto(&f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTextproto reads the same stream with net/textproto's
// ReadMIMEHeader, the obvious stdlib alternative, for comparison: one op is
// one message.
func BenchmarkTextproto(b *testing.B) {
	body := traceBody(b, "asterisk-22.10.1/o_bench_burst.ami")
	tp := textproto.NewReader(bufio.NewReaderSize(&cycleReader{body: body}, 64<<10))
	msgs := bytes.Count(body, []byte("\r\n\r\n"))
	b.SetBytes(int64(len(body) / msgs))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.ReadMIMEHeader(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkAppendFrame(b *testing.B) {
	f := NewAction("QueueAdd", "ActionID", "42", "Queue", "astcti-queue",
		"Interface", "Local/201@phones/n", "Penalty", "1", "Paused", "false")
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = AppendFrame(buf[:0], f)
	}
}

// BenchmarkReaderCopy is what the Client's reader does per message: Next,
// then a frame from the client's pool filled with FrameShared, which its
// one subscriber releases.
func BenchmarkReaderCopy(b *testing.B) {
	body := traceBody(b, "asterisk-22.10.1/o_bench_burst.ami")
	r := NewReader(&cycleReader{body: body})
	var pool framePool
	b.SetBytes(int64(len(body) / bytes.Count(body, []byte("\r\n\r\n"))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
		f := pool.get()
		r.FrameShared(f)
		pool.deliver(f, 1)
		f.Release()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
