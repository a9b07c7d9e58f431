package ami

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFrameRelease: an event frame goes back to the client's pool once
// every subscriber that got it released it, and no sooner; a subscriber
// too slow to get it does not hold it back; a frame the pool did not
// make never goes back.
func TestFrameRelease(t *testing.T) {
	tests := []struct {
		name     string
		subs     int // subscribers that get the frame
		slow     int // subscribers whose buffer is full
		releases int
		pooled   bool
	}{
		{name: "no subscriber", pooled: true},
		{name: "one subscriber, released", subs: 1, releases: 1, pooled: true},
		{name: "one subscriber, kept", subs: 1},
		{name: "two subscribers, one released", subs: 2, releases: 1},
		{name: "two subscribers, both released", subs: 2, releases: 2, pooled: true},
		{name: "a slow subscriber and one that released", subs: 1, slow: 1, releases: 1, pooled: true},
		{name: "only a slow subscriber", slow: 1, pooled: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &publisher{log: slog.New(slog.DiscardHandler)}
			for range tc.subs {
				p.subscribe(1)
			}
			for range tc.slow {
				p.subscribe(1).ch <- Item{Up: &LinkUp{}}
			}
			var pool framePool
			f := pool.get()
			f.Fields = append(f.Fields, Field{"Event", "Hangup"})
			assert.NoError(t, p.publish(Item{Frame: f}))
			for range tc.releases {
				f.Release()
			}
			assert.Equal(t, tc.pooled, len(f.Fields) == 0, "the frame went back to the pool")
		})
	}
}

// TestReleaseOtherFrames: Release leaves alone the frames the client's
// pool did not make (actions, frames built by hand).
func TestReleaseOtherFrames(t *testing.T) {
	for _, f := range []*Frame{NewAction("Ping"), {Fields: []Field{{"Event", "Hangup"}}}} {
		f.Release()
		f.Release()
		assert.Len(t, f.Fields, 1, "%s", f)
	}
}
