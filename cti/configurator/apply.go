package configurator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// The Apply module: the working database checked as a whole, what applying
// it does to the live server (config.Diff against the snapshot in force in
// the apply directory), the apply itself, the snapshots' history with a
// rollback, what the server did with the newest one (--server-admin), and
// the XML import and export.

const (
	applyPath    = "/apply"
	importPath   = "/apply/import"
	rollbackPath = "/apply/rollback"
)

func (h *Handler) applyRoutes(mux *routeMux) {
	mux.HandleFunc("GET "+applyPath, func(w http.ResponseWriter, r *http.Request) { h.showApply(w, r, http.StatusOK, nil) })
	mux.HandleFunc("POST "+applyPath, h.apply)
	mux.HandleFunc("GET "+rollbackPath, func(w http.ResponseWriter, r *http.Request) {
		h.showApply(w, r, http.StatusOK, func(p *applyPage) { p.ConfirmRollback = true })
	})
	mux.HandleFunc("POST "+rollbackPath, h.rollback)
	mux.HandleFunc("GET /apply/export", h.export)
	mux.HandleFunc("POST "+importPath, h.importXML)
}

// applyPage is the Apply module's page.
type applyPage struct {
	// Problems are the working database's: while there are any, there is
	// nothing to confirm.
	Problems []problemText
	// Changes is what the server will do; Same says the working
	// configuration is the one in force; First that no snapshot is in
	// force (the server starts with this one: Summary).
	Changes []changeText
	Same    bool
	First   bool
	Summary string
	InForce *config.SnapshotFile
	// Snapshots is the apply directory's history, newest first.
	Snapshots []config.SnapshotFile
	Previous  *config.SnapshotFile
	Server    serverState
	// ConfirmRollback opens the rollback's confirmation.
	ConfirmRollback bool
	// ImportProblems are those of a refused import, with their lines.
	ImportProblems []problemText
	ImportFile     string
	// Seen is the fingerprint of the working configuration the page shows
	// (fingerprint): the Confirm form carries it back, and an apply of a
	// configuration changed since is refused, so that what is written is
	// what the user saw.
	Seen string
	// Changed says the apply was refused for that.
	Changed bool
}

// problemText is a problem as the page lists it: Link opens its row, ""
// for none.
type problemText struct {
	Line int
	Msg  string
	Link string
}

// changeText is one thing the server will do, in words; Kind is the
// change's kind for the eye ("add", "remove", "end", "seat", "service").
type changeText struct {
	Kind string
	Text string
}

