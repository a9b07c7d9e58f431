package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/astcti/astcti/fakeami"
)

// control is a client of the fake PBX's control API (docs/fakeami.md).
type control struct {
	base string // http://host:port
	hc   *http.Client
}

// maxControlBody bounds what the load generator reads of one answer: a
// page of links is at most MaxLinksLimit entries of about 120 bytes.
const maxControlBody = 64 << 20

func newControl(base string) *control {
	return &control{base: strings.TrimSuffix(base, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a request and decodes a 2xx answer's JSON into out (when not
// nil); any other answer is an error with the body's first line.
func (c *control) do(ctx context.Context, method, path, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("fake PBX %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxControlBody))
	if err != nil {
		return fmt.Errorf("fake PBX %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &statusError{method: method, path: path, code: resp.StatusCode, body: b}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("fake PBX %s %s: %w", method, path, err)
	}
	return nil
}

type statusError struct {
	method, path string
	code         int
	body         []byte // bounded by maxControlBody
}

// Error names the request and the answer's status and first line.
func (e *statusError) Error() string {
	first, _, _ := bytes.Cut(bytes.TrimSpace(e.body), []byte("\n"))
	return fmt.Sprintf("fake PBX %s %s: %d %s", e.method, e.path, e.code, first)
}

func (c *control) startTraffic(ctx context.Context, line string) error {
	return c.do(ctx, http.MethodPost, "/traffic", line, nil)
}

func (c *control) stopTraffic(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/traffic", "", nil)
}

func (c *control) stats(ctx context.Context) (fakeami.Stats, error) {
	var s fakeami.Stats
	err := c.do(ctx, http.MethodGet, "/stats", "", &s)
	return s, err
}

// members returns how many queue memberships the fake PBX has.
func (c *control) members(ctx context.Context) (int, error) {
	var ms []json.RawMessage
	err := c.do(ctx, http.MethodGet, "/members", "", &ms)
	return len(ms), err
}

// links returns the links after seq, a page at most; a 410 (links lost
// from the ring) is an error: the run cannot tell lost notifications
// then.
func (c *control) links(ctx context.Context, after uint64) ([]fakeami.Link, error) {
	var ls []fakeami.Link
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/links?after=%d&limit=%d", after, fakeami.MaxLinksLimit), "", &ls)
	return ls, err
}

// linkLog follows GET /links and keeps every link.
type linkLog struct {
	c     *control
	after uint64
	links []fakeami.Link
}

// poll reads every link since the last poll.
func (l *linkLog) poll(ctx context.Context) error { return l.read(ctx, true) }

// skip moves past every link the fake PBX has now, without keeping them:
// those of an external fake PBX's earlier runs. Links the PBX no longer
// keeps (410) are skipped too.
func (l *linkLog) skip(ctx context.Context) error {
	if err := l.read(ctx, false); err != nil {
		return fmt.Errorf("skip the earlier links: %w", err)
	}
	return nil
}

// read reads the links after l.after to the last one, keeping them with
// keep. Without keep, a 410 (links dropped from the PBX's ring) moves on
// to the first link it still has; with keep it is an error, since the run
// could not tell lost notifications then.
func (l *linkLog) read(ctx context.Context, keep bool) error {
	for {
		page, err := l.c.links(ctx, l.after)
		var se *statusError
		if !keep && errors.As(err, &se) && se.code == http.StatusGone {
			var gone struct {
				NextAfter uint64 `json:"next_after"`
			}
			if json.Unmarshal(se.body, &gone) != nil || gone.NextAfter <= l.after {
				return se
			}
			l.after = gone.NextAfter
			continue
		}
		if err != nil {
			return err
		}
		if keep {
			l.links = append(l.links, page...)
		}
		if len(page) > 0 {
			l.after = page[len(page)-1].Seq
		}
		if len(page) < fakeami.MaxLinksLimit {
			return nil
		}
	}
}
