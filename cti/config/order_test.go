package config

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A service's variables keep the order it declares them in, the order seats
// get them in <appdata>: XML, SQLite and snapshots never sort them.

var declared = []string{"zeta", "alpha", "mid"}

// orderedDemo is the demo with a service declaring zeta, alpha, mid.
func orderedDemo() *Model {
	m := Demo()
	m.Services = append(m.Services, Service{
		Name: "ordered", Type: Inbound, Context: "astcti-ordered",
		Trigger: TriggerApplication, Application: "crm", Parameters: "${zeta} ${alpha} ${mid}",
		Enabled: true, Variables: append([]string(nil), declared...),
	})
	return m
}

func TestNormalizeKeepsVariableOrder(t *testing.T) {
	m := orderedDemo()
	m.Normalize()
	svc := m.Services[0]
	require.Equal(t, "ordered", svc.Name, "services sorted by name")
	assert.Equal(t, declared, svc.Variables)
}

func TestValidateDuplicateVariable(t *testing.T) {
	m := orderedDemo()
	m.Services[3].Variables = []string{"zeta", "alpha", "zeta"}
	_, err := NewSnapshot(m)
	assert.Contains(t, problems(t, err), `service "ordered": duplicate variable "zeta"`)
}

func TestXMLKeepsVariableOrder(t *testing.T) {
	const in = `<astcti-config version="1">
	<service name="ordered" type="inbound" context="astcti-ordered">
		<variable name="zeta"/>
		<variable name="alpha"/>
		<variable name="mid"/>
	</service>
</astcti-config>`
	m, err := ParseXML(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, declared, m.Services[0].Variables)

	var buf bytes.Buffer
	ordered := orderedDemo()
	require.NoError(t, WriteXML(&buf, ordered))
	out := buf.String()
	z, a, mid := strings.Index(out, `<variable name="zeta"/>`), strings.Index(out, `<variable name="alpha"/>`), strings.Index(out, `<variable name="mid"/>`)
	assert.True(t, z >= 0 && z < a && a < mid, "WriteXML writes the variables in order:\n%s", out)
	back, err := ParseXML(&buf)
	require.NoError(t, err)
	assert.Equal(t, declared, back.Services[0].Variables, "ordered, the first service by name")
	assert.Equal(t, content(ordered), content(back))
}

func TestSQLiteKeepsVariableOrder(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ordered := orderedDemo()
	require.NoError(t, s.Replace(ctx, ordered))
	m, err := s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, content(ordered), content(m))
	svc := m.Services[0]
	require.Equal(t, "ordered", svc.Name, "services read by name")
	assert.Equal(t, declared, svc.Variables)

	// Reordering is a change, stored as such.
	svc.Variables = []string{"mid", "zeta", "alpha"}
	require.NoError(t, s.SaveService(ctx, &svc))
	m, err = s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"mid", "zeta", "alpha"}, m.Services[0].Variables)

	// The snapshot keeps the order.
	svc.Variables = append([]string(nil), declared...)
	require.NoError(t, s.SaveService(ctx, &svc))
	path, err := s.Apply(ctx, filepath.Join(t.TempDir(), "server"))
	require.NoError(t, err)
	snap, err := LoadFile(ctx, path)
	require.NoError(t, err)
	assert.Equal(t, declared, snap.Service("ordered").Variables)
	assert.Equal(t, declared, snap.ServiceByContext("astcti-ordered").Variables)
}

func TestSnapshotKeepsVariableOrder(t *testing.T) {
	snap, err := NewSnapshot(orderedDemo())
	require.NoError(t, err)
	assert.Equal(t, declared, snap.Service("ordered").Variables)
	assert.Equal(t, declared, snap.ServiceByContext("astcti-ordered").Variables)
}

// TestMigrateV1KeepsVariables upgrades a version 1 database with several
// variables to a service: version 1 read them by name, and that order is the
// one version 2 numbers them in.
func TestMigrateV1KeepsVariables(t *testing.T) {
	ctx := context.Background()
	path := createFrozen(t, "config", 1)
	db, err := openRW(path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO services_variables (service_id, name) VALUES (1, 'zeta'), (1, 'alpha'), (2, 'b'), (2, 'a')`)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA journal_mode = DELETE")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	v1Order := map[string][]string{
		"sales":   {"alpha", "calldata", "zeta"},
		"support": {"a", "b", "customer_id"},
	}
	check := func(m *Model) {
		t.Helper()
		for _, svc := range m.Services {
			if want, ok := v1Order[svc.Name]; ok {
				assert.Equal(t, want, svc.Variables, "service %s", svc.Name)
			}
		}
	}

	// A v1 snapshot is read through an in-memory migration.
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := ReadFile(ctx, path)
	require.NoError(t, err)
	check(m)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "a snapshot is never modified")

	// A v1 working database is upgraded in place.
	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	_, version, err := schemaVersion(ctx, s.db)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion(), version)
	m, err = s.Model(ctx)
	require.NoError(t, err)
	check(m)
	rows, err := s.db.Query("SELECT name, position FROM services_variables WHERE service_id = 1 ORDER BY position")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var name string
		var pos int
		require.NoError(t, rows.Scan(&name, &pos))
		got = append(got, name)
		assert.Equal(t, len(got)-1, pos)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	assert.Equal(t, v1Order["sales"], got)

	// From now on the declared order is kept.
	for i := range m.Services {
		if m.Services[i].Name == "sales" {
			m.Services[i].Variables = []string{"zeta", "calldata", "alpha"}
			require.NoError(t, s.SaveService(ctx, &m.Services[i]))
		}
	}
	m, err = s.Model(ctx)
	require.NoError(t, err)
	for _, svc := range m.Services {
		if svc.Name == "sales" {
			assert.Equal(t, []string{"zeta", "calldata", "alpha"}, svc.Variables)
		}
	}
}
