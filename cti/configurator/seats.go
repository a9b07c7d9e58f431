package configurator

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
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
	Action  string // where it posts
	Title   string
	ID      int64
	Version string
	Seat    config.Seat
	// Problems maps a field ("mac", "interface", "description") to its
	// problems; "" holds those of the whole form.
	Problems map[string][]string
	Stale    string
}

// Field returns the problems of a field, for the template.
func (f *seatForm) Field(name string) []string { return f.Problems[name] }

// seatConfirm is the remove dialog.
type seatRemoveDialog struct {
	Seat       config.Seat
	Dependents []string
	Version    string
}

type seatsPage struct {
	Query   listQuery
	Seats   []config.Seat
	Total   int
	Form    *seatForm
	Remove  *seatRemoveDialog
	BackURL string
}

// seatVersion identifies a seat's content as the editor saw it, to refuse
// a stale edit: the hash of its values. When cti/config keeps row
// versions, they replace it here.
func seatVersion(s config.Seat) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(s.MAC)) + ":" + s.MAC + strconv.Itoa(len(s.Interface)) + ":" + s.Interface + s.Description))
	return hex.EncodeToString(sum[:12])
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

// findSeat returns the seat of the path's {id} in m and its index, or
// -1.
func findSeat(m *config.Model, r *http.Request) (int, int64) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return -1, 0
	}
	for i, s := range m.Seats {
		if s.ID == id {
			return i, id
		}
	}
	return -1, id
}

func (h *Handler) seatEdit(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query(), seatColumns)
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	i, id := findSeat(m, r)
	if i < 0 {
		h.seatGone(w, r, q)
		return
	}
	s := m.Seats[i]
	h.showSeats(w, r, http.StatusOK, q, seatsPage{Form: &seatForm{
		Action: "/seats/" + strconv.FormatInt(id, 10), Title: "Edit seat " + s.MAC, ID: id, Version: seatVersion(s), Seat: s,
	}})
}

// seatGone answers an edit or remove of a seat that no longer exists.
func (h *Handler) seatGone(w http.ResponseWriter, r *http.Request, q listQuery) {
	h.sessions.setFlash(sessionOf(r), "That seat no longer exists: someone removed it.")
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

// newProblems validates after, the model with the change applied, and
// returns the problems it has that before has not: a change is refused for
// what it breaks, not for what was wrong already elsewhere.
func newProblems(before, after *config.Model) []config.Problem {
	had := map[string]bool{}
	var ve *config.ValidationError
	if err := before.Validate(); errors.As(err, &ve) {
		for _, p := range ve.Problems {
			had[p.Msg] = true
		}
	}
	var out []config.Problem
	if err := after.Validate(); errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if !had[p.Msg] {
				out = append(out, p)
			}
		}
	}
	return out
}

func (h *Handler) problemMap(kind string, problems []config.Problem) map[string][]string {
	out := map[string][]string{}
	for _, p := range problems {
		f := h.fieldOf(kind, p)
		out[f] = append(out[f], p.Msg)
	}
	return out
}

// saveError turns what the store refused into the form's problems.
func (h *Handler) saveError(form *seatForm, err error) bool {
	var ve *config.ValidationError
	var ce *config.ConstraintError
	switch {
	case errors.As(err, &ve):
		form.Problems = h.problemMap("seat", ve.Problems)
	case errors.As(err, &ce):
		form.Problems = map[string][]string{"": {ce.Msg}}
	default:
		return false
	}
	return true
}

