package direct

import (
	"bytes"
	"testing"

	"github.com/astcti/astcti/cti/ami"
)

// FuzzLinker feeds any stream to the link rule: it must never panic, and
// every caller it reports must be a non-empty uniqueid from the stream,
// told once.
func FuzzLinker(f *testing.F) {
	const b1 = "9034d32a-fcc0-4afb-936f-d79f6158c385"
	f.Add("SIP/201", []byte(bridgeEnter(b1, "1", "SIP/201-00000007", "1.7")+bridgeEnter(b1, "2", "SIP/trunk-00000006", "1.6")))
	f.Add("SIP/201", []byte(bridgeEnter(b1, "1", "SIP/trunk-00000006", "1.6")+bridgeEnter(b1, "2", "SIP/201-00000007", "1.7")+bridgeLeave(b1, "SIP/201-00000007", "1.7")))
	f.Add("Local/201@phones", []byte(link14("Link", "Local/102@q-f59d,2", "Local/201@phones-abe2,1", "1.25", "1.26")+link14("Link", "Local/102@q-f59d,2", "Local/201@phones-abe2,1", "1.25", "1.26")))
	f.Add("SIP/201", []byte(bridge18("Link", "SIP/trunk-06", "SIP/201-07", "1.6", "1.7")+hangup("SIP/201-07", "1.7")))
	f.Add("", []byte("Event: BridgeEnter\r\nChannel: -\r\nBridgeUniqueid: x\r\nUniqueid: u\r\n\r\n"))
	f.Add("SIP/2", []byte("Event: BridgeEnter\r\nChannel: SIP/2-;2\r\nBridgeUniqueid: x\r\nUniqueid: u\r\n\r\n"))
	f.Fuzz(func(t *testing.T, phone string, wire []byte) {
		l := linker{phone: phone}
		r := ami.NewReader(bytes.NewReader(wire))
		seen := map[string]bool{}
		for range 1000 {
			m, err := r.Next()
			if err != nil {
				return
			}
			uid, ok := l.observe(m)
			if !ok {
				continue
			}
			if uid == "" || !bytes.Contains(wire, []byte(uid)) {
				t.Fatalf("observe reported %q, not a uniqueid of the stream", uid)
			}
			if seen[uid] && len(seen) < recentLinks {
				t.Fatalf("observe reported %q twice", uid)
			}
			seen[uid] = true
		}
	})
}
