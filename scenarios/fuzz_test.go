package scenarios

import (
	"errors"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzParse feeds whole archives to Parse, seeded with the library. Parse
// must never panic; what it accepts must validate, survive Merge, and
// lead every call somewhere.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		data, err := Source(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(archive(fileExtensions, "[c]\nexten => _[1-5]X!,1(l),Goto(c,${EXTEN},l)\n;-- x\n"))
	f.Add(archive(fileQueues, "[t](!)\nmember => SIP/1,1,a\n[q](t,!)\n[r](t)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data)
	})
}

// FuzzFiles builds an archive out of one text per file, so that the fuzzer
// works on the languages rather than on txtar markers.
func FuzzFiles(f *testing.F) {
	for _, n := range Names() {
		data, err := Source(n)
		if err != nil {
			f.Fatal(err)
		}
		ext, queues, phones, calls, traffic := section(data, fileExtensions), section(data, fileQueues),
			section(data, filePhones), section(data, fileCalls), section(data, fileTraffic)
		f.Add(ext, queues, phones, calls, traffic)
	}
	f.Add("[c]\nexten => 1,1,UserEvent(A,b: c)\n", "", "SIP/1 answers after 1s without ringing talks 1s", `at 0 from "a\"b" <1> to 1@c digits 1#`, "rate 1/s to 1@c*3 from 1-2 patience 1s-2s seed -1 via SIP/x")
	f.Fuzz(func(t *testing.T, ext, queues, phones, calls, traffic string) {
		checkParse(t, archive(fileExtensions, ext, fileQueues, queues, filePhones, phones, fileCalls, calls, fileTraffic, traffic))
	})
}

// section returns the text of one file of an archive.
func section(data []byte, name string) string {
	for _, f := range txtar.Parse(data).Files {
		if f.Name == name {
			return string(f.Data)
		}
	}
	return ""
}

func checkParse(t *testing.T, data []byte) {
	sc, err := Parse("fuzz", data)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse error %v is not an *Error", err)
		}
		return
	}
	if err := sc.Validate(); err != nil {
		t.Fatalf("Parse accepted a scenario that Validate refuses: %v", err)
	}
	if _, err := Merge(sc, sc); err != nil {
		t.Fatalf("Merge(sc, sc): %v", err)
	}
	for _, c := range sc.Calls {
		if _, ok := sc.Contexts[c.Context].Match(c.Exten); !ok {
			t.Fatalf("call to %s@%s was accepted but leads nowhere", c.Exten, c.Context)
		}
	}
	for _, c := range sc.Contexts {
		for exten, steps := range c.Extens {
			for i, st := range steps {
				if st.Priority != i+1 {
					t.Fatalf("%s@%s: step %d has priority %d", exten, c.Name, i, st.Priority)
				}
			}
		}
	}
}
