package ami

import (
	"sync"
	"sync/atomic"
)

// pooledFields is the room for fields a pooled frame is made with: modern
// Asterisk's events have 15 to 30 headers. maxPooledFields bounds the
// field slice of a frame kept for reuse, so that one huge message does not
// pin its slice in the pool.
const (
	pooledFields    = 32
	maxPooledFields = 256
)

// pooledFrame is a Frame and the room for its fields, in one allocation.
type pooledFrame struct {
	f      Frame
	fields [pooledFields]Field
}

// framePool keeps the event frames that every subscriber released, for the
// reader to fill again. The reader takes every frame from it; only those
// delivered to subscribers come back (Frame.Release), the others (replies,
// list items) belong to their callers.
type framePool struct{ p sync.Pool }

func (fp *framePool) get() *Frame {
	if f, ok := fp.p.Get().(*Frame); ok {
		return f
	}
	pf := &pooledFrame{}
	pf.f.Fields, pf.f.pool = pf.fields[:0], fp
	return &pf.f
}

// deliver marks f as handed to n subscribers, before the first of them can
// release it. A frame handed to nobody goes back at once.
func (fp *framePool) deliver(f *Frame, n int) {
	atomic.StoreInt32(&f.refs, int32(n))
	if n == 0 {
		fp.put(f)
	}
}

func (fp *framePool) put(f *Frame) {
	if cap(f.Fields) > maxPooledFields {
		return
	}
	// The strings stay in the slice until the frame is filled again:
	// clearing them would cost more than the whole reuse saves, and what
	// they keep alive is bounded by the frames in the pool (a few shared
	// copies of input, FrameShared), which the garbage collector empties.
	f.Fields, f.Output = f.Fields[:0], nil
	fp.p.Put(f)
}
