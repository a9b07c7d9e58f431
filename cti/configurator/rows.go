package configurator

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// rowModule is the skeleton every module that edits one kind of row
// shares (the seats module is its first use): a list (GET PATH) with a
// search box and sortable columns; its toolbar opens the add, edit and
// remove dialogs, each a page of its own (GET PATH/new, PATH/{id}/edit,
// PATH/{id}/remove) that shows the list with the dialog open over it, so
// that every step has a URL, works with the keyboard and without script.
// The forms post to PATH, PATH/{id} and PATH/{id}/remove; a refused form
// comes back in its dialog with each problem next to its field (422), a
// stale one with who changed the row and when (409); a done one redirects
// to the list (303) with a message. What differs between modules is in
// the functions of its rowModule.
type rowModule[T any] struct {
	kind  config.Kind
	noun  string // "seat", in messages
	path  string // "/seats"
	title string // "Seats", the page's title
	page  string // the template
	// columns are the sort keys, the first the default; fields the form's
	// fields that problems land on (Problem.FieldKey).
	columns, fields []string
	rows            func(*config.Model) []T
	ref             func(*T) (id, version int64, key string)
	// text returns the values the search looks in; sortKey the value of
	// a column.
	text    func(*T) []string
	sortKey func(*T, string) string
	// fromForm reads the dialog's fields into a row: old is the stored one
	// for an edit (its ID, and what the form does not show, are kept from
	// it; the Version is the form's: formVersion), nil for an add.
	fromForm func(r *http.Request, old *T) T
	// newRow, when set, is the row an add dialog opens with (its
	// defaults); the zero T otherwise.
	newRow func() T
	// describe is the row as a sentence, for the stale-edit message.
	describe func(*T) string
	save     func(ctx context.Context, st *config.Store, row *T) error
	remove   func(ctx context.Context, st *config.Store, id, version int64) error
	// extra, when set, is more data the page needs (the seats an operator
	// may have).
	extra func(*config.Model) any
	// load, when set, reads the rows from elsewhere than the working
	// configuration (the manager users' database), instead of rows and
	// extra.
	load func(ctx context.Context) ([]T, error)
	// removal, when set, is what the remove action does to row instead
	// (manager users are disabled or enabled, never removed): the word of
	// its message ("disabled") and its audit action. Its dialog is then at
	// PATH/{id}/state, and shows no dependents.
	removal func(row *T) (done string, a config.Action)
}

// rowForm is the add or edit dialog.
type rowForm[T any] struct {
	Action string // where it posts
	Title  string
	ID     int64
	// Version is the row version the form was filled from, which the save
	// passes back to the store: a save over a newer one is refused.
	Version int64
	Row     T
	// Problems maps a field to its problems; "" holds those of the whole
	// form.
	Problems map[string][]string
	Stale    string
}

// Field returns the problems of a field, for the template.
func (f *rowForm[T]) Field(name string) []string { return f.Problems[name] }

// rowRemove is the remove confirmation.
type rowRemove[T any] struct {
	Row        T
	ID         int64
	Version    int64
	Dependents []string
	Stale      string
	// Problems are why the store refused it (a user cannot disable
	// themselves).
	Problems []string
}

type rowPage[T any] struct {
	Query   listQuery
	Rows    []T
	Total   int
	Form    *rowForm[T]
	Remove  *rowRemove[T]
	BackURL string
	Extra   any
}

func (m *rowModule[T]) routes(h *Handler, mux *routeMux) {
	mux.HandleFunc("GET "+m.path, func(w http.ResponseWriter, r *http.Request) {
		m.show(h, w, r, http.StatusOK, m.query(r.URL.Query()), rowPage[T]{})
	})
	mux.HandleFunc("GET "+m.path+"/new", func(w http.ResponseWriter, r *http.Request) {
		m.show(h, w, r, http.StatusOK, m.query(r.URL.Query()), rowPage[T]{Form: m.addForm()})
	})
	mux.HandleFunc("POST "+m.path, func(w http.ResponseWriter, r *http.Request) { m.add(h, w, r) })
	mux.HandleFunc("GET "+m.path+"/{id}/edit", func(w http.ResponseWriter, r *http.Request) { m.edit(h, w, r) })
	mux.HandleFunc("POST "+m.path+"/{id}", func(w http.ResponseWriter, r *http.Request) { m.saveForm(h, w, r) })
	remove := "/remove"
	if m.removal != nil {
		remove = "/state"
	}
	mux.HandleFunc("GET "+m.path+"/{id}"+remove, func(w http.ResponseWriter, r *http.Request) { m.confirm(h, w, r) })
	mux.HandleFunc("POST "+m.path+"/{id}"+remove, func(w http.ResponseWriter, r *http.Request) { m.removeForm(h, w, r) })
}

