package calls

import (
	"cmp"
	"slices"
)

// ServiceCount is how many calls of one service are in progress.
type ServiceCount struct {
	Service  string `json:"service"`
	Calls    int    `json:"calls"`    // live calls that entered the service
	Answered int    `json:"answered"` // of them, those a seat's phone answered
}

// Census returns the calls in progress per service, by service name: the
// live channels that entered a service, and of them those with a leg a
// seat answered. It walks every live channel, so the server asks for it
// only when it is shown (the admin endpoints), never per event.
func (t *Tracker) Census() []ServiceCount {
	answered := make(map[*channel]bool)
	for _, c := range t.byUID {
		if c.linked && c.owner != nil {
			answered[c.owner] = true
		}
	}
	by := make(map[string]*ServiceCount)
	for _, c := range t.byUID {
		if c.call == nil {
			continue
		}
		sc := by[c.call.svc.Name]
		if sc == nil {
			sc = &ServiceCount{Service: c.call.svc.Name}
			by[sc.Service] = sc
		}
		sc.Calls++
		if answered[c] {
			sc.Answered++
		}
	}
	out := make([]ServiceCount, 0, len(by))
	for _, sc := range by {
		out = append(out, *sc)
	}
	slices.SortFunc(out, func(a, b ServiceCount) int { return cmp.Compare(a.Service, b.Service) })
	return out
}
