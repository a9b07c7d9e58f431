package fakeami

import "math/rand/v2"

// randSource is a seeded random number generator.
type randSource = rand.Rand

func newRandSource(seed int64) *randSource {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>1|1))
}
