package config

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frozenVersions returns the schema versions frozen in testdata/schema.
func frozenVersions(t *testing.T, kind string) []int {
	var vs []int
	for v := 1; ; v++ {
		if _, err := os.Stat(fmt.Sprintf("testdata/schema/%s_v%d.sql", kind, v)); err != nil {
			return vs
		}
		vs = append(vs, v)
	}
}

// createFrozen creates a database of schema version v from its frozen copy,
// with the sample data of that version when there is one.
func createFrozen(t *testing.T, kind string, v int) string {
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%s_v%d.db", kind, v))
	db, err := openRW(path)
	require.NoError(t, err)
	defer db.Close()
	schema, err := os.ReadFile(fmt.Sprintf("testdata/schema/%s_v%d.sql", kind, v))
	require.NoError(t, err)
	_, err = db.Exec(string(schema))
	require.NoError(t, err)
	if data, err := os.ReadFile(fmt.Sprintf("testdata/schema/%s_v%d_data.sql", kind, v)); err == nil {
		_, err = db.Exec(string(data))
		require.NoError(t, err)
	}
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v))
	require.NoError(t, err)
	return path
}

func schemaOf(t *testing.T, db *sql.DB) []string {
	rows, err := db.Query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, strings.Join(strings.Fields(s), " "))
	}
	require.NoError(t, rows.Err())
	return out
}

func TestFrozenSchemaIsTheLatestMigration(t *testing.T) {
	// The newest frozen copy is the current schema: freezing is part of
	// adding a migration.
	vs := frozenVersions(t, "config")
	require.NotEmpty(t, vs)
	assert.Equal(t, SchemaVersion(), vs[len(vs)-1], "freeze testdata/schema/config_v%d.sql", SchemaVersion())
	us := frozenVersions(t, "users")
	assert.Equal(t, len(usersSchema.migrations), us[len(us)-1])
	v1, err := os.ReadFile("testdata/schema/config_v1.sql")
	require.NoError(t, err)
	assert.Equal(t, configMigrations[0], string(v1), "migration 0->1 creates the frozen v1 schema")
}

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "work.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	appID, version, err := schemaVersion(ctx, s.db)
	require.NoError(t, err)
	assert.Equal(t, int64(configAppID), appID)
	assert.Equal(t, SchemaVersion(), version)
	m, err := s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, &Model{}, m)
	require.NoError(t, s.Close())
	// Opening again is a no-op.
	s, err = Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestMigrateFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	fresh, err := Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	require.NoError(t, err)
	defer fresh.Close()
	want := schemaOf(t, fresh.db)
	for _, v := range frozenVersions(t, "config") {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			path := createFrozen(t, "config", v)
			// As a snapshot: read without being modified.
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			m, err := ReadFile(ctx, path)
			require.NoError(t, err)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "a snapshot is never modified")
			checkDemoContent(t, m)
			// As a working database: upgraded in place.
			s, err := Open(ctx, path)
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, want, schemaOf(t, s.db))
			m, err = s.Model(ctx)
			require.NoError(t, err)
			checkDemoContent(t, m)
		})
	}
}

// checkDemoContent checks that m is the demo, passwords alice and bob.
func checkDemoContent(t *testing.T, m *Model) {
	t.Helper()
	got, demo := content(m), content(Demo())
	for i := range got.Operators {
		assert.True(t, got.Operators[i].CheckPassword(MD5Hex(got.Operators[i].Username)))
		got.Operators[i].PasswordHash = demo.Operators[i].PasswordHash
	}
	assert.Equal(t, demo, got)
}

// withMigration adds a migration for the duration of the test, as a release
// that adds schema version N+1 would.
func withMigration(t *testing.T, sql string) {
	old := configSchema
	configSchema.migrations = append(slices.Clone(old.migrations), sql)
	t.Cleanup(func() { configSchema = old })
}

func TestOlderSnapshotMigratedInMemory(t *testing.T) {
	ctx := context.Background()
	path := writeDemo(t, t.TempDir())
	withMigration(t, "ALTER TABLE seats ADD COLUMN location TEXT NOT NULL DEFAULT 'HQ'")
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := ReadFile(ctx, path)
	require.NoError(t, err, "a snapshot of the previous schema loads under the next one")
	checkDemoContent(t, m)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the older snapshot is migrated in memory, not in place")
	assert.Equal(t, []string{filepath.Base(path)}, listDir(t, filepath.Dir(path)))

	// A working database is upgraded in place.
	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	_, version, err := schemaVersion(ctx, s.db)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion(), version)
	var loc string
	require.NoError(t, s.db.QueryRow("SELECT location FROM seats LIMIT 1").Scan(&loc))
	assert.Equal(t, "HQ", loc)
}

func TestNewerVersionRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := writeDemo(t, dir)
	db, err := openRW(path)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d; PRAGMA journal_mode = DELETE", SchemaVersion()+1))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = ReadFile(ctx, path)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrSchemaTooNew), "ReadFile: %v", err)
	assert.Contains(t, err.Error(), fmt.Sprintf("configuration schema version %d, this astcti supports up to %d", SchemaVersion()+1, SchemaVersion()))
	assert.Contains(t, err.Error(), "upgrade astcti")

	_, err = Open(ctx, path)
	assert.True(t, errors.Is(err, ErrSchemaTooNew), "Open: %v", err)

	_, err = OpenUsers(ctx, path)
	assert.True(t, errors.Is(err, ErrNotAstcti), "a configuration is not a users database: %v", err)
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, otherSQLite(t))
	assert.True(t, errors.Is(err, ErrNotAstcti), "Open: %v", err)
	path := filepath.Join(t.TempDir(), "users.db")
	u, err := OpenUsers(ctx, path)
	require.NoError(t, err)
	require.NoError(t, u.Close())
	_, err = Open(ctx, path)
	assert.True(t, errors.Is(err, ErrNotAstcti), "a users database is not a configuration: %v", err)
}

// TestConstraints proves that the schema itself refuses every kind of bad
// row, with a clear message, whatever code writes it.
func TestConstraints(t *testing.T) {
	ctx := context.Background()
	const (
		hash = `'$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw'`
		seed = `INSERT INTO seats (id, mac, interface) VALUES (1, '00:11:22:33:44:01', 'SIP/201');
			INSERT INTO operators (id, username, password_hash) VALUES (1, 'alice', ` + hash + `);
			INSERT INTO services (id, name, type, context) VALUES (1, 'sales', 'inbound', 'astcti-service');
			INSERT INTO services (id, name, type, context, is_queue, queue_name) VALUES (2, 'support', 'inbound', 'astcti-service', 1, 'q1');
			INSERT INTO services_variables (service_id, name) VALUES (1, 'calldata');
			INSERT INTO services_operators (service_id, operator_id, penalty) VALUES (1, 1, 0);`
	)
	tests := []struct {
		name       string
		sql        string
		constraint string
		msg        string
	}{
		{"duplicate MAC", `INSERT INTO seats (mac, interface) VALUES ('00:11:22:33:44:01', 'SIP/202')`, "seats.mac", "a seat with this MAC address already exists"},
		{"upper-case MAC", `INSERT INTO seats (mac, interface) VALUES ('00:11:22:33:44:AA', 'SIP/202')`, "seat_mac_format", "invalid MAC address"},
		{"dashed MAC", `INSERT INTO seats (mac, interface) VALUES ('00-11-22-33-44-02', 'SIP/202')`, "seat_mac_format", "invalid MAC address"},
		{"duplicate interface", `INSERT INTO seats (mac, interface) VALUES ('00:11:22:33:44:02', 'SIP/201')`, "seats.interface", "another seat already has this interface"},
		{"interface without tech", `INSERT INTO seats (mac, interface) VALUES ('00:11:22:33:44:02', '202')`, "seat_interface_format", "invalid interface"},
		{"interface with &", `INSERT INTO seats (mac, interface) VALUES ('00:11:22:33:44:02', 'SIP/202&SIP/203')`, "seat_interface_format", "invalid interface"},
		{"duplicate username", `INSERT INTO operators (username, password_hash) VALUES ('alice', ` + hash + `)`, "operators.username", "an operator with this username already exists"},
		{"username with space", `INSERT INTO operators (username, password_hash) VALUES ('al ice', ` + hash + `)`, "operator_username_format", "invalid username"},
		{"plain password", `INSERT INTO operators (username, password_hash) VALUES ('bob', 'bob')`, "operator_password_format", "invalid password hash"},
		{"bare MD5 password", `INSERT INTO operators (username, password_hash) VALUES ('bob', '9f9d51bc70ef21ca5c14f307980a29d8')`, "operator_password_format", "invalid password hash"},
		{"operator on missing seat", `INSERT INTO operators (username, password_hash, seat_id) VALUES ('bob', ` + hash + `, 99)`, "FOREIGN KEY", "does not exist"},
		{"enabled not bool", `UPDATE operators SET enabled = 2`, "operator_enabled_bool", "enabled must be 0 or 1"},
		{"begin_paused not bool", `UPDATE operators SET begin_paused = 7`, "operator_begin_paused_bool", "begin_paused must be 0 or 1"},
		{"duplicate service", `INSERT INTO services (name, type, context) VALUES ('sales', 'inbound', 'c2')`, "services.name", "a service with this name already exists"},
		{"empty service name", `INSERT INTO services (name, type, context) VALUES ('', 'inbound', 'c2')`, "service_name_format", "a service needs a name"},
		{"unknown type", `INSERT INTO services (name, type, context) VALUES ('x', 'sideways', 'c2')`, "service_type_enum", "unknown service type"},
		{"bad context", `INSERT INTO services (name, type, context) VALUES ('x', 'inbound', 'a b')`, "service_context_format", "invalid context"},
		{"unknown trigger", `INSERT INTO services (name, type, context, "trigger", application) VALUES ('x', 'inbound', 'c2', 'popup', 'a')`, "service_trigger_enum", "unknown trigger"},
		{"queue without name", `INSERT INTO services (name, type, context, is_queue) VALUES ('x', 'inbound', 'c2', 1)`, "service_queue_name", "a queue service needs a valid queue name"},
		{"queue name without queue", `INSERT INTO services (name, type, context, queue_name) VALUES ('x', 'inbound', 'c2', 'q')`, "service_queue_name", "only a queue service has one"},
		{"outbound queue", `INSERT INTO services (name, type, context, is_queue, queue_name) VALUES ('x', 'outbound', 'c2', 1, 'q9')`, "service_outbound_no_queue", "an outbound service cannot have a queue"},
		{"trigger without application", `INSERT INTO services (name, type, context, "trigger") VALUES ('x', 'inbound', 'c2', 'browser')`, "service_trigger_application", "a trigger needs an application"},
		{"two non-queue services on a context", `INSERT INTO services (name, type, context) VALUES ('x', 'inbound', 'astcti-service')`, "services.context", "ambiguous"},
		{"two services on a queue", `INSERT INTO services (name, type, context, is_queue, queue_name) VALUES ('x', 'inbound', 'c2', 1, 'q1')`, "services.queue_name", "another service already uses this queue"},
		{"service enabled not bool", `UPDATE services SET enabled = -1`, "service_enabled_bool", "enabled must be 0 or 1"},
		{"duplicate variable", `INSERT INTO services_variables (service_id, name) VALUES (1, 'calldata')`, "services_variables.service_id, services_variables.name", "the service already has this variable"},
		{"bad variable name", `INSERT INTO services_variables (service_id, name) VALUES (1, '1x')`, "variable_name_format", "invalid variable name"},
		{"variable of missing service", `INSERT INTO services_variables (service_id, name) VALUES (99, 'x')`, "FOREIGN KEY", "does not exist"},
		{"duplicate member", `INSERT INTO services_operators (service_id, operator_id) VALUES (1, 1)`, "services_operators.service_id, services_operators.operator_id", "already a member"},
		{"member naming no operator", `INSERT INTO services_operators (service_id, operator_id) VALUES (1, 99)`, "FOREIGN KEY", "does not exist"},
		{"negative penalty", `INSERT INTO services_operators (service_id, operator_id, penalty) VALUES (2, 1, -1)`, "member_penalty_range", "penalty must be between 0"},
		{"text penalty", `INSERT INTO services_operators (service_id, operator_id, penalty) VALUES (2, 1, 'high')`, "", "cannot store TEXT value in INTEGER column"},
		{"missing mac", `INSERT INTO seats (interface) VALUES ('SIP/209')`, "seats.mac", "seats.mac: a required value is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
			require.NoError(t, err)
			defer s.Close()
			_, err = s.db.Exec(seed)
			require.NoError(t, err)
			_, err = s.db.Exec(tc.sql)
			err = dbError(err)
			require.Error(t, err, "%s must be refused", tc.sql)
			assert.Contains(t, err.Error(), tc.msg)
			var ce *ConstraintError
			if tc.constraint != "" && errors.As(err, &ce) {
				assert.Equal(t, tc.constraint, ce.Constraint)
			}
		})
	}
}
