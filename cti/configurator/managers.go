package configurator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// The manager users module: the configurator's own logins (config.Users,
// their own database). It is the rows module over that database: a user
// is added with a password typed twice, edited (full name, a new password
// set by the administrator), and disabled or enabled, never removed: the
// audit log names them. Every change is made as the logged-in user (the
// users' database records who changed a row last, for a stale edit's
// message) and written to the working database's audit log, entity
// config.KindManager. A new password or a disabled user ends that user's
// sessions at once; in another process (`astcti user`), at their next
// request (accountActive).

// managerRow is a manager user as its list and dialogs show it, with the
// passwords a form typed (never shown back).
type managerRow struct {
	config.User
	Password, Password2 string
}

var managerColumns = []string{"userid", "fullname", "created", "enabled"}

// managerFields are the form's fields that problems land on.
var managerFields = []string{"userid", "fullname", "password", "password2"}

// managerModule is the module of h's manager users' database.
func managerModule(h *Handler) *rowModule[managerRow] {
	users := h.cfg.Users
	return &rowModule[managerRow]{
		kind: config.KindManager, noun: "manager user", path: "/users", title: "Manager users", page: "users",
		columns: managerColumns, fields: managerFields,
		load: func(ctx context.Context) ([]managerRow, error) {
			list, err := users.List(ctx)
			rows := make([]managerRow, len(list))
			for i := range list {
				rows[i].User = list[i]
			}
			return rows, err
		},
		ref:  func(u *managerRow) (int64, int64, string) { return u.ID, u.Version, u.UserID },
		text: func(u *managerRow) []string { return []string{u.UserID, u.FullName} },
		sortKey: func(u *managerRow, col string) string {
			switch col {
			case "fullname":
				return strings.ToLower(u.FullName)
			case "created":
				return u.Created.UTC().Format(time.RFC3339)
			case "enabled":
				if u.Enabled {
					return "0"
				}
				return "1"
			}
			return strings.ToLower(u.UserID)
		},
		newRow:   func() managerRow { return managerRow{User: config.User{Enabled: true}} },
		fromForm: managerFromForm,
		describe: func(u *managerRow) string {
			state := "enabled"
			if !u.Enabled {
				state = "disabled"
			}
			return "user id " + u.UserID + ", full name \"" + u.FullName + "\", " + state
		},
		save: func(ctx context.Context, st *config.Store, u *managerRow) error {
			return saveManager(ctx, h, st, u)
		},
		remove: func(ctx context.Context, st *config.Store, id, version int64) error {
			return toggleManager(ctx, h, st, id, version)
		},
		removal: func(u *managerRow) (string, config.Action) {
			if u.Enabled {
				return "disabled", config.ActionEdit
			}
			return "enabled", config.ActionEdit
		},
	}
}

// managerFromForm reads the dialog's fields. The user id is typed only
// when adding: it is who the audit log names, and never changes.
func managerFromForm(r *http.Request, old *managerRow) managerRow {
	f := r.PostForm
	var u managerRow
	if old != nil {
		u.User = old.User
		u.Version = formVersion(r)
	} else {
		u.UserID = strings.TrimSpace(f.Get("userid"))
		u.Enabled = true
	}
	u.FullName = strings.TrimSpace(f.Get("fullname"))
	u.Password, u.Password2 = f.Get("password"), f.Get("password2")
	return u
}

// fieldProblem is a refusal of one field of the form.
func fieldProblem(field, msg string) error {
	return &config.ValidationError{Problems: []config.Problem{{Kind: config.KindManager, Field: field, Msg: msg}}}
}

// audited records a change made to a manager user in the audit log. The
// change is made: a failure to record it is said as such.
func audited(ctx context.Context, st *config.Store, a config.Action, before, after *config.User, password bool) error {
	if err := st.RecordManager(ctx, a, before, after, password); err != nil {
		return fmt.Errorf("manager user %s was changed, but the audit log could not record it: %w", after.UserID, err)
	}
	return nil
}

// saveManager adds (ID 0) or edits u as the store's user, audits it, and
// ends the sessions of a user whose password it set.
func saveManager(ctx context.Context, h *Handler, st *config.Store, u *managerRow) error {
	switch {
	case u.ID == 0 && u.Password == "":
		return fieldProblem("password", "Type a password: at least "+fmt.Sprint(config.MinManagerPassword)+" characters.")
	case u.Password != u.Password2:
		return fieldProblem("password2", "The two passwords differ: type the same one twice.")
	}
	users := h.cfg.Users.As(st.User())
	if u.ID == 0 {
		usr, err := users.Create(ctx, u.UserID, u.FullName, u.Password)
		var ce *config.ConstraintError
		if errors.As(err, &ce) && ce.Constraint == "users.userid" {
			return fieldProblem("userid", "The user id "+u.UserID+" is taken: choose another one.")
		}
		if err != nil {
			return err
		}
		u.User = usr
		return audited(ctx, st, config.ActionAdd, nil, &usr, true)
	}
	before, err := users.Get(ctx, u.UserID)
	if err != nil {
		return err
	}
	if err := users.Save(ctx, &u.User, u.Password); err != nil {
		return err
	}
	if u.Password != "" {
		h.sessions.endUser(u.UserID)
		h.log.Info("manager user's sessions ended: password changed", "user", u.UserID, "by", st.User())
	}
	return audited(ctx, st, config.ActionEdit, &before, &u.User, u.Password != "")
}

// toggleManager disables the enabled manager user of id, or enables the
// disabled one, at version. A user cannot disable themselves: nobody
// might be left to enable them.
func toggleManager(ctx context.Context, h *Handler, st *config.Store, id, version int64) error {
	list, err := h.cfg.Users.List(ctx)
	if err != nil {
		return err
	}
	var before *config.User
	for i := range list {
		if list[i].ID == id {
			before = &list[i]
		}
	}
	if before == nil {
		return fmt.Errorf("manager user %d: %w", id, config.ErrNotFound)
	}
	if before.Enabled && before.UserID == st.User() {
		return fieldProblem("", "You cannot disable yourself: another manager user must do it (or `astcti user disable` on the configurator's host).")
	}
	after := *before
	after.Enabled, after.Version = !before.Enabled, version
	if err := h.cfg.Users.As(st.User()).Save(ctx, &after, ""); err != nil {
		return err
	}
	if !after.Enabled {
		h.sessions.endUser(after.UserID)
		h.log.Info("manager user's sessions ended: disabled", "user", after.UserID, "by", st.User())
	}
	return audited(ctx, st, config.ActionEdit, before, &after, false)
}
