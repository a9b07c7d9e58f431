package configurator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// assetVersion changes with the assets' content: the pages name
// /assets/app.css?v=VERSION, so a browser never keeps an old copy.
var assetVersion = func() string {
	sum := sha256.New()
	fs.WalkDir(assetFS, "assets", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assetFS.ReadFile(path)
			sum.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(sum.Sum(nil)[:6])
}()

// pageNames are the pages, each templates/NAME.html with the layout.
var pageNames = []string{"login", "lost", "reset", "error", "seats", "operators", "services", "audit", "apply", "users", "live"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": func(name string) string { return "/assets/" + name + "?v=" + assetVersion },
		"fieldOf": func(f fielder, name, label, value, help string, max int, required bool) fieldArgs {
			return fieldArgs{F: f, Name: name, Label: label, Value: value, Help: help, Max: max, Required: required}
		},
		"checkOf": func(f fielder, name, label string, checked bool, help string) fieldArgs {
			return fieldArgs{F: f, Name: name, Label: label, Checked: checked, Help: help}
		},
		"stateOf": func(csrf string, version int64, q listQuery) formState {
			return formState{CSRF: csrf, Version: version, Query: q}
		},
		"listHeadOf": func(title, path, placeholder string, q listQuery, shown, total int) listHead {
			return listHead{Title: title, Path: path, Placeholder: placeholder, Query: q, Shown: shown, Total: total}
		},
		// removeAs names a list's remove button otherwise ("Disable or
		// enable").
		"removeAs":  func(label string, l listHead) listHead { l.Remove = label; return l },
		"buttonsOf": func(back, action string) map[string]string { return map[string]string{"Back": back, "Action": action} },
		"whenField": func(f fielder, name, label, value string) fieldArgs {
			return fieldArgs{F: f, Name: name, Label: label, Value: value}
		},
		"add":         func(a, b int) int { return a + b },
		"minPassword": func() int { return config.MinManagerPassword },
		"dict":        dict,
		"rowOf":       func(f fielder, j int, value string) serviceRowArgs { return serviceRowArgs{F: f, J: j, Value: value} },
		"memberOf":    memberOf,
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("configurator: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// dict makes the map of a template's arguments from its pairs of key and
// value: (dict "Noun" "seat" "Path" "/seats").
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// fielder is a form that has problems per field.
type fielder interface{ Field(name string) []string }

// fieldArgs are the arguments of the "field" template: one labelled text
// input with its help and its problems.
type fieldArgs struct {
	F                        fielder
	Name, Label, Value, Help string
	Max                      int
	Required, Checked        bool
}

// listHead is a list's title, count and toolbar.
type listHead struct {
	Title, Path, Placeholder string
	Remove                   string // the remove button's label, "" for "Remove"
	Query                    listQuery
	Shown, Total             int
}

// formState is what a dialog's form carries besides its fields.
type formState struct {
	CSRF    string
	Version int64
	Query   listQuery
}

// menuItem is an entry of the menubar.
type menuItem struct {
	Path, Label string
	Active      bool
}

var menu = []menuItem{
	{Path: "/users", Label: "Manager users"},
	{Path: "/operators", Label: "Operators"},
	{Path: "/seats", Label: "Seats"},
	{Path: "/services", Label: "Services"},
	{Path: "/audit", Label: "Audit"},
	{Path: "/apply", Label: "Apply"},
	{Path: livePath, Label: "Live"},
}

// page is what the layout shows around a page's content.
type page struct {
	Title string
	User  string // "" on the public pages: no menubar
	CSRF  string
	Flash string
	Menu  []menuItem
	Data  any
}

func (h *Handler) renderPage(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("page failed", "page", name, "err", err)
		http.Error(w, "the page could not be shown: see the configurator's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// render shows a page of the logged-in user's, with the menubar; active
// is the menu entry's path.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, title, active string, data any) {
	ss := sessionOf(r)
	items := make([]menuItem, len(menu))
	copy(items, menu)
	for i := range items {
		items[i].Active = items[i].Path == active
	}
	h.renderPage(w, status, name, page{Title: title, User: ss.user, CSRF: ss.csrf, Flash: h.sessions.takeFlash(ss), Menu: items, Data: data})
}

// renderPublic shows a page of the login flow, whose form carries the
// double-submit token.
func (h *Handler) renderPublic(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	h.renderPage(w, status, name, page{Title: title, CSRF: h.formToken(w, r), Data: data})
}

// fail shows an error page (or JSON to a script) with status and msg.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, "{\"error\":%q}\n", msg)
		return
	}
	if ss := sessionOf(r); ss != nil && !isPublic(r.URL.Path) {
		h.render(w, r, status, "error", http.StatusText(status), "", msg)
		return
	}
	h.renderPage(w, status, "error", page{Title: http.StatusText(status), Data: msg})
}

func (h *Handler) routes() {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	h.mux = mux
	assets, _ := fs.Sub(assetFS, "assets")
	files := http.FileServerFS(assets)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /login", h.showLogin)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
	mux.HandleFunc("GET /password-lost", h.showLost)
	mux.HandleFunc("POST /password-lost", h.lost)
	mux.HandleFunc("GET /password-reset", h.showReset)
	mux.HandleFunc("POST /password-reset", h.reset)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/seats", http.StatusSeeOther)
	})
	seatModule.routes(h, mux)
	operatorModule.routes(h, mux)
	serviceModule.routes(h, mux)
	managerModule(h).routes(h, mux)
	h.auditRoutes(mux)
	h.applyRoutes(mux)
	h.liveRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	h.handler = h.securityHeaders(http.NewCrossOriginProtection().Handler(h.gate(mux)))
}

// routeMux is the configurator's ServeMux, which keeps the pattern of
// every route, so that a test can ask each one for a login: a route added
// later cannot be left out of it.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, handler http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, handler)
}

func (m *routeMux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(handler))
}