// showApply shows the Apply page; edit, when set, adds to it.
func (h *Handler) showApply(w http.ResponseWriter, r *http.Request, status int, edit func(*applyPage)) {
	p, err := h.applyData(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	if edit != nil {
		edit(&p)
	}
	h.render(w, r, status, "apply", "Apply", applyPath, p)
}

// applyData reads the working database, the apply directory and the
// server.
func (h *Handler) applyData(ctx context.Context) (applyPage, error) {
	var p applyPage
	model, err := h.cfg.Store.Model(ctx)
	if err != nil {
		return p, err
	}
	files, err := h.cfg.Store.Snapshots(ctx, h.cfg.ApplyDir)
	if err != nil {
		return p, err
	}
	p.Snapshots = files
	p.Server = h.serverState(ctx, files)
	p.Server.overrule(files)
	for i := range files {
		switch {
		case files[i].InForce:
			p.InForce = &files[i]
		case files[i].Previous:
			p.Previous = &files[i]
		}
	}
	p.Summary, p.Seen = model.Summary(), fingerprint(model)
	if err := model.Validate(); err != nil {
		var ve *config.ValidationError
		if !errors.As(err, &ve) {
			return p, err
		}
		p.Problems = problemTexts(ve.Problems, true)
		return p, nil
	}
	if p.InForce == nil {
		p.First = true
		return p, nil
	}
	old, err := config.LoadFile(ctx, p.InForce.Path)
	if err != nil {
		return p, fmt.Errorf("configurator: the snapshot in force: %w", err)
	}
	next, err := config.NewSnapshot(model)
	if err != nil {
		return p, fmt.Errorf("configurator: the working configuration: %w", err)
	}
	p.Changes = append(changeTexts(old, config.Diff(old, next)), newcomerTexts(old, next)...)
	if len(p.Changes) == 0 {
		p.Same = sameXML(old.Model(), model)
	}
	return p, nil
}

// sameXML reports whether a and b are the same configuration.
func sameXML(a, b *config.Model) bool { return fingerprint(a) == fingerprint(b) }

// fingerprint names a configuration's content: the hash of its XML, which
// has neither row IDs nor versions.
func fingerprint(m *config.Model) string {
	sum := sha256.New()
	if err := config.WriteXML(sum, m); err != nil {
		return ""
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// problemTexts lists problems; link, for those of the working database,
// links each to its row's module.
func problemTexts(ps []config.Problem, link bool) []problemText {
	out := make([]problemText, 0, len(ps))
	for _, p := range ps {
		t := problemText{Line: p.Line, Msg: p.Msg}
		if link {
			t.Link = problemLink(p)
		}
		out = append(out, t)
	}
	return out
}

// problemLink is the page where the problem's row is edited.
func problemLink(p config.Problem) string {
	switch p.Kind {
	case config.KindSeat, config.KindOperator:
		path := seatModule.path
		if p.Kind == config.KindOperator {
			path = operatorModule.path
		}
		if p.ID > 0 {
			return path + "/" + strconv.FormatInt(p.ID, 10) + "/edit"
		}
		return path
	case config.KindService, config.KindVariable, config.KindMember:
		return "/services"
	}
	return ""
}

// changeTexts says what the server does for each change, in an
// administrator's words. A QueueRemove and a QueueAdd of the same
// operator and queue are a penalty change (Diff's way of making one), said
// once with the penalty before and after from old.
func changeTexts(old *config.Snapshot, changes []config.Change) []changeText {
	type member struct{ op, queue string }
	added := map[member]bool{}
	for _, c := range changes {
		if a, ok := c.(config.QueueAdd); ok {
			added[member{a.Operator, a.Queue}] = true
		}
	}
	removed := map[member]bool{}
	for _, c := range changes {
		if rm, ok := c.(config.QueueRemove); ok {
			removed[member{rm.Operator, rm.Queue}] = true
		}
	}
	oldPenalty := func(op, queue string) int {
		for _, q := range old.Queues(op) {
			if q.Queue == queue {
				return q.Penalty
			}
		}
		return 0
	}
	var out []changeText
	for _, c := range changes {
		var t changeText
		switch c := c.(type) {
		case config.ServiceEnabled:
			what := "enabled"
			if c.Added {
				what = "added"
			}
			t = changeText{"service", fmt.Sprintf("Service “%s” %s: its calls are notified from now on.", c.Service, what)}
		case config.ServiceDisabled:
			what := "disabled"
			if c.Removed {
				what = "removed"
			}
			t = changeText{"service", fmt.Sprintf("Service “%s” %s: its calls are no longer notified.", c.Service, what)}
		case config.QueueRemove:
			if added[member{c.Operator, c.Queue}] {
				continue // said with its QueueAdd
			}
			t = changeText{"remove", fmt.Sprintf("QueueRemove: operator “%s”, if logged in, leaves queue %s (service “%s”).", c.Operator, c.Queue, c.Service)}
		case config.QueueAdd:
			if removed[member{c.Operator, c.Queue}] {
				t = changeText{"add", fmt.Sprintf("Penalty change: operator “%s”, if logged in, in queue %s (service “%s”): penalty %d → %d (QueueRemove, then QueueAdd with penalty %d).",
					c.Operator, c.Queue, c.Service, oldPenalty(c.Operator, c.Queue), c.Penalty, c.Penalty)}
				break
			}
			t = changeText{"add", fmt.Sprintf("QueueAdd: operator “%s”, if logged in, joins queue %s with penalty %d (service “%s”).", c.Operator, c.Queue, c.Penalty, c.Service)}
		case config.EndSession:
			t = changeText{"end", fmt.Sprintf("Operator “%s” is logged out, if logged in: %s.", c.Operator, c.Reason)}
		case config.SeatRemoved:
			t = changeText{"seat", fmt.Sprintf("Seat %s (%s) removed: the session on it, if any, ends.", c.MAC, c.Interface)}
		case config.SeatChanged:
			t = changeText{"seat", fmt.Sprintf("Seat %s: its phone changes from %s to %s; the session on it, if any, moves its queue memberships to the new phone.", c.MAC, c.OldInterface, c.NewInterface)}
		default:
			t = changeText{"other", c.String()}
		}
		out = append(out, t)
	}
	return out
}

// newcomerTexts says what the seats and operators added (or enabled) since
// old make possible. Diff has no change for them, since nobody can be
// logged in on them yet, but an administrator adding a new operator wants
// to see that they can log in, and which queues their seat joins then.
func newcomerTexts(old, next *config.Snapshot) []changeText {
	var out []changeText
	m := next.Model()
	for _, st := range m.Seats {
		if old.SeatByMAC(st.MAC) == nil {
			out = append(out, changeText{"seat", fmt.Sprintf("Seat %s (%s) added: an operator can log in on it.", st.MAC, st.Interface)})
		}
	}
	for _, op := range m.Operators {
		if was := old.Operator(op.Username); !op.Enabled || (was != nil && was.Enabled) {
			continue
		}
		what := "added"
		if old.Operator(op.Username) != nil {
			what = "enabled"
		}
		var queues []string
		for _, q := range next.Queues(op.Username) {
			queues = append(queues, fmt.Sprintf("%s with penalty %d (service “%s”)", q.Queue, q.Penalty, q.Service))
		}
		text := fmt.Sprintf("Operator “%s” %s: can log in from now on", op.Username, what)
		if len(queues) > 0 {
			text += "; at login, QueueAdd to " + strings.Join(queues, ", ")
		}
		out = append(out, changeText{"add", text + "."})
	}
	return out
}

// errChangedSinceSeen refuses an apply of a configuration that is not the
// one the Apply page showed.
var errChangedSinceSeen = errors.New("configurator: the working configuration changed since the Apply page showed it")

// apply writes the working database as a new snapshot into the apply
// directory, as the session's user.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	// The fingerprint is checked on the snapshot as written, so that a
	// save between the page and the confirmation is never applied unseen.
	seen := r.PostForm.Get("seen")
	path, err := h.store(r).ApplyIf(r.Context(), h.cfg.ApplyDir, func(m *config.Model) error {
		if fp := fingerprint(m); fp == "" || fp != seen {
			return errChangedSinceSeen
		}
		return nil
	})
	if errors.Is(err, errChangedSinceSeen) {
		h.showApply(w, r, http.StatusConflict, func(p *applyPage) { p.Changed = true })
		return
	}
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			h.showApply(w, r, http.StatusUnprocessableEntity, nil)
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.log.Info("configuration applied", "user", sessionOf(r).user, "file", path)
	h.sessions.setFlash(sessionOf(r), "Snapshot "+filepath.Base(path)+" written into the server's configuration directory.")
	http.Redirect(w, r, applyPath, http.StatusSeeOther)
}

// rollback applies again the snapshot before the one in force.
func (h *Handler) rollback(w http.ResponseWriter, r *http.Request) {
	path, err := h.store(r).Rollback(r.Context(), h.cfg.ApplyDir)
	switch {
	case errors.Is(err, config.ErrNoPrevious):
		h.sessions.setFlash(sessionOf(r), "There is no valid snapshot before the one in force: nothing to roll back to.")
		h.showApply(w, r, http.StatusConflict, nil)
		return
	case err != nil && path == "":
		h.storeFailed(w, r, err)
		return
	case err != nil:
		// The snapshot is written but the working database keeps its
		// content: say so rather than hide it.
		h.log.Error("rollback incomplete", "user", sessionOf(r).user, "file", path, "err", err)
		h.sessions.setFlash(sessionOf(r), "Rolled back as "+filepath.Base(path)+", but the working database could not be replaced: see the configurator's log.")
	default:
		h.log.Info("configuration rolled back", "user", sessionOf(r).user, "file", path)
		h.sessions.setFlash(sessionOf(r), "Rolled back: the previous configuration is written again as snapshot "+filepath.Base(path)+", and is the working configuration.")
	}
	http.Redirect(w, r, applyPath, http.StatusSeeOther)
}

// export downloads the working configuration in the XML format.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	model, err := h.cfg.Store.Model(r.Context())
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := config.WriteXML(&buf, model); err != nil {
		h.storeFailed(w, r, err)
		return
	}
	name := "astcti-config-" + time.Now().UTC().Format("20060102T150405Z") + ".xml"
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(buf.Bytes())
}

// importXML replaces the working database with an uploaded XML file, once
// it is valid; a refused file changes nothing and its problems are shown
// with their lines.
func (h *Handler) importXML(w http.ResponseWriter, r *http.Request) {
	refused := func(name string, ps []problemText) {
		h.showApply(w, r, http.StatusUnprocessableEntity, func(p *applyPage) { p.ImportFile, p.ImportProblems = name, ps })
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		refused("", []problemText{{Msg: "Choose the XML file to import."}})
		return
	}
	defer f.Close()
	model, err := config.ParseXML(f)
	if err == nil {
		err = h.store(r).Replace(r.Context(), model)
	}
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			refused(fh.Filename, problemTexts(ve.Problems, false))
			return
		}
		if model == nil { // not XML the parser could read: the file's fault
			refused(fh.Filename, []problemText{{Msg: err.Error()}})
			return
		}
		h.storeFailed(w, r, err)
		return
	}
	h.log.Info("configuration imported", "user", sessionOf(r).user, "file", fh.Filename, "summary", model.Summary())
	h.sessions.setFlash(sessionOf(r), "Imported "+fh.Filename+": the working configuration is now "+model.Summary()+". Apply it to put it in force.")
	http.Redirect(w, r, applyPath, http.StatusSeeOther)
}

