package ami

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/astcti/astcti/cti/ami/amitrace"
)

// hostileSeeds are hand-written inputs that break the framing in the ways a
// broken or hostile peer would: endless lines, binary, injected line ends,
// half messages, and 1.4 command output in odd shapes.
var hostileSeeds = []string{
	"",
	"\r\n",
	"\n\n\n",
	"\r",
	"Asterisk Call Manager/1.0\r\n",
	"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nMessage: Authentication accepted\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"Event: A\r\n\r\nEvent: B\r\nUniq",
	"Event: " + strings.Repeat("x", 3000),
	"Event: " + strings.Repeat("x", 3000) + "\r\n\r\n",
	strings.Repeat("Key: value\r\n", 500),
	strings.Repeat("k:\n", 2000) + "\n",
	"Event: A\r\ngarbage\r\n\r\n",
	": value\r\n\r\n",
	"Ev\x00ent: AB\r\n\r\n",
	"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n\r\n",
	"Ev\rent: AB\r\n\r\n",
	"Ev\tent: tab in key\r\n\r\n",
	"Event: A\r\r\n\r\n",
	"Event: A\rAction: Originate\r\n\r\n",
	"Event: UserEvent\r\nAppData: AstCTI,customer_id: 4711\r\n\r\n",
	"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nline one\nline: two\n\n--END COMMAND--\r\n\r\n",
	"Response: Follows\r\nPrivilege: Command\r\nNo such command 'x'--END COMMAND--\r\n\r\n",
	"Response: Follows\r\n--END COMMAND--\r\nTrailing: header\r\n\r\n",
	"Response: Follows\r\n" + strings.Repeat("out\n", 1000),
	"response: follows\nactionid: 1\nPrivilege: x\n--END COMMAND--\n\n",
	"Response: Success\r\nMessage: Command output follows\r\nOutput: a\r\nOutput: b\r\n\r\n",
	"\xff\xfe\xfd: \xfc\r\n\r\n",
}

// fuzzLimits turns two fuzzed numbers into small Reader limits, so that the
// fuzzer reaches them with short inputs.
func fuzzLimits(maxLine, maxPacket uint16) (int, int) {
	return 8 + int(maxLine%4096), 16 + int(maxPacket%16384)
}

// maxSeed caps a seed: a trace longer than this is cut at the last message
// boundary before it. The whole traces (up to the 5 MB benchmark burst) are
// read by TestTracesRoundTrip; a fuzzer that mutates and minimises long
// inputs spends its time copying them.
const maxSeed = 32 << 10

// addSeeds adds every recorded trace, both directions, and the hostile
// seeds, to a fuzz target whose extra arguments are given by extra.
func addSeeds(f *testing.F, extra ...any) {
	f.Helper()
	files, err := amitrace.All()
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		for _, p := range []string{path, strings.TrimSuffix(path, ".ami") + ".actions"} {
			b, err := os.ReadFile(p)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > maxSeed {
				b = b[:bytes.LastIndex(b[:maxSeed], []byte("\r\n\r\n"))+4]
			}
			f.Add(append([]any{b}, extra...)...)
		}
	}
	for _, s := range hostileSeeds {
		f.Add(append([]any{[]byte(s)}, extra...)...)
	}
}

// readResult is everything a Reader made of a stream.
type readResult struct {
	version string
	frames  []*Frame
	err     error // io.EOF at a clean end
}

// readStream reads src to its first error with the given limits, reading
// the banner first when the stream starts with one. Each message is kept
// with Frame.
func readStream(src io.Reader, banner bool, maxLine, maxPacket int) (*Reader, readResult) {
	return readStreamWith(src, banner, maxLine, maxPacket, func(_ *Reader, m *Message) *Frame { return m.Frame() })
}

// readShared is readStream keeping each message with FrameShared, the way
// the client's reader does.
func readShared(src io.Reader, banner bool, maxLine, maxPacket int) (*Reader, readResult) {
	return readStreamWith(src, banner, maxLine, maxPacket, func(r *Reader, _ *Message) *Frame {
		f := new(Frame)
		r.FrameShared(f)
		return f
	})
}

func readStreamWith(src io.Reader, banner bool, maxLine, maxPacket int, keep func(*Reader, *Message) *Frame) (*Reader, readResult) {
	r := NewReader(src)
	r.MaxLine, r.MaxPacket = maxLine, maxPacket
	var res readResult
	if banner {
		res.version, res.err = r.ReadBanner()
		if res.err != nil {
			return r, res
		}
	}
	for {
		m, err := r.Next()
		if err != nil {
			res.err = err
			return r, res
		}
		res.frames = append(res.frames, keep(r, m))
	}
}

// checkReadErr fails unless err is one a Reader may return.
func checkReadErr(t *testing.T, err error) {
	t.Helper()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("Next() error %v (%T), want *ProtocolError, io.EOF or io.ErrUnexpectedEOF", err, err)
	}
	switch pe.Err {
	case ErrLineTooLong, ErrPacketTooLarge, ErrMalformed, ErrBadBanner:
	default:
		t.Fatalf("ProtocolError.Err = %v, want one of the sentinels", pe.Err)
	}
	if pe.Offset < 0 || len(pe.Input) > 64 {
		t.Fatalf("ProtocolError %+v: bad offset or excerpt", pe)
	}
}

