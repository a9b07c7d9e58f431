package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/configurator"
	"github.com/astcti/astcti/cti/ctitest"
)

// TestRunConfigurator: with a configurator, the simulation prints its URL
// and login, the manager user admin logs in with the password printed,
// the working database holds the demo's configuration, and a snapshot
// applied from it into the server's configuration directory is put in
// force by the simulated server, which the admin endpoints given to the
// configurator show. Stopping ends every goroutine (TestMain).
func TestRunConfigurator(t *testing.T) {
	dir := t.TempDir()
	s := start(t, Config{Rate: "0", Seats: 1, Seed: 1, DataDir: dir, ConfiguratorListen: "127.0.0.1:0"})
	c := s.info.Configurator
	require.NotNil(t, c)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/$`, c.URL)
	assert.Equal(t, "admin", c.User)
	assert.Regexp(t, `^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$`, c.Password)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.info.Admin)
	s.waitOutput(t, fmt.Sprintf(`(?m)^astcti-sim: configurator: %s \(user admin, password %s\)$`, regexp.QuoteMeta(c.URL), c.Password))

	ctx := context.Background()
	data := filepath.Join(dir, "configurator")
	users, err := config.OpenUsers(ctx, filepath.Join(data, configurator.UsersFile))
	require.NoError(t, err)
	defer users.Close()
	_, err = users.Check(ctx, "admin", c.Password)
	assert.NoError(t, err, "admin logs in with the password printed")

	store, err := config.Open(ctx, filepath.Join(data, configurator.WorkingFile))
	require.NoError(t, err)
	defer store.Close()
	m, err := store.Model(ctx)
	require.NoError(t, err)
	want, err := configModel(Operators(1))
	require.NoError(t, err)
	assert.Equal(t, want.Summary(), m.Summary(), "the working database is the demo's configuration")

	// An apply from the working database reaches the server.
	applied, err := store.Apply(ctx, dir)
	require.NoError(t, err)
	err = ctitest.Poll(ctitest.Wait, func() error {
		resp, err := http.Get(s.info.Admin + "/healthz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var h struct {
			Config struct {
				File string `json:"file"`
			} `json:"config"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			return err
		}
		if h.Config.File != applied {
			return fmt.Errorf("in force: %q, want %q", h.Config.File, applied)
		}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, s.stop(t))
}

// TestSetManager: the demo's manager user is made, or given the new
// password and enabled again when a kept data directory has it.
func TestSetManager(t *testing.T) {
	ctx := context.Background()
	users, err := config.OpenUsers(ctx, filepath.Join(t.TempDir(), "users.db"))
	require.NoError(t, err)
	defer users.Close()
	first, second := newPassword(), newPassword()
	require.NotEqual(t, first, second)
	require.NoError(t, setManager(ctx, users, "admin", first))
	_, err = users.Check(ctx, "admin", first)
	require.NoError(t, err)

	require.NoError(t, users.Disable(ctx, "admin"))
	require.NoError(t, setManager(ctx, users, "admin", second))
	_, err = users.Check(ctx, "admin", first)
	assert.ErrorIs(t, err, config.ErrBadLogin, "the old password no longer logs in")
	_, err = users.Check(ctx, "admin", second)
	assert.NoError(t, err, "enabled again, with the new password")
}
