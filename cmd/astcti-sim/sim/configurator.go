package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/configurator"
)

// The demo's web configurator (cti/configurator), as `astcti configurator`
// runs it, with its data in the "configurator" folder of the data
// directory and the server's configuration directory as its apply
// directory: applying a configuration in it puts it in force in the
// simulated server within a second.

// ConfiguratorUser is the demo's manager user. Its password is new at each
// start (Info.Configurator).
const ConfiguratorUser = "admin"

// ConfiguratorInfo says where the demo's configurator serves and how to
// log in to it.
type ConfiguratorInfo struct {
	URL      string `json:"url"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// demoConfigurator is the configurator of a simulation: its databases
// open, its listener bound, not serving yet.
type demoConfigurator struct {
	ln    net.Listener
	store *config.Store
	users *config.Users
	info  ConfiguratorInfo
}

// openConfigurator listens on listen, then prepares the configurator's
// data in DIR/configurator: the working database replaced by the
// configuration of the snapshot the server is given (so the administrator
// starts from the demo's seats, operators and services, at every start),
// and the manager user admin with a new random password.
func openConfigurator(ctx context.Context, dir, listen, snapshot string) (_ *demoConfigurator, err error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("configurator: %w: give --configurator-listen another address, or '' for no configurator", err)
	}
	c := &demoConfigurator{ln: ln}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	data := filepath.Join(dir, "configurator")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("configurator: %w", err)
	}
	m, err := config.ReadFile(ctx, snapshot)
	if err != nil {
		return nil, fmt.Errorf("configurator: %w", err)
	}
	if c.store, err = config.Open(ctx, filepath.Join(data, configurator.WorkingFile)); err != nil {
		return nil, fmt.Errorf("configurator: %w", err)
	}
	if err := c.store.Replace(ctx, m); err != nil {
		return nil, fmt.Errorf("configurator: import the demo configuration: %w", err)
	}
	if c.users, err = config.OpenUsers(ctx, filepath.Join(data, configurator.UsersFile)); err != nil {
		return nil, fmt.Errorf("configurator: %w", err)
	}
	password := newPassword()
	if err := setManager(ctx, c.users, ConfiguratorUser, password); err != nil {
		return nil, fmt.Errorf("configurator: manager user %s: %w", ConfiguratorUser, err)
	}
	c.info = ConfiguratorInfo{URL: "http://" + ln.Addr().String() + "/", User: ConfiguratorUser, Password: password}
	return c, nil
}

// setManager makes userid an enabled manager user with that password,
// whether a data directory kept from an earlier run has it or not.
func setManager(ctx context.Context, users *config.Users, userid, password string) error {
	usr, err := users.Get(ctx, userid)
	if errors.Is(err, config.ErrNotFound) {
		_, err = users.Create(ctx, userid, "Demo administrator", password)
		return err
	}
	if err != nil {
		return err
	}
	usr.Enabled = true
	return users.Save(ctx, &usr, password) // the password and enabled at once
}

// serve serves the configurator until ctx is done; admin is the URL of the
// server's admin endpoints.
func (c *demoConfigurator) serve(ctx context.Context, applyDir, admin string, log *slog.Logger) error {
	h, err := configurator.New(configurator.Config{
		Store: c.store, Users: c.users, ApplyDir: applyDir, ServerAdmin: admin, Logger: log,
	})
	if err != nil {
		c.ln.Close()
		return err
	}
	return configurator.Serve(ctx, c.ln, h, nil, log)
}

// close closes the listener (when serve has not) and the databases, once
// serve has returned.
func (c *demoConfigurator) close() {
	c.ln.Close()
	if c.store != nil {
		c.store.Close()
	}
	if c.users != nil {
		c.users.Close()
	}
}

// passwordAlphabet has no letters or digits that read alike (0 O o, 1 l I).
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newPassword returns a random password easy to read and type: four groups
// of four characters of passwordAlphabet, about 79 bits.
func newPassword() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for n := 0; n < 16; {
		rand.Read(buf) // never fails (crypto/rand)
		// Drop the bytes past the last whole multiple of the alphabet's
		// size, so that every character is as likely.
		if int(buf[0]) >= 256/len(passwordAlphabet)*len(passwordAlphabet) {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
		n++
	}
	return b.String()
}