// sameErr reports whether two read errors are the same error at the same
// place (the excerpt may differ: it shows what happened to be buffered).
func sameErr(a, b error) bool {
	var pa, pb *ProtocolError
	if errors.As(a, &pa) && errors.As(b, &pb) {
		return pa.Err == pb.Err && pa.Offset == pb.Offset
	}
	return a == b
}

// FuzzReader feeds arbitrary bytes to a Reader with small limits: it must
// never panic, must fail only with the documented errors, must hold no more
// memory than its limits allow, and every message it returns must respect
// them.
func FuzzReader(f *testing.F) {
	addSeeds(f, uint16(1024), uint16(8192))
	f.Fuzz(func(t *testing.T, data []byte, ml, mp uint16) {
		maxLine, maxPacket := fuzzLimits(ml, mp)
		banner := bytes.HasPrefix(data, []byte(bannerPrefix))
		r, res := readStream(bytes.NewReader(data), banner, maxLine, maxPacket)
		checkReadErr(t, res.err)
		if limit := max(64<<10, maxPacket+maxLine+readChunk); len(r.buf) > limit {
			t.Fatalf("buffer grew to %d bytes, limit %d", len(r.buf), limit)
		}
		if cap(r.msg.fields) > maxKeptFields && cap(r.msg.fields) > maxPacket/2+1 {
			t.Fatalf("kept %d field spans for %d-byte messages", cap(r.msg.fields), maxPacket)
		}
		for _, fr := range res.frames {
			size := 0
			for _, fl := range fr.Fields {
				if fl.Key == "" || strings.ContainsAny(fl.Key, ":\r\n\x00") || strings.Contains(fl.Value, "\n") {
					t.Fatalf("bad field %q: %q", fl.Key, fl.Value)
				}
				if n := len(fl.Key) + len(fl.Value); n > maxLine {
					t.Fatalf("field of %d bytes passed MaxLine %d", n, maxLine)
				}
				size += len(fl.Key) + len(fl.Value)
			}
			for _, o := range fr.Output {
				if strings.Contains(o, "\n") || len(o) > maxLine {
					t.Fatalf("bad output line %q", o)
				}
				size += len(o)
			}
			if size > maxPacket {
				t.Fatalf("message of %d bytes passed MaxPacket %d", size, maxPacket)
			}
		}
	})
}

// chunks cuts data into pieces of 1 to 64 bytes chosen by seed.
func chunks(data []byte, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out [][]byte
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(64))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// FuzzReaderChunked checks that the read boundaries never change the
// result: the same stream read whole and read in fuzzed pieces gives the
// same frames and the same error at the same offset. The pieces are kept
// with FrameShared, whose copies of the input change with every read:
// each frame must still hold its own message once the stream is read.
func FuzzReaderChunked(f *testing.F) {
	addSeeds(f, uint64(1), uint16(1024), uint16(8192))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, ml, mp uint16) {
		maxLine, maxPacket := fuzzLimits(ml, mp)
		banner := bytes.HasPrefix(data, []byte(bannerPrefix))
		_, whole := readStream(bytes.NewReader(data), banner, maxLine, maxPacket)
		_, cut := readShared(&chunkReader{chunks: chunks(data, seed)}, banner, maxLine, maxPacket)
		if whole.version != cut.version {
			t.Fatalf("banner %q read whole, %q in pieces", whole.version, cut.version)
		}
		if !sameErr(whole.err, cut.err) {
			t.Fatalf("error %v read whole, %v in pieces", whole.err, cut.err)
		}
		if len(whole.frames) != len(cut.frames) {
			t.Fatalf("%d frames read whole, %d in pieces", len(whole.frames), len(cut.frames))
		}
		for i := range whole.frames {
			if w, c := whole.frames[i].String(), cut.frames[i].String(); w != c {
				t.Fatalf("frame %d read whole:\n%s\nin pieces:\n%s", i, w, c)
			}
		}
	})
}

// FuzzRoundTrip parses a stream, writes every frame back with AppendFrame
// and parses that again: the frames must come back equal. A frame the
// writer refuses must hold a byte that would break the framing.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		banner := bytes.HasPrefix(data, []byte(bannerPrefix))
		_, first := readStream(bytes.NewReader(data), banner, DefaultMaxLine, DefaultMaxPacket)
		var (
			wire []byte
			kept []*Frame
		)
		for _, fr := range first.frames {
			out, err := AppendFrame(wire, fr)
			if err != nil {
				if !errors.Is(err, ErrUnsafeField) || !strings.ContainsAny(fr.String(), "\r\x00") {
					t.Fatalf("AppendFrame(%q) = %v", fr.String(), err)
				}
				continue
			}
			wire, kept = out, append(kept, fr)
		}
		_, second := readStream(bytes.NewReader(wire), false, DefaultMaxLine, DefaultMaxPacket)
		if second.err != io.EOF {
			t.Fatalf("reading %q back: %v", wire, second.err)
		}
		if len(second.frames) != len(kept) {
			t.Fatalf("%d frames written, %d read back from %q", len(kept), len(second.frames), wire)
		}
		for i := range kept {
			if w, g := kept[i], second.frames[i]; !equalFrames(w, g) {
				t.Fatalf("frame %d written as\n%s\nread back as\n%s", i, w, g)
			}
		}
	})
}

func equalFrames(a, b *Frame) bool {
	if len(a.Fields) != len(b.Fields) || len(a.Output) != len(b.Output) || (a.Output == nil) != (b.Output == nil) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i] != b.Fields[i] {
			return false
		}
	}
	for i := range a.Output {
		if a.Output[i] != b.Output[i] {
			return false
		}
	}
	return true
}
