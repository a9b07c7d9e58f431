package fakeami

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkRing(t *testing.T) {
	r := newLinkRing(4)
	for i := range 6 {
		r.add(Link{Uniqueid: itoa(i + 1)})
	}
	ids := func(ls []Link) (out []string) {
		for _, l := range ls {
			out = append(out, l.Uniqueid+"@"+itoa(int(l.Seq)))
		}
		return out
	}
	tests := []struct {
		name         string
		after        uint64
		limit        int
		want         []string
		wantLost     uint64
		wantNoResult bool
	}{
		{"from the oldest kept", 0, 10, []string{"3@3", "4@4", "5@5", "6@6"}, 0, false},
		{"limited", 0, 2, []string{"3@3", "4@4"}, 0, false},
		{"after a kept seq", 4, 10, []string{"5@5", "6@6"}, 0, false},
		{"right before the oldest", 2, 10, []string{"3@3", "4@4", "5@5", "6@6"}, 0, false},
		{"some dropped", 1, 10, []string{"3@3", "4@4", "5@5", "6@6"}, 1, false},
		{"up to date", 6, 10, nil, 0, true},
		{"ahead", 9, 10, nil, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, lost := r.since(tc.after, tc.limit)
			assert.Equal(t, tc.want, ids(got), "since(%d, %d)", tc.after, tc.limit)
			assert.Equal(t, tc.wantLost, lost, "lost")
			assert.NotNil(t, got, "[] in JSON, not null")
		})
	}
}

func TestLinkMember(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SIP/201", "SIP/201"},
		{"Local/201@phones/n", "Local/201@phones"},
		{"Local/201@phones", "Local/201@phones"},
		{"PJSIP/201", "PJSIP/201"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, linkMember(tc.in), "linkMember(%q)", tc.in)
	}
}

// TestTrafficLinksEveryAnsweredCall places about 200 calls through a
// 1,000-member round-robin queue with the control API's traffic, stops
// it, lets every call end, and checks that each call has exactly one link,
// at a member of the queue, matching the BridgeEnter the sessions got.
func TestTrafficLinksEveryAnsweredCall(t *testing.T) {
	bothDialects(t, func(t *testing.T, d Dialect) {
		tp := newTestPBX(t, d, parseScenario(t, string(LoadScenario(1000, "rrmemory", 50*time.Millisecond, 500*time.Millisecond))))
		srv, err := NewServer(Config{Dialect: d, Username: "u", Secret: "s", Engine: tp.PBX})
		require.NoError(t, err)
		h := (&Control{PBX: tp.PBX, Server: srv}).Handler()

		code, body := request(t, h, "POST", "/traffic", "rate 100/s to 600@from-trunk from 10000-99999 patience 30s-60s seed 7")
		require.Equal(t, http.StatusOK, code, body)
		for range 20 {
			tp.advance(100 * time.Millisecond)
		}
		code, body = request(t, h, "DELETE", "/traffic", "")
		require.Equal(t, http.StatusOK, code, body)
		tp.advance(time.Minute)

		var traffic TrafficStatus
		code, body = request(t, h, "GET", "/traffic", "")
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, json.Unmarshal([]byte(body), &traffic))
		assert.False(t, traffic.On)
		require.InDelta(t, 200, traffic.Placed, 60, "about 100 calls/s for 2 s")

		code, body = request(t, h, "GET", "/links?after=0&limit=100000", "")
		require.Equal(t, http.StatusOK, code)
		var links []Link
		require.NoError(t, json.Unmarshal([]byte(body), &links))
		require.Len(t, links, int(traffic.Placed), "one link per call placed")

		linking := map[string]bool{} // caller uniqueids the sessions saw linked
		if d == DialectModern {
			for _, f := range tp.rec.find("BridgeEnter") {
				if strings.HasPrefix(f.Get("Channel"), "SIP/trunk-") {
					linking[f.Get("Uniqueid")] = true
				}
			}
		} else {
			for _, f := range tp.rec.find("Link") {
				linking[f.Get("Uniqueid1")] = true
			}
		}
		seen := map[string]bool{}
		for i, l := range links {
			assert.Equal(t, uint64(i+1), l.Seq)
			assert.False(t, seen[l.Uniqueid], "link %d: caller %s linked twice", l.Seq, l.Uniqueid)
			seen[l.Uniqueid] = true
			assert.True(t, linking[l.Uniqueid], "link %d: no linking event for caller %s", l.Seq, l.Uniqueid)
			assert.Equal(t, LoadQueue, l.Queue)
			assert.Regexp(t, `^SIP/1[0-9]{4}$`, l.Member)
			assert.NotZero(t, l.UnixNano)
		}
		assert.Len(t, linking, len(links), "every linked caller has a link entry")

		var st Stats
		code, body = request(t, h, "GET", "/stats", "")
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		assert.Equal(t, traffic.Placed, st.CallsStarted)
		assert.Equal(t, traffic.Placed, st.CallsAnswered)
		assert.Equal(t, traffic.Placed, st.CallsEnded)
	})
}