// serverState is what the server did with the newest snapshot, as its
// admin endpoint tells (--server-admin).
type serverState struct {
	// Known is false without --server-admin; Err says why the server
	// could not be read.
	Known bool
	Err   string
	// File is the snapshot the server has in force (its base name), ""
	// for none; Since when it put it in force.
	File  string
	Since time.Time
	// Newest is the apply directory's newest snapshot; InForce is true
	// when the server has it in force, Refused says why it is not, and
	// Pending that the server has not loaded it yet. Refused is the
	// server's own word (/healthz's config.refused), or, from an older
	// server that does not say, the file's problem as the configurator's
	// check finds it: RefusedLocal.
	Newest       string
	InForce      bool
	Refused      string
	RefusedAt    time.Time
	RefusedLocal bool
	Pending      bool
}

// overrule makes the snapshots' states the server's, when it said them:
// the file it has in force is the one in force (what applying is compared
// with), whatever the configurator's own reading of the directory says,
// and the newest file it refused is refused with its reason. They differ
// when the server is another version of astcti than the configurator. A
// server that runs a file outside the list (another directory) changes
// nothing.
func (st serverState) overrule(files []config.SnapshotFile) {
	if !st.Known || st.Err != "" || !slices.ContainsFunc(files, func(f config.SnapshotFile) bool { return f.Name == st.File }) {
		return
	}
	for i := range files {
		files[i].InForce = files[i].Name == st.File
		if files[i].InForce {
			files[i].Err = nil
		}
		if files[i].Name == st.Newest && st.Refused != "" && !st.RefusedLocal {
			files[i].Err, files[i].Checked = errors.New(st.Refused), true
		}
	}
}

