package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseXML checks that the XML parser never panics, that every problem
// it reports has a line, and that whatever it accepts survives an export
// and a re-import unchanged. Seeds: the demo export and the hand-written
// files of testdata/xml.
func FuzzParseXML(f *testing.F) {
	var demo bytes.Buffer
	if err := WriteXML(&demo, Demo()); err != nil {
		f.Fatal(err)
	}
	f.Add(demo.Bytes())
	files, _ := filepath.Glob("testdata/xml/*.xml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<astcti-config version="1"/>`))
	f.Add([]byte(`<astcti-config version="1"><service name="s" type="inbound" context="c" trigger="application" application="a" parameters="${x}"><variable name="x"/></service></astcti-config>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseXML(bytes.NewReader(data))
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					if p.Line < 1 {
						t.Errorf("problem without a line: %q", p.Msg)
					}
				}
			}
			return
		}
		var out bytes.Buffer
		if err := WriteXML(&out, m); err != nil {
			t.Fatal(err)
		}
		back, err := ParseXML(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("re-import of the export failed: %v\nexport:\n%s", err, out.Bytes())
		}
		a, b := content(m), content(back)
		var x, y bytes.Buffer
		WriteXML(&x, a)
		WriteXML(&y, b)
		if !bytes.Equal(x.Bytes(), y.Bytes()) {
			t.Fatalf("round trip changed the configuration:\n%s\n---\n%s", x.Bytes(), y.Bytes())
		}
	})
}
