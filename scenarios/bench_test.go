package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseDemo(b *testing.B) {
	data, _ := Source("demo")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("demo", data); err != nil {
			b.Fatal(err)
		}
	}
}

// largeScenario is a load PBX of n phones, all members of one queue.
func largeScenario(n int) []byte {
	var b strings.Builder
	b.WriteString("-- extensions.conf --\n[from-trunk]\nexten => 600,1,Queue(big)\n-- queues.conf --\n[big]\nstrategy = rrmemory\n")
	for i := range n {
		fmt.Fprintf(&b, "member => SIP/%d\n", 10000+i)
	}
	b.WriteString("-- phones --\n")
	for i := range n {
		fmt.Fprintf(&b, "SIP/%d answers after 100ms talks 1s\n", 10000+i)
	}
	return []byte(b.String())
}

func TestParseLargeScenario(t *testing.T) {
	sc, err := Parse("large", largeScenario(10000))
	if err != nil {
		t.Fatalf("Parse(10,000 members) = %v", err)
	}
	if got := len(sc.Queues["big"].Members); got != 10000 {
		t.Errorf("Parse(10,000 members): %d members, want 10000", got)
	}
	if got := len(sc.Phones); got != 10000 {
		t.Errorf("Parse(10,000 phones): %d phones, want 10000", got)
	}
}

func BenchmarkParseLarge(b *testing.B) {
	data := largeScenario(10000)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("large", data); err != nil {
			b.Fatal(err)
		}
	}
}
