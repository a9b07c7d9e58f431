package configurator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// The audit module: the working database's audit log (Store.Audit), newest
// first, in pages, filtered by user, kind of row, text and time range. It
// only reads: GET /audit with the filters in the query string, so that a
// filtered view has a URL to keep or send.

// auditEntities are the kinds of entry the filter offers, in its order.
var auditEntities = []config.Kind{config.KindSeat, config.KindOperator, config.KindService, config.KindManager, config.KindConfig}

// dateTimeLocal is the value of an <input type="datetime-local">: a time
// in the configurator host's zone, chosen in the browser's picker.
const dateTimeLocal = "2006-01-02T15:04"

// auditQuery is the filter form as typed, and what it selects.
type auditQuery struct {
	User, Entity, Q, Since, Until string
	Before                        int64
	Problems                      map[string][]string
	filter                        config.AuditFilter
}

// Field returns the problems of a filter field, for the template.
func (q *auditQuery) Field(name string) []string { return q.Problems[name] }

// Entities are the choices of the kind filter.
func (q *auditQuery) Entities() []config.Kind { return auditEntities }

// URL returns the audit page of q's filters, starting at before (0: the
// newest).
func (q *auditQuery) URL(before int64) string {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "entity": q.Entity, "q": q.Q, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if before != 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// parseAuditQuery reads the filters; a time that does not parse is a
// problem of its field, and that filter is not applied.
func parseAuditQuery(v url.Values, page int) *auditQuery {
	q := &auditQuery{User: clip(v.Get("user"), 64), Entity: v.Get("entity"), Q: clip(v.Get("q"), 200),
		Since: clip(v.Get("since"), 32), Until: clip(v.Get("until"), 32), Problems: map[string][]string{}}
	q.filter = config.AuditFilter{User: q.User, Text: q.Q, Limit: page + 1}
	if k := config.Kind(q.Entity); slices.Contains(auditEntities, k) {
		q.filter.Entity = k
	} else {
		q.Entity = ""
	}
	if b, err := strconv.ParseInt(v.Get("before"), 10, 64); err == nil && b > 0 {
		q.Before, q.filter.Before = b, b
	}
	for _, t := range []struct {
		name string
		text *string
		into *time.Time
	}{{"since", &q.Since, &q.filter.Since}, {"until", &q.Until, &q.filter.Until}} {
		if *t.text == "" {
			continue
		}
		at, err := time.ParseInLocation(dateTimeLocal, *t.text, time.Local)
		if err != nil {
			q.Problems[t.name] = []string{"Choose a date and a time (YYYY-MM-DDTHH:MM), or leave it empty."}
			continue
		}
		*t.into = at
	}
	if !q.filter.Since.IsZero() && !q.filter.Until.IsZero() && !q.filter.Since.Before(q.filter.Until) {
		q.Problems["until"] = append(q.Problems["until"], "“Until” must be after “since”.")
	}
	return q
}

// fieldChange is one field of a row an entry shows: its value before and
// after ("" for none).
type fieldChange struct{ Name, Before, After string }

// auditRow is an entry as the list shows it.
type auditRow struct {
	config.AuditEntry
	When    string
	Changes []fieldChange
}

// changesOf lists the fields an entry changed (an edit), added (an add) or
// removed (a remove), each value as JSON; the row's id and version (which
// every change bumps) and the empty fields of an added or removed row are
// left out.
func changesOf(e config.AuditEntry) []fieldChange {
	before, after := jsonFields(e.Before), jsonFields(e.After)
	var names []string
	for k := range before {
		names = append(names, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []fieldChange
	for _, k := range names {
		b, a := before[k], after[k]
		if k == "id" || k == "version" || bytes.Equal(b, a) || b == nil && isEmpty(a) || a == nil && isEmpty(b) {
			continue
		}
		out = append(out, fieldChange{Name: k, Before: string(b), After: string(a)})
	}
	return out
}

func isEmpty(v json.RawMessage) bool {
	s := string(v)
	return s == `""` || s == "null" || s == "[]" || s == "{}"
}

func jsonFields(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) > 0 && json.Unmarshal(raw, &m) != nil {
		return map[string]json.RawMessage{"": raw} // not an object: shown whole
	}
	return m
}

type auditPage struct {
	Query   *auditQuery
	Entries []auditRow
	// Older is the URL of the next page, "" on the last one.
	Older string
}

func (h *Handler) auditRoutes(mux *routeMux) {
	mux.HandleFunc("GET /audit", h.auditList)
}

func (h *Handler) auditList(w http.ResponseWriter, r *http.Request) {
	q := parseAuditQuery(r.URL.Query(), h.cfg.AuditPage)
	status := http.StatusOK
	if len(q.Problems) > 0 {
		status = http.StatusBadRequest
	}
	entries, err := h.cfg.Store.Audit(r.Context(), q.filter)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	p := auditPage{Query: q}
	if len(entries) > h.cfg.AuditPage {
		entries = entries[:h.cfg.AuditPage]
		p.Older = q.URL(entries[len(entries)-1].ID)
	}
	for _, e := range entries {
		p.Entries = append(p.Entries, auditRow{AuditEntry: e, When: e.At.Local().Format(timeLayout), Changes: changesOf(e)})
	}
	h.render(w, r, status, "audit", "Audit", "/audit", p)
}
