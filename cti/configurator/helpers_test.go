package configurator

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/astcti/astcti/cti/config"
)

func TestMain(m *testing.M) {
	config.BcryptCost = bcrypt.MinCost // the tests log in often
	m.Run()
}

const (
	testUser     = "admin"
	testPassword = "correct horse"
)

// syncBuffer is a log sink safe for the handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t     testing.TB
	h     *Handler
	srv   *httptest.Server
	store *config.Store
	users *config.Users
	log   *syncBuffer
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := config.Open(ctx, filepath.Join(dir, "working.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	users, err := config.OpenUsers(ctx, filepath.Join(dir, "users.db"))
	require.NoError(t, err)
	t.Cleanup(func() { users.Close() })
	_, err = users.Create(ctx, testUser, "The Admin", testPassword)
	require.NoError(t, err)
	logs := &syncBuffer{}
	cfg := Config{Store: store, Users: users, ApplyDir: filepath.Join(dir, "apply"),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range mutate {
		f(&cfg)
	}
	h, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, srv: srv, store: store, users: users, log: logs}
}

// client is a browser: a cookie jar, redirects not followed.
type client struct {
	e    *env
	c    *http.Client
	csrf string // the token of the last page's forms
}

func (e *env) client() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	*http.Response
	body string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) resp {
	c.e.t.Helper()
	r, err := c.c.Do(req)
	require.NoError(c.e.t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(c.e.t, err)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = html.UnescapeString(string(m[1]))
	}
	return resp{r, string(b)}
}

func (c *client) get(path string, hdr ...string) resp {
	c.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	require.NoError(c.e.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.do(req)
}

// post posts a form; kv are its fields in pairs. The form's csrf is the
// one of the last page unless kv sets it.
func (c *client) post(path string, kv ...string) resp {
	c.e.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	if _, ok := v["csrf"]; !ok && c.csrf != "" {
		v.Set("csrf", c.csrf)
	}
	if v.Get("csrf") == "-" {
		v.Del("csrf")
	}
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(v.Encode()))
	require.NoError(c.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login logs c in as user with password and returns the answer.
func (c *client) login(user, password string) resp {
	c.e.t.Helper()
	c.get("/login")
	return c.post("/login", "userid", user, "password", password)
}

// loggedIn returns a client logged in as the test user, on the seats page.
func (e *env) loggedIn() *client {
	e.t.Helper()
	c := e.client()
	r := c.login(testUser, testPassword)
	require.Equal(e.t, http.StatusSeeOther, r.StatusCode, r.body)
	require.Equal(e.t, http.StatusOK, c.get("/seats").StatusCode)
	return c
}

func (e *env) model() *config.Model {
	e.t.Helper()
	m, err := e.store.Model(context.Background())
	require.NoError(e.t, err)
	return m
}

func (e *env) addSeat(s config.Seat) config.Seat {
	e.t.Helper()
	require.NoError(e.t, e.store.SaveSeat(context.Background(), &s))
	return s
}

// fieldErrors returns the problems shown next to field name.
func fieldErrors(body, name string) string {
	re := regexp.MustCompile(`(?s)<ul class="field-error" id="` + name + `-error">(.*?)</ul>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// listOrder returns the keys found in body in the cell (a format: %s is
// the key), in the order they
// appear there, space separated: the order of a list's rows.
func listOrder(body, cell string, keys ...string) string {
	type hit struct {
		at  int
		key string
	}
	var hits []hit
	for _, k := range keys {
		if i := strings.Index(body, fmt.Sprintf(cell, k)); i >= 0 {
			hits = append(hits, hit{i, k})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.key
	}
	return strings.Join(out, " ")
}

// assertListOrder checks the order of the rows (keys in their first mono
// cell) of the list at path for each query of cases: {query, want}.
func assertListOrder(t *testing.T, c *client, path string, keys []string, cases [][2]string) {
	t.Helper()
	for _, tc := range cases {
		r := c.get(path + tc[0])
		require.Equal(t, http.StatusOK, r.StatusCode, tc[0])
		assert.Equal(t, tc[1], listOrder(r.body, `<td class="mono">%s</td>`, keys...), tc[0])
	}
}
