package throttle

import "time"

// Policy is how failed logins are throttled: a name tried from an address
// may fail PairFree times, an address AddrFree times whatever the names,
// before its next attempt waits Base since the last failure, doubled at
// every further failure up to Max. A key is forgotten Expiry after its
// last failure; at most MaxKeys keys of each kind are kept.
type Policy struct {
	PairFree, AddrFree int
	Base, Max, Expiry  time.Duration
	MaxKeys            int
}

// LoginPolicy is the policy of every login astcti checks: the operators'
// at the seat server and the manager users' at the configurator
// (docs/security.md). Three failures let a user mistype; twenty per
// address let a call centre behind one NAT address mistype too, while a
// guesser from it soon waits minutes per attempt.
func LoginPolicy() Policy {
	return Policy{
		PairFree: 3, AddrFree: 20,
		Base: time.Second, Max: 5 * time.Minute, Expiry: 15 * time.Minute,
		MaxKeys: 100000,
	}
}

// Limiters returns new limiters of the policy: per (name, address) keys
// (PairKey) and per address.
func (p Policy) Limiters() (pairs, addrs *Limiter) {
	return New(p.PairFree, p.Base, p.Max, p.Expiry, p.MaxKeys),
		New(p.AddrFree, p.Base, p.Max, p.Expiry, p.MaxKeys)
}
