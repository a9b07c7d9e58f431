package calls

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/astcti/astcti/cti/ami"
)

// TestCensus counts the calls in progress per service as the events come:
// a call counts once it entered its service, as answered once a seat's
// phone answered, and no more once it hung up.
func TestCensus(t *testing.T) {
	tests := []struct {
		name   string
		frames []*ami.Frame
		want   []ServiceCount
	}{
		{"none", nil, []ServiceCount{}},
		{"a channel in no service", fs(newch("SIP/trunk-00000009", "9", "900")), []ServiceCount{}},
		{"one call ringing", seq(sipCall, fs(newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))),
			[]ServiceCount{{Service: "sales", Calls: 1}}},
		{"answered, and a second service", seq(sipCall, fs(
			newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Up"), enter("b", "2"), enter("b", "1"),
			newch("SIP/trunk-00000002", "A", "1301"), qjoin("A", "support"),
		)), []ServiceCount{{Service: "sales", Calls: 1, Answered: 1}, {Service: "support", Calls: 1}}},
		{"hung up", seq(sipCall, fs(hangup("1", "16"))), []ServiceCount{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := NewTracker(ruleCatalog())
			for _, f := range tc.frames {
				tk.Apply(f)
			}
			assert.Equal(t, tc.want, tk.Census(), "Census() after %d frames", len(tc.frames))
		})
	}
}
