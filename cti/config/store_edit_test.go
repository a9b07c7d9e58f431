package config

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoStore returns a store holding the demo and its model as read.
func demoStore(t *testing.T) (*Store, *Model) {
	t.Helper()
	s := openStore(t)
	require.NoError(t, s.Replace(context.Background(), Demo()))
	m, err := s.Model(context.Background())
	require.NoError(t, err)
	return s, m
}

// TestStoreStaleEditsRefused: two administrators read the same row; the
// first save goes through, the second (and a delete at the old version) is
// refused with ErrStale, naming who changed it, and writes nothing.
func TestStoreStaleEditsRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		first  func(s *Store, m *Model) error // alice's change, accepted
		second func(s *Store, m *Model) error // bob's, from the same read
		key    string
	}{
		{"seat save", func(s *Store, m *Model) error {
			seat := m.Seats[0]
			seat.Description = "alice was here"
			return s.SaveSeat(ctx, &seat)
		}, func(s *Store, m *Model) error {
			seat := m.Seats[0]
			seat.Description = "bob was here"
			return s.SaveSeat(ctx, &seat)
		}, "00:11:22:33:44:01"},
		{"seat delete", func(s *Store, m *Model) error {
			seat := m.Seats[0]
			seat.Interface = "SIP/299"
			return s.SaveSeat(ctx, &seat)
		}, func(s *Store, m *Model) error { return s.DeleteSeat(ctx, m.Seats[0].ID, m.Seats[0].Version) }, "00:11:22:33:44:01"},
		{"operator save", func(s *Store, m *Model) error {
			o := m.Operators[0]
			o.FullName = "Alice A."
			return s.SaveOperator(ctx, &o)
		}, func(s *Store, m *Model) error {
			o := m.Operators[0]
			o.Enabled = false
			return s.SaveOperator(ctx, &o)
		}, "alice"},
		{"operator delete", func(s *Store, m *Model) error {
			o := m.Operators[0]
			o.BeginPaused = true
			return s.SaveOperator(ctx, &o)
		}, func(s *Store, m *Model) error {
			return s.DeleteOperator(ctx, m.Operators[0].ID, m.Operators[0].Version)
		}, "alice"},
		{"service save", func(s *Store, m *Model) error {
			svc := m.Services[1]
			svc.Members[0].Penalty = 5
			return s.SaveService(ctx, &svc)
		}, func(s *Store, m *Model) error {
			svc := m.Services[1]
			svc.Variables = append(svc.Variables, "extra")
			return s.SaveService(ctx, &svc)
		}, "sales"},
		{"service delete", func(s *Store, m *Model) error {
			svc := m.Services[1]
			svc.Enabled = false
			return s.SaveService(ctx, &svc)
		}, func(s *Store, m *Model) error { return s.DeleteService(ctx, m.Services[1].ID, m.Services[1].Version) }, "sales"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, read := demoStore(t)
			require.NoError(t, tc.first(s.As("alice"), read.Clone()), "the first save is accepted")
			saved, err := s.Model(ctx)
			require.NoError(t, err)
			err = tc.second(s.As("bob"), read.Clone())
			require.Error(t, err, "the second save, from the same read, is refused")
			assert.True(t, errors.Is(err, ErrStale), "errors.Is(%v, ErrStale)", err)
			var se *StaleError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, "alice", se.By)
			assert.False(t, se.At.IsZero())
			assert.Contains(t, err.Error(), tc.key+" was changed by alice at ")
			after, err := s.Model(ctx)
			require.NoError(t, err)
			assert.Equal(t, saved, after, "nothing written")
		})
	}
}

// TestStoreFreshEditsAccepted: a save or delete at the version last read
// goes through, and every save returns the new version to save at next.
func TestStoreFreshEditsAccepted(t *testing.T) {
	ctx := context.Background()
	s, m := demoStore(t)
	seat := m.Seats[0]
	for _, d := range []string{"one", "two", "three"} {
		v := seat.Version
		seat.Description = d
		require.NoError(t, s.SaveSeat(ctx, &seat))
		assert.Greater(t, seat.Version, v, "a save returns the new version")
	}
	svc := m.Services[2]
	require.NoError(t, s.SaveService(ctx, &svc))
	require.NoError(t, s.DeleteService(ctx, svc.ID, svc.Version))
	require.NoError(t, s.DeleteSeat(ctx, seat.ID, seat.Version))
}

