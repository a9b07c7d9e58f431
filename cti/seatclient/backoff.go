package seatclient

import (
	"math/rand/v2"
	"time"
)

// backoff gives the pauses between connection attempts: min, then doubling
// up to max, each with a random part (between three quarters and the whole
// of the pause) so that a room of clients cut off together does not come
// back in step.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max}
}

// next returns the next pause.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	d := b.cur - time.Duration(rand.Int64N(int64(b.cur)/4+1))
	return max(d, time.Millisecond)
}

// reset starts again from min.
func (b *backoff) reset() { b.cur = 0 }
