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

func TestWriteSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	demo := Demo()
	path, err := WriteSnapshot(ctx, dir, demo)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Base(path)}, listDir(t, dir), "only the snapshot is left in the directory")
	assert.Regexp(t, `^astcti-\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}\.db$`, filepath.Base(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm())

	before, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := ReadFile(ctx, path)
	require.NoError(t, err)
	assert.Equal(t, content(demo), content(m))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "reading a snapshot must not modify it")
	assert.Equal(t, []string{filepath.Base(path)}, listDir(t, dir), "reading a snapshot leaves no journal")

	// SQLite -> XML -> SQLite keeps the content.
	var buf bytes.Buffer
	require.NoError(t, WriteXML(&buf, m))
	fromXML, err := ParseXML(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err, buf.String())
	assert.Equal(t, content(m), content(fromXML))
	assert.NotContains(t, buf.String(), `password="`)
	path2, err := WriteSnapshot(ctx, dir, fromXML)
	require.NoError(t, err)
	m2, err := ReadFile(ctx, path2)
	require.NoError(t, err)
	assert.Equal(t, content(m), content(m2))
	var buf2 bytes.Buffer
	require.NoError(t, WriteXML(&buf2, m2))
	assert.Equal(t, buf.String(), buf2.String(), "the XML export is stable")
}

func TestSnapshotNamesSort(t *testing.T) {
	var prev string
	for range 100 {
		n := SnapshotName(".db")
		if n <= prev {
			t.Fatalf("SnapshotName = %q after %q, want increasing names", n, prev)
		}
		prev = n
	}
}

func TestIsSnapshotFile(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"astcti-20261125T230000.123Z-1a2b3c4d.db", true},
		{"config.xml", true},
		{"CONFIG.XML", true},
		{".astcti-20261125T230000.123Z-1a2b3c4d.db.tmp", false},
		{".hidden.db", false},
		{"x.db.tmp", false},
		{"x.db-wal", false},
		{"x.db-journal", false},
		{"notes.txt", false},
		{"config.xml~", false},
	}
	for _, tc := range tests {
		if got := IsSnapshotFile(tc.name); got != tc.want {
			t.Errorf("IsSnapshotFile(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReadFileRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := writeDemo(t, dir)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	write := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	corrupt := bytes.Clone(data)
	for i := 4096; i < len(corrupt) && i < 4096*3; i++ {
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"truncated", write("t.db", data[:3000]), ""},
		{"half", write("h.db", data[:len(data)/2]), ""},
		{"corrupt", write("c.db", corrupt), ""},
		{"empty", write("e.db", nil), "empty file"},
		{"garbage", write("g.db", []byte("hello world")), "neither an SQLite snapshot nor an XML"},
		{"half xml", write("h.xml", []byte(`<?xml version="1.0"?><astcti-config version="1"><seat mac="00:11:22:33:44:01"`)), "XML syntax"},
		{"other sqlite", otherSQLite(t), "not an astcti database"},
		{"empty sqlite", emptySQLite(t), "not an astcti database"},
		{"missing", filepath.Join(dir, "nope.db"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFile(ctx, tc.path)
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func otherSQLite(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "other.db")
	db, err := openRW(p)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE foo (x)")
	require.NoError(t, err)
	return p
}

func emptySQLite(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "empty.db")
	db, err := openRW(p)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("PRAGMA user_version = 0; VACUUM")
	require.NoError(t, err)
	return p
}

func TestWriteSnapshotRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	m := Demo()
	m.Seats = append(m.Seats, m.Seats[0])
	_, err := WriteSnapshot(context.Background(), dir, m)
	require.Error(t, err)
	assert.Empty(t, listDir(t, dir), "nothing is written for an invalid configuration")
	assert.True(t, strings.Contains(err.Error(), "duplicate MAC"), err.Error())
}

// rawSnapshot writes a snapshot from raw SQL with the schema's checks and
// foreign keys off, as a buggy or hostile tool could.
func rawSnapshot(t *testing.T, sql string) string {
	ctx := context.Background()
	db, conn, err := openMemory(ctx)
	require.NoError(t, err)
	defer db.Close()
	defer conn.Close()
	require.NoError(t, migrate(ctx, conn, configSchema))
	_, err = conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON;\n"+sql)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), SnapshotName(".db"))
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", path)
	require.NoError(t, err)
	return path
}

func TestReadFileInvalidSQLite(t *testing.T) {
	const hash = `'$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw'`
	path := rawSnapshot(t, `
		INSERT INTO seats (id, mac, interface) VALUES (1, '00:11:22:33:44:AA', 'SIP/201'), (2, '00:11:22:33:44:02', 'sip/201');
		INSERT INTO operators (id, username, password_hash, seat_id) VALUES (1, 'alice', `+hash+`, 7), (2, 'bob', 'bob', NULL);
		INSERT INTO services (id, name, type, context, is_queue, queue_name, "trigger", application) VALUES
			(1, 'q', 'inbound', 'c', 1, '', 'none', ''),
			(2, 't', 'inbound', 'd', 0, '', 'popup', 'x'),
			(3, 'o', 'sideways', 'e', 0, '', 'none', '');
		INSERT INTO services_operators (service_id, operator_id, penalty) VALUES (1, 9, 0), (2, 1, -4);
		INSERT INTO services_variables (service_id, name) VALUES (8, 'x');`)
	_, err := ReadFile(context.Background(), path)
	got := problems(t, err)
	want := []string{
		"table operators row 1 refers to a missing row of seats",
		"table services_operators row 1 refers to a missing row of operators",
		"table services_variables row 1 refers to a missing row of services",
		"seat 00:11:22:33:44:AA: MAC not in canonical form 00:11:22:33:44:aa",
		"seat 00:11:22:33:44:AA: interface SIP/201 is also the interface of seat 00:11:22:33:44:02",
		`operator "bob": not a pbkdf2-sha256 password hash`,
		`service "q": a queue service needs a queue name`,
		`service "t": unknown trigger "popup"`,
		`service "o": unknown type "sideways"`,
		`service "t": member "alice": penalty -4 out of range`,
	}
	if miss := missing(got, want); len(miss) > 0 {
		t.Errorf("ReadFile = %q\nmissing %q", got, miss)
	}
	assert.Contains(t, err.Error(), path)
}
