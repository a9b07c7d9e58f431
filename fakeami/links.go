package fakeami

import (
	"strings"
	"sync"
	"time"
)

// DefaultLinkRing is how many links a PBX keeps for GET /links when
// Options.LinkRing is 0: at 1,000 calls/s, more than a quarter of an hour.
const DefaultLinkRing = 1_000_000

// Link is one call whose caller was connected to the phone that answered
// it, as GET /links shows it. A load generator matches it with the Link a
// seat reads to measure notification latency and to count lost, duplicated
// and misdelivered notifications.
type Link struct {
	Seq      uint64 `json:"seq"`      // from 1, increasing, never reused (not even by a restart)
	Uniqueid string `json:"uniqueid"` // the caller channel's Uniqueid
	Member   string `json:"member"`   // the interface that answered: SIP/201, Local/201@phones
	Queue    string `json:"queue"`    // the queue the call came through; "" for a Dial()
	// UnixNano is when the PBX handed the linking event (modern: the
	// BridgeEnter of the second channel; 1.4: Link) to the manager
	// sessions' queues, in the wall clock's nanoseconds since 1970.
	UnixNano int64 `json:"unix_nano"`
}

// linkRing keeps the last links in a ring. It has its own mutex so that a
// reader of GET /links copies entries without holding the PBX's: lock
// order p.mu, then linkRing.mu.
type linkRing struct {
	mu   sync.Mutex
	size int    // capacity; the buffer grows to it, then wraps
	buf  []Link // buf[(seq-1) % size] holds link seq
	last uint64 // seq of the newest link; 0 when none yet
}

func newLinkRing(size int) *linkRing {
	if size <= 0 {
		size = DefaultLinkRing
	}
	return &linkRing{size: size}
}

// add stores l with the next seq.
func (r *linkRing) add(l Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	l.Seq = r.last
	if len(r.buf) < r.size {
		r.buf = append(r.buf, l)
		return
	}
	r.buf[(l.Seq-1)%uint64(r.size)] = l
}

// oldest returns the seq of the oldest link kept (last+1 when none is).
// r.mu must be held.
func (r *linkRing) oldest() uint64 {
	return r.last - uint64(len(r.buf)) + 1
}

// since returns up to limit links with seq > after, oldest first, and how
// many links after `after` the ring no longer holds (lost > 0 means the
// caller read too slowly: those links are gone). after = 0 reads from the
// oldest kept without counting the ones before as lost.
func (r *linkRing) since(after uint64, limit int) (links []Link, lost uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := max(after+1, r.oldest())
	if after > 0 && from > after+1 {
		lost = from - after - 1
	}
	links = []Link{}
	for seq := from; seq <= r.last && len(links) < limit; seq++ {
		links = append(links, r.buf[(seq-1)%uint64(r.size)])
	}
	return links, lost
}

// Links returns up to limit links with seq > after, oldest first, and the
// number of links after `after` that the ring dropped before they were
// read. It is safe to call from any goroutine and does not take the PBX's
// lock.
func (p *PBX) Links(after uint64, limit int) (links []Link, lost uint64) {
	return p.links.since(after, limit)
}

// recordLink notes that caller, a call from outside, now talks to dest,
// the leg that answered it. It is called once both have entered their
// bridge, so the linking event has just been broadcast; at is the wall
// time taken before it was (see bridgeCall). p.mu must be held.
func (p *PBX) recordLink(caller, dest *channel, at time.Time) {
	if !caller.inbound || dest.leg == nil {
		return
	}
	l := Link{Uniqueid: caller.uniqueid, Member: linkMember(dest.leg.iface), UnixNano: at.UnixNano()}
	if qc, ok := dest.leg.owner.(*queueCaller); ok {
		l.Queue = qc.q.name()
	}
	p.callsAnswered.Add(1)
	p.links.add(l)
}

// linkMember returns the interface as a seat configures it: a Local
// channel's dial options (Local/201@phones/n) are not part of it.
func linkMember(iface string) string {
	if rest, ok := strings.CutPrefix(iface, "Local/"); ok {
		target, _, _ := strings.Cut(rest, "/")
		return "Local/" + target
	}
	return iface
}