// serverHealth is the part of the server's GET /healthz answer
// (cti/status.go, health) that says which snapshot is in force, and
// which was refused.
type serverHealth struct {
	Config struct {
		InForce bool      `json:"in_force"`
		File    string    `json:"file"`
		Since   time.Time `json:"since"`
		// Refused is null when the server refused no snapshot, absent
		// from a server older than the key.
		Refused json.RawMessage `json:"refused"`
	} `json:"config"`
}

// serverRefusal is /healthz's config.refused.
type serverRefusal struct {
	File  string    `json:"file"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// refusal returns the server's refused snapshot, nil for none; says is
// false when the server does not say (an older server).
func (sh serverHealth) refusal() (r *serverRefusal, says bool, err error) {
	raw := sh.Config.Refused
	if len(raw) == 0 {
		return nil, false, nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, false, fmt.Errorf("answer's config.refused: %w", err)
	}
	return r, true, nil
}

// serverState reads the server's admin endpoint, within ServerTimeout
// and maxServerBody, and compares its snapshot in force with the newest of
// files.
func (h *Handler) serverState(ctx context.Context, files []config.SnapshotFile) serverState {
	var st serverState
	if h.cfg.ServerAdmin == "" {
		return st
	}
	st.Known = true
	if len(files) > 0 {
		st.Newest = files[0].Name
	}
	ctx, cancel := context.WithTimeout(ctx, ServerTimeout)
	defer cancel()
	health, err := readServerHealth(ctx, strings.TrimSuffix(h.cfg.ServerAdmin, "/")+"/healthz")
	var refused *serverRefusal
	says := false
	if err == nil {
		refused, says, err = health.refusal()
	}
	if err != nil {
		h.log.Info("the server's admin endpoint could not be read", "url", h.cfg.ServerAdmin, "err", err)
		st.Err = err.Error()
		return st
	}
	if health.Config.InForce {
		st.File, st.Since = filepath.Base(health.Config.File), health.Config.Since
	}
	switch {
	case st.Newest == "":
	case st.File == st.Newest:
		st.InForce = true
	case refused != nil && filepath.Base(refused.File) == st.Newest:
		st.Refused, st.RefusedAt = refused.Error, refused.At
	case says:
		// The server refused no file, or an older one: it has not read the
		// newest yet.
		st.Pending = true
	case files[0].Err != nil:
		st.Refused, st.RefusedLocal = files[0].Err.Error(), true
	default:
		st.Pending = true
	}
	return st
}

// readServerHealth GETs url and decodes its health answer (200, or 503
// when the server is not healthy: the body says why).
func readServerHealth(ctx context.Context, url string) (serverHealth, error) {
	var out serverHealth
	err := readServerJSON(ctx, url, "health", maxServerBody, &out)
	return out, err
}

// readServerJSON GETs url, an admin endpoint of the server, and decodes
// its JSON answer of limit bytes at most into out; what names it in
// errors. A 503 is an answer (the server is not healthy: /healthz's body
// says why) unless its body is the error of a hub that did not answer.
func readServerJSON(ctx context.Context, url, what string, limit int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("answer larger than %d bytes", limit)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return fmt.Errorf("answer %s", resp.Status)
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("answer %s: %s", resp.Status, e.Error)
		}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("answer not the server's %s JSON: %w", what, err)
	}
	return nil
}
