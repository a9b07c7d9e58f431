package configurator

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// What every editing module shares: the store as the session's user, the
// version a form carries, problems put next to their fields, and the
// messages of a stale save or remove.

// store returns the working database as the session's manager user: every
// change made through it is in the audit log with that userid.
func (h *Handler) store(r *http.Request) *config.Store {
	return h.cfg.Store.As(sessionOf(r).user)
}

// formVersion is the row version a form carries (its hidden "version"),
// 0 when it is missing or not a number: the store refuses that as stale
// for an existing row.
func formVersion(r *http.Request) int64 {
	v, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// problemMap groups the problems of a refused save by the form field they
// are about (Problem.FieldKey), for a problem of the row of kind; those of
// another row, or of a field the form does not have, go to "", shown at
// the top of the form, so that none is lost.
func problemMap(kind config.Kind, fields []string, problems []config.Problem) map[string][]string {
	out := map[string][]string{}
	for _, p := range problems {
		f := p.FieldKey()
		// A service's form holds its variables and members too.
		mine := p.Kind == kind || kind == config.KindService && (p.Kind == config.KindVariable || p.Kind == config.KindMember)
		if !mine || !slices.ContainsFunc(fields, func(pattern string) bool { return fieldMatches(pattern, f) }) {
			f = ""
		}
		out[f] = append(out[f], p.Msg)
	}
	return out
}

// fieldMatches says whether field f is pattern, where a "*" segment of
// pattern stands for a row's index ("member.*.penalty" is
// "member.2.penalty").
func fieldMatches(pattern, f string) bool {
	ps, fs := strings.Split(pattern, "."), strings.Split(f, ".")
	if len(ps) != len(fs) {
		return false
	}
	for i := range ps {
		if ps[i] != fs[i] && (ps[i] != "*" || strings.TrimLeft(fs[i], "0123456789") != "" || fs[i] == "") {
			return false
		}
	}
	return true
}

// validationProblems returns the problems of a save the store refused for
// its content, nil for another error.
func validationProblems(kind config.Kind, fields []string, err error) map[string][]string {
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	return problemMap(kind, fields, ve.Problems)
}

// timeLayout is how the configurator shows a time, in its host's zone.
const timeLayout = "2006-01-02 15:04:05 MST"

// staleBy says who changed a row and when, from the store's refusal:
// "bob changed this seat at 2026-12-04 20:03:04 UTC".
func staleBy(what string, err error) string {
	var se *config.StaleError
	if !errors.As(err, &se) {
		return "Someone else changed this " + what
	}
	by := se.By
	if by == "" {
		by = "A program (astcti config import or a script)"
	}
	msg := by + " changed this " + what
	if !se.At.IsZero() {
		msg += " at " + se.At.Local().Format(timeLayout)
	}
	return msg
}

// goneMessage says that the row of the path's {id} no longer exists and,
// from the audit log, who removed it and when.
func (h *Handler) goneMessage(r *http.Request, kind config.Kind, what string) string {
	msg := "That " + what + " no longer exists: someone removed it."
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return msg
	}
	last, err := h.cfg.Store.Audit(r.Context(), config.AuditFilter{Entity: kind, EntityID: id, Limit: 1})
	if err != nil || len(last) == 0 || last[0].Action != config.ActionRemove {
		return msg
	}
	by := last[0].User
	if by == "" {
		by = "a program"
	}
	return "That " + what + " (" + last[0].Key + ") no longer exists: " + by + " removed it at " + last[0].At.Local().Format(timeLayout) + "."
}

// dependentTexts is what removing a row does to the rows that depend on
// it, for its confirmation.
func dependentTexts(deps []config.Dependent) []string {
	out := make([]string, 0, len(deps))
	for _, d := range deps {
		out = append(out, d.What)
	}
	return out
}

// changed logs a change the store made and audited, for the
// configurator's own log (the audit log holds the rows before and after).
func (h *Handler) changed(r *http.Request, kind config.Kind, action config.Action, key string, version int64) {
	h.log.Info("configuration changed", "user", sessionOf(r).user, "kind", kind, "action", action,
		"key", key, "version", version)
}
