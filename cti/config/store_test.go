package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "work.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreReplaceAndApply(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	demo := Demo()
	require.NoError(t, s.Replace(ctx, demo))
	m, err := s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, content(demo), content(m))
	for _, seat := range m.Seats {
		assert.NotZero(t, seat.ID)
	}

	dir := filepath.Join(t.TempDir(), "server")
	path, err := s.Apply(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Base(path)}, listDir(t, dir))
	snap, err := LoadFile(ctx, path)
	require.NoError(t, err)
	assert.Equal(t, content(demo), content(snap.Model()))
	assert.Equal(t, path, snap.Source)

	// The snapshot is self-contained: editing the working database after
	// apply does not change it.
	alice := m.Operators[0]
	alice.Enabled = false
	require.NoError(t, s.SaveOperator(ctx, &alice))
	again, err := LoadFile(ctx, path)
	require.NoError(t, err)
	assert.True(t, again.Operator("alice").Enabled)
}

func TestStoreCRUD(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	seat := Seat{MAC: "00-11-22-33-44-AA", Interface: "PJSIP/301"}
	require.NoError(t, s.SaveSeat(ctx, &seat))
	assert.Equal(t, "00:11:22:33:44:aa", seat.MAC, "MAC stored canonical")
	assert.NotZero(t, seat.ID)

	op := Operator{Username: "carol", FullName: "Carol", Seat: "00:11:22:33:44:AA", Enabled: true}
	require.NoError(t, op.SetPassword("carol"))
	require.NoError(t, s.SaveOperator(ctx, &op))

	svc := Service{Name: "help", Type: Inbound, Context: "help", IsQueue: true, Queue: "help-q", Trigger: TriggerApplication,
		Application: "crm", Parameters: "--id ${ticket}", Enabled: true, Variables: []string{"ticket"},
		Members: []Member{{Operator: "carol", Penalty: 5}}}
	require.NoError(t, s.SaveService(ctx, &svc))

	// Update: rename the service, change the member's penalty.
	svc.Name = "helpdesk"
	svc.Members[0].Penalty = 1
	require.NoError(t, s.SaveService(ctx, &svc))
	seat.Interface = "PJSIP/302"
	require.NoError(t, s.SaveSeat(ctx, &seat))
	m, err := s.Model(ctx)
	require.NoError(t, err)
	require.Len(t, m.Services, 1)
	assert.Equal(t, "helpdesk", m.Services[0].Name)
	assert.Equal(t, []Member{{Operator: "carol", Penalty: 1}}, m.Services[0].Members)
	assert.Equal(t, "PJSIP/302", m.Seats[0].Interface)

	// Deleting the seat leaves carol with no fixed seat; deleting carol
	// removes her memberships.
	require.NoError(t, s.DeleteSeat(ctx, seat.ID, seat.Version))
	m, err = s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, "", m.Operators[0].Seat)
	op = m.Operators[0] // its version moved with its seat's removal
	require.NoError(t, s.DeleteOperator(ctx, op.ID, op.Version))
	m, err = s.Model(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Services[0].Members)
	require.NoError(t, s.DeleteService(ctx, svc.ID, m.Services[0].Version))
	m, err = s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, &Model{}, m)

	assert.True(t, errors.Is(s.DeleteService(ctx, 42, 1), ErrNotFound))
	ghost := Seat{ID: 42, MAC: "00:11:22:33:44:01", Interface: "SIP/1"}
	assert.True(t, errors.Is(s.SaveSeat(ctx, &ghost), ErrNotFound))
}

func TestStoreRefuses(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	require.NoError(t, s.Replace(ctx, Demo()))
	hash := Demo().Operators[0].PasswordHash
	tests := []struct {
		name string
		save func() error
		want string
	}{
		{"duplicate MAC", func() error {
			return s.SaveSeat(ctx, &Seat{MAC: "00:11:22:33:44:01", Interface: "SIP/299"})
		}, "a seat with this MAC address already exists"},
		{"bad MAC", func() error { return s.SaveSeat(ctx, &Seat{MAC: "zz", Interface: "SIP/299"}) }, `invalid MAC address "zz"`},
		{"duplicate interface", func() error {
			return s.SaveSeat(ctx, &Seat{MAC: "00:11:22:33:44:09", Interface: "SIP/201"})
		}, "another seat already has this interface"},
		{"duplicate username", func() error {
			return s.SaveOperator(ctx, &Operator{Username: "alice", PasswordHash: hash})
		}, "an operator with this username already exists"},
		{"no password", func() error { return s.SaveOperator(ctx, &Operator{Username: "zed"}) }, "missing password"},
		{"missing seat", func() error {
			return s.SaveOperator(ctx, &Operator{Username: "zed", PasswordHash: hash, Seat: "00:11:22:33:44:99"})
		}, "no such seat"},
		{"ambiguous context", func() error {
			return s.SaveService(ctx, &Service{Name: "x", Type: Inbound, Context: "astcti-service", Trigger: TriggerNone})
		}, "another service without a queue already uses this context"},
		{"member naming no operator", func() error {
			return s.SaveService(ctx, &Service{Name: "x", Type: Inbound, Context: "x", Trigger: TriggerNone, Members: []Member{{Operator: "zed"}}})
		}, `member "zed": no such operator`},
		{"placeholder naming no variable", func() error {
			return s.SaveService(ctx, &Service{Name: "x", Type: Inbound, Context: "x", Trigger: TriggerApplication, Application: "a", Parameters: "${nope}"})
		}, "placeholder ${nope} names no variable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.save()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	m, err := s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, content(Demo()).Summary(), m.Summary(), "nothing refused was written")
}

func TestStoreApplyRefusesInvalid(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	require.NoError(t, s.Replace(ctx, Demo()))
	// A row the schema accepts but the model refuses: a placeholder that
	// names no variable (written behind the Store's back).
	_, err := s.db.Exec(`UPDATE services SET param_string = '${nope}' WHERE name = 'support'`)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = s.Apply(ctx, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "placeholder ${nope}")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is left in the server's directory")
}