// list returns the module's rows, and the extra data its page needs.
func (m *rowModule[T]) list(h *Handler, r *http.Request) ([]T, any, error) {
	if m.load != nil {
		rows, err := m.load(r.Context())
		return rows, nil, err
	}
	model, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		return nil, nil, err
	}
	var extra any
	if m.extra != nil {
		extra = m.extra(model)
	}
	return m.rows(model), extra, nil
}

func (m *rowModule[T]) query(v map[string][]string) listQuery { return parseListQuery(v, m.columns) }

func (m *rowModule[T]) filter(rows []T, q listQuery) []T {
	var out []T
	needle := strings.ToLower(q.Q)
	for i := range rows {
		if needle == "" || slices.ContainsFunc(m.text(&rows[i]), func(s string) bool {
			return strings.Contains(strings.ToLower(s), needle)
		}) {
			out = append(out, rows[i])
		}
	}
	slices.SortStableFunc(out, func(a, b T) int {
		c := cmp.Compare(m.sortKey(&a, q.Sort), m.sortKey(&b, q.Sort))
		if c == 0 {
			_, _, ka := m.ref(&a)
			_, _, kb := m.ref(&b)
			c = cmp.Compare(ka, kb)
		}
		if q.Desc {
			return -c
		}
		return c
	})
	return out
}

// show renders the list, with the dialog of p open over it if any.
func (m *rowModule[T]) show(h *Handler, w http.ResponseWriter, r *http.Request, status int, q listQuery, p rowPage[T]) {
	rows, extra, err := m.list(h, r)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	p.Query, p.Total, p.Rows, p.BackURL, p.Extra = q, len(rows), m.filter(rows, q), m.path+"?"+q.Encode(), extra
	h.render(w, r, status, m.page, m.title, m.path, p)
}

func (m *rowModule[T]) addForm() *rowForm[T] {
	f := &rowForm[T]{Action: m.path, Title: "Add " + article(m.noun) + " " + m.noun}
	if m.newRow != nil {
		f.Row = m.newRow()
	}
	return f
}

func (m *rowModule[T]) editForm(row T) *rowForm[T] {
	id, version, key := m.ref(&row)
	return &rowForm[T]{Action: m.path + "/" + strconv.FormatInt(id, 10), Title: "Edit " + m.noun + " " + key,
		ID: id, Version: version, Row: row}
}

// find returns the row of the path's {id}, or answers (404, or the
// store's failure) and returns nil.
func (m *rowModule[T]) find(h *Handler, w http.ResponseWriter, r *http.Request, q listQuery) *T {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		rows, _, err := m.list(h, r)
		if err != nil {
			h.storeFailed(w, r, err)
			return nil
		}
		for i := range rows {
			if rid, _, _ := m.ref(&rows[i]); rid == id {
				return &rows[i]
			}
		}
	}
	m.gone(h, w, r, q)
	return nil
}

// gone answers an edit or remove of a row that no longer exists, saying
// who removed it when the audit log tells.
func (m *rowModule[T]) gone(h *Handler, w http.ResponseWriter, r *http.Request, q listQuery) {
	h.sessions.setFlash(sessionOf(r), h.goneMessage(r, m.kind, m.noun))
	m.show(h, w, r, http.StatusNotFound, q, rowPage[T]{})
}

func (m *rowModule[T]) done(h *Handler, w http.ResponseWriter, r *http.Request, q listQuery, a config.Action, row *T, what string) {
	_, version, key := m.ref(row)
	h.changed(r, m.kind, a, key, version)
	h.sessions.setFlash(sessionOf(r), strings.ToUpper(m.noun[:1])+m.noun[1:]+" "+key+" "+what+".")
	http.Redirect(w, r, m.path+"?"+q.Encode(), http.StatusSeeOther)
}

