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

// TestStoreSnapshotsAndRollback: apply the demo, then a change; the list
// says which file is in force and who applied each; a rollback writes the
// previous configuration as a new, newest file (renaming or touching
// nothing), which the server would load, and the working database follows.
func TestStoreSnapshotsAndRollback(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "server")
	s := openStore(t).As("alice")
	_, err := s.Rollback(ctx, dir)
	assert.True(t, errors.Is(err, ErrNoPrevious), "Rollback(no snapshot) = %v", err)

	demo := Demo()
	require.NoError(t, s.Replace(ctx, demo))
	first, err := s.Apply(ctx, dir)
	require.NoError(t, err)
	_, err = s.Rollback(ctx, dir)
	assert.True(t, errors.Is(err, ErrNoPrevious), "Rollback(one snapshot) = %v", err)

	m, err := s.Model(ctx)
	require.NoError(t, err)
	o := m.Operators[0]
	o.Enabled = false
	require.NoError(t, s.As("bob").SaveOperator(ctx, &o))
	second, err := s.As("bob").Apply(ctx, dir)
	require.NoError(t, err)
	// A newer file that is not valid is listed, refused, not in force.
	bad := filepath.Join(dir, SnapshotName(".xml"))
	require.NoError(t, os.WriteFile(bad, []byte("<astcti-config/>"), 0o600))
	stats := map[string]os.FileInfo{}
	for _, p := range []string{first, second, bad} {
		info, err := os.Stat(p)
		require.NoError(t, err)
		stats[p] = info
	}

	files, err := s.Snapshots(ctx, dir)
	require.NoError(t, err)
	require.Len(t, files, 3)
	assert.Equal(t, bad, files[0].Path)
	assert.Error(t, files[0].Err)
	assert.False(t, files[0].InForce)
	assert.Equal(t, second, files[1].Path)
	assert.True(t, files[1].InForce)
	assert.Equal(t, "bob", files[1].By)
	assert.Equal(t, ActionApply, files[1].Action)
	assert.Equal(t, first, files[2].Path)
	assert.True(t, files[2].Previous)
	assert.Equal(t, "alice", files[2].By)

	path, err := s.Rollback(ctx, dir)
	require.NoError(t, err)
	for p, info := range stats {
		now, err := os.Stat(p)
		require.NoError(t, err, "%s is still there", p)
		assert.Equal(t, info.ModTime(), now.ModTime(), "%s untouched", p)
	}
	snap, err := LoadDir(ctx, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, path, snap.Source, "the rollback is what the server loads")
	assert.True(t, snap.Operator("alice").Enabled, "the previous configuration")
	work, err := s.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, content(demo), content(work), "the working database follows")

	files, err = s.Snapshots(ctx, dir)
	require.NoError(t, err)
	require.Len(t, files, 4)
	assert.Equal(t, path, files[0].Path)
	assert.True(t, files[0].InForce)
	assert.Equal(t, ActionRollback, files[0].Action)
	assert.Equal(t, "alice", files[0].By)
	es, err := s.Audit(ctx, AuditFilter{Entity: KindConfig, Limit: 1})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, ActionRollback, es[0].Action)
	assert.Contains(t, string(es[0].After), filepath.Base(first), "says what it rolled back to")
}

// TestStoreApplyIf: the check sees the configuration as written; when it
// refuses, nothing appears in the directory and no apply is recorded.
func TestStoreApplyIf(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "server")
	s := openStore(t).As("alice")
	demo := Demo()
	require.NoError(t, s.Replace(ctx, demo))
	refused := errors.New("not what was shown")
	var seen *Model
	_, err := s.ApplyIf(ctx, dir, func(m *Model) error { seen = m; return refused })
	assert.ErrorIs(t, err, refused)
	require.NotNil(t, seen)
	assert.Equal(t, content(demo), content(seen), "the check reads the snapshot's configuration")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written, not even a temporary file")
	files, err := s.Snapshots(ctx, dir)
	require.NoError(t, err)
	assert.Empty(t, files)
	log, err := s.Audit(ctx, AuditFilter{Entity: KindConfig})
	require.NoError(t, err)
	for _, e := range log {
		assert.NotEqual(t, ActionApply, e.Action, "no apply recorded")
	}

	path, err := s.ApplyIf(ctx, dir, func(*Model) error { return nil })
	require.NoError(t, err)
	assert.FileExists(t, path)
}