// TestStoreStaleAcrossReusedID: SQLite gives a new row the id of the row
// last removed; a form still holding the removed row must not save over the
// new one.
func TestStoreStaleAcrossReusedID(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	old := Seat{MAC: "00:11:22:33:44:0a", Interface: "SIP/300"}
	require.NoError(t, s.SaveSeat(ctx, &old))
	held := old
	require.NoError(t, s.DeleteSeat(ctx, old.ID, old.Version))
	fresh := Seat{MAC: "00:11:22:33:44:0b", Interface: "SIP/301"}
	require.NoError(t, s.SaveSeat(ctx, &fresh))
	require.Equal(t, old.ID, fresh.ID, "SQLite reused the id (precondition)")
	held.Description = "stale form"
	err := s.SaveSeat(ctx, &held)
	assert.True(t, errors.Is(err, ErrStale), "SaveSeat(stale) = %v, want ErrStale", err)
	// A row removed since it was read: stale, and not found.
	require.NoError(t, s.DeleteSeat(ctx, fresh.ID, fresh.Version))
	err = s.SaveSeat(ctx, &fresh)
	assert.True(t, errors.Is(err, ErrStale) && errors.Is(err, ErrNotFound), "SaveSeat(removed) = %v", err)
	assert.Contains(t, err.Error(), "was removed by a program at")
}

// TestStoreSaveValidatesWholeModel: a save is checked against the whole
// configuration, as Apply and the server will check it, with the problem on
// the saved row's field: the schema's UNIQUE constraint compares
// interfaces byte for byte and let "sip/201" in beside "SIP/201".
func TestStoreSaveValidatesWholeModel(t *testing.T) {
	ctx := context.Background()
	s, m := demoStore(t)
	tests := []struct {
		name  string
		save  func() error
		want  string
		kind  Kind
		id    int64
		field string
	}{
		{"interface spelt another way", func() error {
			return s.SaveSeat(ctx, &Seat{MAC: "00:11:22:33:44:09", Interface: "sip/201"})
		}, "another seat already has this interface", KindSeat, 0, "interface"},
		{"local interface with options", func() error {
			if err := s.SaveSeat(ctx, &Seat{MAC: "00:11:22:33:44:0c", Interface: "Local/301@phones"}); err != nil {
				return err
			}
			return s.SaveSeat(ctx, &Seat{MAC: "00:11:22:33:44:0d", Interface: "Local/301@phones/n"})
		}, "another seat already has this interface", KindSeat, 0, "interface"},
		{"edited seat takes another's MAC", func() error {
			seat := m.Seats[1]
			seat.MAC = "00-11-22-33-44-01"
			return s.SaveSeat(ctx, &seat)
		}, "a seat with this MAC address already exists", KindSeat, m.Seats[1].ID, "mac"},
		{"rename onto another operator", func() error {
			o := m.Operators[1]
			o.Username = "alice"
			return s.SaveOperator(ctx, &o)
		}, "an operator with this username already exists", KindOperator, m.Operators[1].ID, "username"},
		{"new operator's password", func() error { return s.SaveOperator(ctx, &Operator{Username: "zed", PasswordHash: "x"}) },
			"not a pbkdf2-sha256 password hash", KindOperator, 0, "password-hash"},
		{"service placeholder in the program", func() error {
			svc := m.Services[2]
			svc.Application = "/usr/bin/${calleridname}"
			return s.SaveService(ctx, &svc)
		}, "never expanded", KindService, m.Services[2].ID, "application"},
		{"member penalty", func() error {
			svc := m.Services[2]
			svc.Members = []Member{{Operator: "alice", Penalty: -3}}
			return s.SaveService(ctx, &svc)
		}, "out of range", KindMember, m.Services[2].ID, "penalty"},
		{"new service's queue", func() error {
			return s.SaveService(ctx, &Service{Name: "more", Type: Inbound, Context: "more", IsQueue: true, Queue: "astcti-queue", Trigger: TriggerNone})
		}, "another service already uses this queue", KindService, 0, "queue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.save()
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "save = %v, want a *ValidationError", err)
			p := ve.Problems[0] // the saved row's, then what the change causes elsewhere
			assert.Contains(t, p.Msg, tc.want)
			assert.Equal(t, tc.kind, p.Kind)
			assert.Equal(t, tc.id, p.ID)
			assert.Equal(t, tc.field, p.Field)
		})
	}
	_, err := s.Apply(ctx, t.TempDir())
	assert.NoError(t, err, "what the store accepted, Apply accepts")
}

