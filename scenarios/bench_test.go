package scenarios

import "testing"

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
