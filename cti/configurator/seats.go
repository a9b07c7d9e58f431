package configurator

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// The seats module: the pattern of every module (rowModule).
var seatColumns = []string{"mac", "interface", "description"}

var seatModule = &rowModule[config.Seat]{
	kind: config.KindSeat, noun: "seat", path: "/seats", title: "Seats", page: "seats",
	columns: seatColumns, fields: seatColumns,
	rows: func(m *config.Model) []config.Seat { return m.Seats },
	ref:  func(s *config.Seat) (int64, int64, string) { return s.ID, s.Version, s.MAC },
	text: func(s *config.Seat) []string { return []string{s.MAC, s.Interface, s.Description} },
	sortKey: func(s *config.Seat, col string) string {
		switch col {
		case "interface":
			return strings.ToLower(s.Interface)
		case "description":
			return strings.ToLower(s.Description)
		}
		return s.MAC
	},
	fromForm: seatFromForm,
	describe: func(s *config.Seat) string {
		return "MAC " + s.MAC + ", interface " + s.Interface + ", description \"" + s.Description + "\""
	},
	save: func(ctx context.Context, st *config.Store, s *config.Seat) error { return st.SaveSeat(ctx, s) },
	remove: func(ctx context.Context, st *config.Store, id, version int64) error {
		return st.DeleteSeat(ctx, id, version)
	},
}

// seatFromForm reads the dialog's fields.
func seatFromForm(r *http.Request, old *config.Seat) config.Seat {
	f := r.PostForm
	s := config.Seat{
		MAC:         strings.TrimSpace(f.Get("mac")),
		Interface:   strings.TrimSpace(f.Get("interface")),
		Description: strings.TrimSpace(f.Get("description")),
	}
	if mac, err := config.NormalizeMAC(s.MAC); err == nil {
		s.MAC = mac
	}
	if old != nil {
		s.ID, s.Version = old.ID, formVersion(r)
	}
	return s
}

func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("working database failed", "path", r.URL.Path, "err", err)
	h.fail(w, r, http.StatusInternalServerError, "The working database failed: see the configurator's log.")
}

// listQuery is a list's search and sort, kept across its dialogs.
type listQuery struct {
	Q    string
	Sort string
	Desc bool
}

func parseListQuery(v url.Values, columns []string) listQuery {
	q := listQuery{Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Desc: v.Get("dir") == "desc"}
	if len(q.Q) > 200 {
		q.Q = q.Q[:200]
	}
	if !slices.Contains(columns, q.Sort) {
		q.Sort = columns[0]
	}
	return q
}

// Encode returns the query string of q ("q=..&sort=..&dir=..").
func (q listQuery) Encode() string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	v.Set("sort", q.Sort)
	if q.Desc {
		v.Set("dir", "desc")
	}
	return v.Encode()
}

// URL returns path with q's query string. The templates take whole URLs
// from it: html/template would escape the = and & of a query string put
// after a literal "?".
func (q listQuery) URL(path string) string { return path + "?" + q.Encode() }

// SortBy returns the list URL that sorts by col: ascending, or the other
// way when the list is sorted by col already.
func (q listQuery) SortBy(path, col string) string {
	n := q
	n.Desc = q.Sort == col && !q.Desc
	n.Sort = col
	return n.URL(path)
}

// AriaSort is the aria-sort value of column col.
func (q listQuery) AriaSort(col string) string {
	switch {
	case q.Sort != col:
		return "none"
	case q.Desc:
		return "descending"
	}
	return "ascending"
}
