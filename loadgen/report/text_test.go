package report

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failAfter is a writer that accepts n bytes and then fails.
type failAfter struct{ n int }

var errFull = errors.New("disk full")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, sampleData()))
	out := b.String()
	lines := strings.Split(out, "\n")
	require.Equal(t, "Load test: 200 seats, 20 calls/s", lines[0])
	assert.Equal(t, "started 2026-11-25T10:00:00Z, ran 30s", lines[1])

	// The runs side by side: one column per run, the counters first.
	header := lineWith(t, out, "astcti (one AMI connection)")
	assert.Contains(t, header, "direct (one AMI connection per seat)")
	col := strings.Index(header, "direct")
	for _, name := range []string{"offered", "lost", "misdelivered", "latency p50", "latency p99.9", "latency max", "latency count"} {
		row := lineWith(t, out, "  "+name+" ")
		assert.Regexp(t, `^  `+regexp.QuoteMeta(name)+` +\S+ +\S`, row)
		assert.NotEqual(t, ' ', rune(row[col]), "%q: the second run's value is in the second run's column", row)
		assert.Equal(t, ' ', rune(row[col-1]), "%q: the second column starts where its header does", row)
	}
	assert.Regexp(t, `  latency count +600 +600`, out)
	assert.Regexp(t, `  latency p50 +0\.\d{3} ms +\d+\.\d{3} ms`, out)

	// Then the further tables, the parameters and the machine, in order.
	order := []string{"\nRuns\n", "\nLogin storm\n", "\nParameters\n", "\nMachine\n"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		assert.Greater(t, i, last, "%q comes after the previous section", s)
		last = i
	}
	assert.Regexp(t, `  seats +cold start +after restart\n  200 +0\.41 s +0\.38 s\n`, out)
	assert.Regexp(t, `  rate +20/s\n`, out)
	assert.Regexp(t, `  os/arch +linux/amd64\n`, out)
}

// lineWith returns the first line of out that contains s.
func lineWith(t *testing.T, out, s string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line with %q in:\n%s", s, out)
	return ""
}

func TestWriteTextEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		data Data
		want []string // regexps the output must match
	}{
		{"empty", Data{}, []string{`^Load test\n`, `started -, ran 0s\n`, `\nRuns\n  \(none\)\n`, `\nParameters\n  \(none\)\n`}},
		{"run without samples", Data{Runs: []Run{{Name: "idle", Counters: []Param{{"offered", "0"}}}}}, []string{
			`  offered +0\n`, `  latency p50 +-\n`, `  latency count +0\n`,
		}},
		{"a counter only one run has", Data{Runs: []Run{{Name: "a", Counters: []Param{{"x", "1"}}}, {Name: "b", Counters: []Param{{"y", "2"}}}}}, []string{
			`  x +1 +-\n`, `  y +- +2\n`,
		}},
		{"tabs and line breaks cannot break a column", Data{Title: "two\nlines", Params: []Param{{"a\tb", "c\r\nd"}}}, []string{
			`^two lines\n`, `  a b +c  d\n`,
		}},
		{"duration rounded", Data{Duration: 1500*time.Millisecond + 1234}, []string{`ran 1\.5s\n`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteText(&b, &tc.data))
			for _, re := range tc.want {
				assert.Regexp(t, re, b.String())
			}
		})
	}
}

func TestWritersReturnTheWriteError(t *testing.T) {
	writers := map[string]func(io.Writer, *Data) error{"text": WriteText, "json": WriteJSON, "html": WriteHTML}
	for name, write := range writers {
		var full bytes.Buffer
		require.NoError(t, write(&full, sampleData()))
		// Fail at the start, inside, and on the very last byte.
		for _, n := range []int{0, full.Len() / 2, full.Len() - 1} {
			err := write(&failAfter{n}, sampleData())
			assert.ErrorIs(t, err, errFull, "%s writer failing after %d of %d bytes", name, n, full.Len())
		}
		assert.NoError(t, write(&failAfter{full.Len()}, sampleData()), "%s writer with room for all", name)
	}
}