func (h *Handler) seatAdd(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	s := seatFromForm(r)
	form := &seatForm{Action: "/seats", Title: "Add a seat", Seat: s}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	after := m.Clone()
	after.Seats = append(after.Seats, s)
	if ps := newProblems(m, after); len(ps) > 0 {
		form.Problems = h.problemMap("seat", ps)
		h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
		return
	}
	if err := h.cfg.Store.SaveSeat(r.Context(), &s); err != nil {
		if h.saveError(form, err) {
			h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, Change{Kind: "seat", Action: "add", Key: s.MAC, After: s})
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" added.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}

func (h *Handler) changed(r *http.Request, c Change) {
	c.User = sessionOf(r).user
	if err := h.audit.Record(r.Context(), c); err != nil {
		h.log.Error("audit record failed", "err", err, "kind", c.Kind, "key", c.Key)
	}
}

func (h *Handler) seatSave(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	s := seatFromForm(r)
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	i, id := findSeat(m, r)
	if i < 0 {
		h.seatGone(w, r, q)
		return
	}
	old := m.Seats[i]
	s.ID = id
	form := &seatForm{Action: "/seats/" + strconv.FormatInt(id, 10), Title: "Edit seat " + old.MAC, ID: id, Version: seatVersion(old), Seat: s}
	if v := r.PostForm.Get("version"); v != seatVersion(old) {
		// Someone saved this seat since the dialog opened. The form keeps
		// what this user typed, with the new version: saving again is a
		// deliberate overwrite, never a silent one.
		form.Stale = "Someone else changed this seat since you opened it; it is now: MAC " + old.MAC +
			", interface " + old.Interface + ", description \"" + old.Description +
			"\". Save again to replace it with your values, or Cancel to keep theirs."
		h.showSeats(w, r, http.StatusConflict, q, seatsPage{Form: form})
		return
	}
	after := m.Clone()
	after.Seats[i] = s
	if old.MAC != s.MAC {
		// The operators whose fixed seat it is follow it (the database
		// links them by row, the model by MAC).
		for j := range after.Operators {
			if after.Operators[j].Seat == old.MAC {
				after.Operators[j].Seat = s.MAC
			}
		}
	}
	if ps := newProblems(m, after); len(ps) > 0 {
		form.Problems = h.problemMap("seat", ps)
		h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
		return
	}
	if err := h.cfg.Store.SaveSeat(r.Context(), &s); err != nil {
		if errors.Is(err, config.ErrNotFound) {
			h.seatGone(w, r, q)
			return
		}
		if h.saveError(form, err) {
			h.showSeats(w, r, http.StatusUnprocessableEntity, q, seatsPage{Form: form})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, Change{Kind: "seat", Action: "edit", Key: s.MAC, Before: old, After: s})
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" saved.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}

// seatDependents says what depends on seat: the operators whose fixed
// seat it is. It is the seam where cti/config's dependents plug in.
func seatDependents(m *config.Model, seat config.Seat) []string {
	var out []string
	for _, o := range m.Operators {
		if o.Seat == seat.MAC {
			out = append(out, "operator "+o.Username+" has it as fixed seat, and will have none")
		}
	}
	return out
}

func (h *Handler) seatConfirm(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query(), seatColumns)
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	i, _ := findSeat(m, r)
	if i < 0 {
		h.seatGone(w, r, q)
		return
	}
	s := m.Seats[i]
	h.showSeats(w, r, http.StatusOK, q, seatsPage{Remove: &seatRemoveDialog{Seat: s, Dependents: seatDependents(m, s), Version: seatVersion(s)}})
}

func (h *Handler) seatRemove(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.PostForm, seatColumns)
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	m, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	i, id := findSeat(m, r)
	if i < 0 {
		h.seatGone(w, r, q)
		return
	}
	s := m.Seats[i]
	if r.PostForm.Get("version") != seatVersion(s) {
		dlg := &seatRemoveDialog{Seat: s, Dependents: seatDependents(m, s), Version: seatVersion(s)}
		h.sessions.setFlash(sessionOf(r), "Someone else changed this seat since you asked to remove it: check it and confirm again.")
		h.showSeats(w, r, http.StatusConflict, q, seatsPage{Remove: dlg})
		return
	}
	if err := h.cfg.Store.DeleteSeat(r.Context(), id, s.Version); err != nil {
		if errors.Is(err, config.ErrNotFound) {
			h.seatGone(w, r, q)
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.changed(r, Change{Kind: "seat", Action: "remove", Key: s.MAC, Before: s})
	h.sessions.setFlash(sessionOf(r), "Seat "+s.MAC+" removed.")
	http.Redirect(w, r, "/seats?"+q.Encode(), http.StatusSeeOther)
}
