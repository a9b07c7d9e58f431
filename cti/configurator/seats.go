package configurator

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// The seats module: the pattern of every module. A list (GET /seats) with
// a search box and sortable columns; its toolbar opens the add, edit and
// remove dialogs, each a page of its own (GET /seats/new,
// /seats/{id}/edit, /seats/{id}/remove) that shows the list with the
// dialog open over it, so that every step has a URL, works with the
// keyboard and without script. The forms post to /seats, /seats/{id} and
// /seats/{id}/remove; a refused form comes back in its dialog with each
// problem next to its field (422), a stale edit with a message (409); a
// done one redirects to the list (303) with a message.

func (h *Handler) seatRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /seats", h.seatList)
	mux.HandleFunc("GET /seats/new", h.seatNew)
	mux.HandleFunc("POST /seats", h.seatAdd)
	mux.HandleFunc("GET /seats/{id}/edit", h.seatEdit)
	mux.HandleFunc("POST /seats/{id}", h.seatSave)
	mux.HandleFunc("GET /seats/{id}/remove", h.seatConfirm)
	mux.HandleFunc("POST /seats/{id}/remove", h.seatRemove)
}

// listQuery is a list's search and sort, kept across its dialogs.
type listQuery struct {
	Q    string
	Sort string
	Desc bool
}

var seatColumns = []string{"mac", "interface", "description"}

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

// seatForm is the add or edit dialog.
type seatForm struct {
	Action string // where it posts
	Title  string
	ID     int64
	// Version is the row version the form was filled from, which the save
	// passes back to the store: a save over a newer one is refused.
	Version int64
	Seat    config.Seat
	// Problems maps a field ("mac", "interface", "description") to its
	// problems; "" holds those of the whole form.
	Problems map[string][]string
	Stale    string
}

// Field returns the problems of a field, for the template.
func (f *seatForm) Field(name string) []string { return f.Problems[name] }

// seatRemoveDialog is the remove confirmation.
type seatRemoveDialog struct {
	Seat       config.Seat
	Dependents []string
	Stale      string
}

type seatsPage struct {
	Query   listQuery
	Seats   []config.Seat
	Total   int
	Form    *seatForm
	Remove  *seatRemoveDialog
	BackURL string
}

func filterSeats(seats []config.Seat, q listQuery) []config.Seat {
	var out []config.Seat
	needle := strings.ToLower(q.Q)
	for _, s := range seats {
		if needle == "" || strings.Contains(strings.ToLower(s.MAC), needle) ||
			strings.Contains(strings.ToLower(s.Interface), needle) ||
			strings.Contains(strings.ToLower(s.Description), needle) {
			out = append(out, s)
		}
	}
	key := func(s config.Seat) string {
		switch q.Sort {
		case "interface":
			return strings.ToLower(s.Interface)
		case "description":
			return strings.ToLower(s.Description)
		}
		return s.MAC
	}
	slices.SortStableFunc(out, func(a, b config.Seat) int {
		c := cmp.Compare(key(a), key(b))
		if c == 0 {
			c = cmp.Compare(a.MAC, b.MAC)
		}
		if q.Desc {
			return -c
		}
		return c
	})
	return out
}

// showSeats renders the list, with the dialog of p open over it if any.
func (h *Handler) showSeats(w http.ResponseWriter, r *http.Request, status int, q listQuery, p seatsPage) {
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	p.Query = q
	p.Total = len(m.Seats)
	p.Seats = filterSeats(m.Seats, q)
	p.BackURL = "/seats?" + q.Encode()
	h.render(w, r, status, "seats", "Seats", "/seats", p)
}

func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("working database failed", "path", r.URL.Path, "err", err)
	h.fail(w, r, http.StatusInternalServerError, "The working database failed: see the configurator's log.")
}

func (h *Handler) seatList(w http.ResponseWriter, r *http.Request) {
	h.showSeats(w, r, http.StatusOK, parseListQuery(r.URL.Query(), seatColumns), seatsPage{})
}

func (h *Handler) seatNew(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query(), seatColumns)
	h.showSeats(w, r, http.StatusOK, q, seatsPage{Form: &seatForm{Action: "/seats", Title: "Add a seat"}})
}

// findSeat returns the seat of the path's {id}, or nil.
func (h *Handler) findSeat(r *http.Request) (*config.Seat, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, nil
	}
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		return nil, err
	}
	for i := range m.Seats {
		if m.Seats[i].ID == id {
			return &m.Seats[i], nil
		}
	}
	return nil, nil
}

// seatOf returns the seat of the path's {id}, or answers (404, or the
// store's failure) and returns nil.
func (h *Handler) seatOf(w http.ResponseWriter, r *http.Request, q listQuery) *config.Seat {
	s, err := h.findSeat(r)
	if err != nil {
		h.storeFailed(w, r, err)
		return nil
	}
	if s == nil {
		h.seatGone(w, r, q)
	}
	return s
}