// TestStoreSaveIgnoresOldProblems: a row written behind the Store's back
// with a problem does not block saving another row.
func TestStoreSaveIgnoresOldProblems(t *testing.T) {
	ctx := context.Background()
	s, m := demoStore(t)
	_, err := s.db.Exec(`UPDATE services SET param_string = '${nope}' WHERE name = 'support'`)
	require.NoError(t, err)
	seat := m.Seats[0]
	seat.Description = "fine"
	require.NoError(t, s.SaveSeat(ctx, &seat))
	m, err = s.Model(ctx)
	require.NoError(t, err)
	svc := m.Services[2] // support
	require.Equal(t, "support", svc.Name)
	svc.Members = nil
	err = s.SaveService(ctx, &svc)
	assert.ErrorContains(t, err, "placeholder ${nope}", "the edited row's own problems are reported")
}

func TestStoreAudit(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	alice, bob := s.As("alice"), s.As("bob")
	require.NoError(t, alice.Replace(ctx, Demo()))
	m, err := s.Model(ctx)
	require.NoError(t, err)
	o := m.Operators[1] // bob
	o.FullName = "Robert"
	require.NoError(t, o.SetPassword("new secret"))
	require.NoError(t, bob.SaveOperator(ctx, &o))
	seat := Seat{MAC: "00:11:22:33:44:07", Interface: "SIP/207"}
	require.NoError(t, bob.SaveSeat(ctx, &seat))
	require.NoError(t, alice.DeleteSeat(ctx, seat.ID, seat.Version))
	path, err := alice.Apply(ctx, t.TempDir())
	require.NoError(t, err)

	all, err := s.Audit(ctx, AuditFilter{})
	require.NoError(t, err)
	var got []string
	for _, e := range all {
		got = append(got, e.User+" "+string(e.Action)+" "+string(e.Entity)+" "+e.Key)
	}
	assert.Equal(t, []string{
		"alice apply config " + filepath.Base(path),
		"alice remove seat 00:11:22:33:44:07",
		"bob add seat 00:11:22:33:44:07",
		"bob edit operator bob",
		"alice import config ",
	}, got, "newest first")

	edit := all[3]
	var before, after Operator
	require.NoError(t, json.Unmarshal(edit.Before, &before))
	require.NoError(t, json.Unmarshal(edit.After, &after))
	assert.Equal(t, "Bob", before.FullName)
	assert.Equal(t, "Robert", after.FullName)
	assert.NotEqual(t, before.PasswordHash, after.PasswordHash, "a changed password shows")
	assert.True(t, strings.HasPrefix(after.PasswordHash, "sha256:"), "never the hash: %s", after.PasswordHash)
	assert.NotContains(t, string(edit.After), o.PasswordHash)
	assert.Nil(t, all[2].Before, "an add has no row before")
	assert.Nil(t, all[1].After, "a remove has no row after")
	assert.Equal(t, clock, all[0].At)

	tests := []struct {
		name string
		f    AuditFilter
		want int
	}{
		{"user", AuditFilter{User: "bob"}, 2},
		{"entity", AuditFilter{Entity: KindSeat}, 2},
		{"entity and id", AuditFilter{Entity: KindOperator, EntityID: o.ID}, 1},
		{"text in a row", AuditFilter{Text: "robert"}, 1},
		{"text with LIKE characters", AuditFilter{Text: "%"}, 0},
		{"since", AuditFilter{Since: all[2].At}, 3},
		{"until", AuditFilter{Until: all[2].At}, 2},
		{"page", AuditFilter{Limit: 2}, 2},
		{"next page", AuditFilter{Before: all[1].ID}, 3},
		{"page bounded", AuditFilter{Limit: 1 << 30}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.Audit(ctx, tc.f)
			require.NoError(t, err)
			assert.Len(t, es, tc.want, "Audit(%+v)", tc.f)
		})
	}
	q, _ := auditQuery(AuditFilter{Limit: 1 << 30})
	assert.Contains(t, q, "LIMIT 500", "a page is bounded")

	// The snapshot carries none of it.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM audit").Scan(&n))
	assert.Zero(t, n, "a snapshot has no audit log")
}

