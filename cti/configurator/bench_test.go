package configurator

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

// The configurator at the size of a large call centre (docs/performance.md):
// benchCentre seats and operators, each operator on benchServices queue
// services. The figures are per page, served and read whole.
const (
	benchCentre   = 2000
	benchServices = 3
)

// centreModel is a configuration of n seats and n operators, one hash for
// every password (bcrypt per row would dominate the set-up), each
// operator on every one of services queue services.
func centreModel(b *testing.B, n, services int) *config.Model {
	b.Helper()
	var hashed config.Operator
	require.NoError(b, hashed.SetPassword("benchmark"))
	m := &config.Model{}
	var members []config.Member
	for i := range n {
		mac := fmt.Sprintf("00:11:22:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
		m.Seats = append(m.Seats, config.Seat{MAC: mac, Interface: fmt.Sprintf("SIP/%d", 10000+i)})
		op := config.Operator{Username: fmt.Sprintf("op%05d", i), FullName: fmt.Sprintf("Operator %d", i),
			Seat: mac, Enabled: true, PasswordHash: hashed.PasswordHash}
		m.Operators = append(m.Operators, op)
		members = append(members, config.Member{Operator: op.Username, Penalty: i % 10})
	}
	for s := range services {
		m.Services = append(m.Services, config.Service{
			Name: fmt.Sprintf("queue%d", s), Type: config.Inbound, Context: fmt.Sprintf("ctx-%d", s),
			IsQueue: true, Queue: fmt.Sprintf("q%d", s), Trigger: config.TriggerNone, Enabled: true,
			Members: append([]config.Member(nil), members...),
		})
	}
	return m
}

// benchPage measures GET path of a configurator holding the large
// centre's configuration, applied once and then changed by edit (nil for
// none), so that the Apply page has a diff to show.
func benchPage(b *testing.B, path string, edit func(*config.Model)) {
	e := newEnv(b)
	ctx := context.Background()
	m := centreModel(b, benchCentre, benchServices)
	require.NoError(b, e.store.Replace(ctx, m))
	e.applied()
	if edit != nil {
		cur, err := e.store.Model(ctx)
		require.NoError(b, err)
		edit(cur)
		require.NoError(b, e.store.Replace(ctx, cur))
	}
	c := e.loggedIn()
	b.ResetTimer()
	for b.Loop() {
		r := c.get(path)
		if r.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, r.StatusCode, r.body[:min(len(r.body), 300)])
		}
	}
}

// BenchmarkOperatorsList is the operators' list of a large centre, every
// row on one page.
func BenchmarkOperatorsList(b *testing.B) { benchPage(b, "/operators", nil) }

// BenchmarkOperatorsSearch is the same list filtered and sorted.
func BenchmarkOperatorsSearch(b *testing.B) {
	benchPage(b, "/operators?q=op01&sort=fullname&dir=desc", nil)
}

// BenchmarkApplyPage is the Apply page of a large centre after every
// operator's penalty changed in one service: the whole configuration
// validated, the snapshot in force read, the diff made and said.
func BenchmarkApplyPage(b *testing.B) {
	benchPage(b, "/apply", func(m *config.Model) {
		for j := range m.Services[0].Members {
			m.Services[0].Members[j].Penalty++
		}
	})
}