func (m *rowModule[T]) add(h *Handler, w http.ResponseWriter, r *http.Request) {
	q := m.query(r.PostForm)
	row := m.fromForm(r, nil)
	if err := m.save(r.Context(), h.store(r), &row); err != nil {
		if ps := validationProblems(m.kind, m.fields, err); ps != nil {
			form := m.addForm()
			form.Row, form.Problems = row, ps
			m.show(h, w, r, http.StatusUnprocessableEntity, q, rowPage[T]{Form: form})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	m.done(h, w, r, q, config.ActionAdd, &row, "added")
}

// article is "a" or "an" before noun.
func article(noun string) string {
	if strings.ContainsAny(noun[:1], "aeiou") {
		return "an"
	}
	return "a"
}

func (m *rowModule[T]) edit(h *Handler, w http.ResponseWriter, r *http.Request) {
	q := m.query(r.URL.Query())
	if row := m.find(h, w, r, q); row != nil {
		m.show(h, w, r, http.StatusOK, q, rowPage[T]{Form: m.editForm(*row)})
	}
}

func (m *rowModule[T]) saveForm(h *Handler, w http.ResponseWriter, r *http.Request) {
	q := m.query(r.PostForm)
	old := m.find(h, w, r, q)
	if old == nil {
		return
	}
	form := m.editForm(*old)
	row := m.fromForm(r, old)
	form.Row, form.Version = row, formVersion(r)
	err := m.save(r.Context(), h.store(r), &row)
	switch {
	case err == nil:
		m.done(h, w, r, q, config.ActionEdit, &row, "saved")
	case errors.Is(err, config.ErrNotFound):
		m.gone(h, w, r, q)
	case errors.Is(err, config.ErrStale):
		// Someone saved this row since the dialog opened. The form keeps
		// what this user typed, with the new version: saving again is a
		// deliberate overwrite, never a silent one.
		now := m.find(h, w, r, q)
		if now == nil {
			return
		}
		_, form.Version, _ = m.ref(now)
		form.Stale = staleBy(m.noun, err) + " since you opened it; it is now: " + m.describe(now) +
			". Save again to replace it with your values, or Cancel to keep theirs."
		m.show(h, w, r, http.StatusConflict, q, rowPage[T]{Form: form})
	default:
		if ps := validationProblems(m.kind, m.fields, err); ps != nil {
			form.Problems = ps
			m.show(h, w, r, http.StatusUnprocessableEntity, q, rowPage[T]{Form: form})
			return
		}
		h.storeFailed(w, r, err)
	}
}

// removeDialog is the remove dialog of row, with what depends on it.
func (m *rowModule[T]) removeDialog(h *Handler, r *http.Request, row *T) (*rowRemove[T], error) {
	id, version, _ := m.ref(row)
	if m.removal != nil {
		return &rowRemove[T]{Row: *row, ID: id, Version: version}, nil
	}
	deps, err := h.cfg.Store.Dependents(r.Context(), m.kind, id)
	if err != nil {
		return nil, err
	}
	return &rowRemove[T]{Row: *row, ID: id, Version: version, Dependents: dependentTexts(deps)}, nil
}

func (m *rowModule[T]) confirm(h *Handler, w http.ResponseWriter, r *http.Request) {
	q := m.query(r.URL.Query())
	row := m.find(h, w, r, q)
	if row == nil {
		return
	}
	dlg, err := m.removeDialog(h, r, row)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	m.show(h, w, r, http.StatusOK, q, rowPage[T]{Remove: dlg})
}

func (m *rowModule[T]) removeForm(h *Handler, w http.ResponseWriter, r *http.Request) {
	q := m.query(r.PostForm)
	row := m.find(h, w, r, q)
	if row == nil {
		return
	}
	id, _, _ := m.ref(row)
	err := m.remove(r.Context(), h.store(r), id, formVersion(r))
	var ve *config.ValidationError
	switch {
	case err == nil:
		what, a := "removed", config.ActionRemove
		if m.removal != nil {
			what, a = m.removal(row)
		}
		m.done(h, w, r, q, a, row, what)
	case errors.Is(err, config.ErrNotFound):
		m.gone(h, w, r, q)
	case errors.Is(err, config.ErrStale):
		// The dialog comes back with the row as it is now and its new
		// version: confirming again removes what the user now sees.
		dlg, derr := m.removeDialog(h, r, row)
		if derr != nil {
			h.storeFailed(w, r, derr)
			return
		}
		asked := " since you asked to remove it"
		if m.removal != nil {
			asked = " since you opened this dialog"
		}
		dlg.Stale = staleBy(m.noun, err) + asked + ": check it and confirm again."
		m.show(h, w, r, http.StatusConflict, q, rowPage[T]{Remove: dlg})
	case errors.As(err, &ve):
		dlg, derr := m.removeDialog(h, r, row)
		if derr != nil {
			h.storeFailed(w, r, derr)
			return
		}
		for _, p := range ve.Problems {
			dlg.Problems = append(dlg.Problems, p.Msg)
		}
		m.show(h, w, r, http.StatusUnprocessableEntity, q, rowPage[T]{Remove: dlg})
	default:
		h.storeFailed(w, r, err)
	}
}