func TestStoreDependents(t *testing.T) {
	ctx := context.Background()
	s, m := demoStore(t)
	alice := m.Operators[0]
	deps, err := s.Dependents(ctx, KindOperator, alice.ID)
	require.NoError(t, err)
	var keys []string
	for _, d := range deps {
		keys = append(keys, string(d.Kind)+" "+d.Key)
	}
	assert.Equal(t, []string{"service outbound", "service sales", "service support"}, keys, "an operator on three services")
	assert.Contains(t, deps[1].What, "penalty 1")

	deps, err = s.Dependents(ctx, KindSeat, m.Seats[0].ID)
	require.NoError(t, err)
	require.Len(t, deps, 1, "a seat that is an operator's fixed seat")
	assert.Equal(t, Dependent{Kind: KindOperator, ID: alice.ID, Key: "alice",
		What: "operator alice has it as fixed seat and will have none"}, deps[0])

	deps, err = s.Dependents(ctx, KindService, m.Services[1].ID)
	require.NoError(t, err)
	assert.Len(t, deps, 2, "a service's members")

	deps, err = s.Dependents(ctx, KindSeat, 999)
	require.NoError(t, err)
	assert.Empty(t, deps)
	_, err = s.Dependents(ctx, KindMember, 1)
	assert.Error(t, err)
}

// TestMigrateV2KeepsDataAndVersions: a version 2 working database keeps its
// rows; they start at version 1, which the first save must give.
func TestMigrateV2KeepsDataAndVersions(t *testing.T) {
	ctx := context.Background()
	path := createFrozen(t, "config", 2)
	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	m, err := s.Model(ctx)
	require.NoError(t, err)
	checkDemoContent(t, m)
	for _, seat := range m.Seats {
		assert.Equal(t, int64(1), seat.Version)
	}
	seat := m.Seats[0]
	seat.Version = 0
	assert.True(t, errors.Is(s.SaveSeat(ctx, &seat), ErrStale), "version 0 is not the stored 1")
	seat.Version = 1
	require.NoError(t, s.SaveSeat(ctx, &seat))
	assert.Greater(t, seat.Version, int64(1))

	// The frozen version 3 sample's audit log reads back.
	v3, err := Open(ctx, createFrozen(t, "config", 3))
	require.NoError(t, err)
	defer v3.Close()
	es, err := v3.Audit(ctx, AuditFilter{})
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, ActionEdit, es[0].Action)
	assert.Equal(t, "admin", es[0].User)
}

// TestStoreConstraintAsProblem: a row the schema refuses although
// validation passed (a rule only the schema has) comes back as a problem of
// the saved row's field.
func TestStoreConstraintAsProblem(t *testing.T) {
	ctx := context.Background()
	s, m := demoStore(t)
	// A constraint added behind the Store's back stands for a rule of the
	// schema that validation lacks.
	_, err := s.db.Exec(`CREATE UNIQUE INDEX seats_description_unique ON seats (description)`)
	require.NoError(t, err)
	seat := m.Seats[1]
	seat.Description = m.Seats[0].Description
	err = s.SaveSeat(ctx, &seat)
	var ce *ConstraintError
	require.True(t, errors.As(err, &ce), "an unknown constraint stays a *ConstraintError: %v", err)

	_, err = s.db.Exec(`DROP INDEX seats_description_unique;
		CREATE TRIGGER seats_mac_guard BEFORE UPDATE OF mac ON seats BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: seat_mac_format'); END`)
	require.NoError(t, err)
	seat = m.Seats[1]
	seat.MAC = "00:11:22:33:44:0f"
	err = s.SaveSeat(ctx, &seat)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "SaveSeat = %v, want a *ValidationError", err)
	assert.Equal(t, []Problem{{Msg: "seat 00:11:22:33:44:0f: invalid MAC address (want lower-case 00:11:22:33:44:55)",
		Kind: KindSeat, ID: seat.ID, Field: "mac"}}, ve.Problems)
}