func seatFormOf(s config.Seat) *seatForm {
	return &seatForm{Action: "/seats/" + strconv.FormatInt(s.ID, 10), Title: "Edit seat " + s.MAC,
		ID: s.ID, Version: s.Version, Seat: s}
}

func (h *Handler) seatEdit(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query(), seatColumns)
	s := h.seatOf(w, r, q)
	if s == nil {
		return
	}
	h.showSeats(w, r, http.StatusOK, q, seatsPage{Form: seatFormOf(*s)})
}

// seatGone answers an edit or remove of a seat that no longer exists,
// saying who removed it when the audit log tells.
func (h *Handler) seatGone(w http.ResponseWriter, r *http.Request, q listQuery) {
	h.sessions.setFlash(sessionOf(r), h.goneMessage(r, config.KindSeat, "seat"))
	h.showSeats(w, r, http.StatusNotFound, q, seatsPage{})
}

// seatFromForm reads the dialog's fields.
func seatFromForm(r *http.Request) config.Seat {
	f := r.PostForm
	s := config.Seat{
		MAC:         strings.TrimSpace(f.Get("mac")),
		Interface:   strings.TrimSpace(f.Get("interface")),
		Description: strings.TrimSpace(f.Get("description")),
	}
	if mac, err := config.NormalizeMAC(s.MAC); err == nil {
		s.MAC = mac
	}
	return s
}

func (h *Handler) seatAdd(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	s := seatFromForm(r)
	if err := h.store(r).SaveSeat(r.Context(), &s); err != nil {
		if ps := validationProblems(config.KindSeat, seatColumns, err); ps != nil {
			form := &seatForm{Action: "/seats", Title: "Add a seat", Seat: s, Problems: ps}
			h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, config.KindSeat, config.ActionAdd, s.MAC, s.Version)
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" added.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}

func (h *Handler) seatSave(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	old := h.seatOf(w, r, q)
	if old == nil {
		return
	}
	s := seatFromForm(r)
	s.ID, s.Version = old.ID, formVersion(r)
	form := seatFormOf(*old)
	form.Seat, form.Version = s, s.Version
	err := h.store(r).SaveSeat(r.Context(), &s)
	switch {
	case err == nil:
	case errors.Is(err, config.ErrNotFound):
		h.seatGone(w, r, q)
		return
	case errors.Is(err, config.ErrStale):
		// Someone saved this seat since the dialog opened. The form keeps
		// what this user typed, with the new version: saving again is a
		// deliberate overwrite, never a silent one.
		now, ferr := h.findSeat(r)
		if ferr != nil || now == nil {
			h.seatGone(w, r, q)
			return
		}
		form.Version = now.Version
		form.Stale = staleBy("seat", err) + " since you opened it; it is now: MAC " + now.MAC +
			", interface " + now.Interface + ", description \"" + now.Description +
			"\". Save again to replace it with your values, or Cancel to keep theirs."
		h.showSeats(w, r, http.StatusConflict, q, seatsPage{Form: form})
		return
	default:
		if ps := validationProblems(config.KindSeat, seatColumns, err); ps != nil {
			form.Problems = ps
			h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, config.KindSeat, config.ActionEdit, s.MAC, s.Version)
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" saved.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}

// seatRemoveOf is the remove dialog of s, with what depends on it.
func (h *Handler) seatRemoveOf(r *http.Request, s config.Seat) (*seatRemoveDialog, error) {
	deps, err := h.cfg.Store.Dependents(r.Context(), config.KindSeat, s.ID)
	if err != nil {
		return nil, err
	}
	return &seatRemoveDialog{Seat: s, Dependents: dependentTexts(deps)}, nil
}

func (h *Handler) seatConfirm(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query(), seatColumns)
	s := h.seatOf(w, r, q)
	if s == nil {
		return
	}
	dlg, err := h.seatRemoveOf(r, *s)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	h.showSeats(w, r, http.StatusOK, q, seatsPage{Remove: dlg})
}

func (h *Handler) seatRemove(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	s := h.seatOf(w, r, q)
	if s == nil {
		return
	}
	err := h.store(r).DeleteSeat(r.Context(), s.ID, formVersion(r))
	switch {
	case err == nil:
	case errors.Is(err, config.ErrNotFound):
		h.seatGone(w, r, q)
		return
	case errors.Is(err, config.ErrStale):
		// The dialog comes back with the seat as it is now and its new
		// version: confirming again removes what the user now sees.
		dlg, derr := h.seatRemoveOf(r, *s)
		if derr != nil {
			h.storeFailed(w, r, derr)
			return
		}
		dlg.Stale = staleBy("seat", err) + " since you asked to remove it: check it and confirm again."
		h.showSeats(w, r, http.StatusConflict, q, seatsPage{Remove: dlg})
		return
	default:
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, config.KindSeat, config.ActionRemove, s.MAC, 0)
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" removed.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}
