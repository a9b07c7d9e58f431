package ami

import (
	"bufio"
	"bytes"
	"net/textproto"
	"path/filepath"
	"testing"
)

// compareTraces are the recorded streams BenchmarkCompare reads. The list is
// repeated in loadgen/amibench-node/compare.sh, which feeds the same files
// to the Node.js parser, so that every parser reads the same bytes.
var compareTraces = []string{
	"asterisk-22.10.1/o_bench_burst.ami",         // 13,287 messages, 150 queue calls
	"asterisk-1.8.32.3-sip/c_queue_answered.ami", // one queue call, chan_sip
	"asterisk-20.20.1-sip/l_busy.ami",            // busy calls, chan_sip
}

// BenchmarkCompare reads the same streams with the parsers a user could
// pick, one sub-benchmark each, so that with -count N the rounds of every
// parser interleave and share the machine's state: the bare scan for the
// empty line (the floor: no parsing at all), this package's Reader, and
// net/textproto's ReadMIMEHeader. One op is one message.
func BenchmarkCompare(b *testing.B) {
	for _, name := range compareTraces {
		body := traceBody(b, name)
		msgs := bytes.Count(body, []byte("\r\n\r\n"))
		trace := filepath.Base(filepath.Dir(name)) + "/" + filepath.Base(name)
		run := func(parser string, next func() error) {
			b.Run(trace+"/"+parser, func(b *testing.B) {
				b.SetBytes(int64(len(body) / msgs))
				b.ReportAllocs()
				for b.Loop() {
					if err := next(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
		sc := newEmptyLineScanner(&cycleReader{body: body})
		run("scan", sc.next)
		r := NewReader(&cycleReader{body: body})
		run("reader", func() error { _, err := r.Next(); return err })
		tp := textproto.NewReader(bufio.NewReaderSize(&cycleReader{body: body}, 64<<10))
		run("textproto", func() error { _, err := tp.ReadMIMEHeader(); return err })
	}
}

// emptyLineScanner finds the "\r\n\r\n" that ends each message and nothing
// else: the least work any AMI parser can do, through the same 64 KiB
// buffer and the same reads as Reader.
type emptyLineScanner struct {
	src        *cycleReader
	buf        []byte
	start, end int
}

func newEmptyLineScanner(src *cycleReader) *emptyLineScanner {
	return &emptyLineScanner{src: src, buf: make([]byte, 64<<10)}
}

var emptyLine = []byte("\r\n\r\n")

func (s *emptyLineScanner) next() error {
	for {
		if i := bytes.Index(s.buf[s.start:s.end], emptyLine); i >= 0 {
			s.start += i + len(emptyLine)
			return nil
		}
		n := copy(s.buf, s.buf[s.start:s.end])
		s.start, s.end = 0, n
		m, err := s.src.Read(s.buf[s.end:])
		if err != nil {
			return err
		}
		s.end += m
	}
}
