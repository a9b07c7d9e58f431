package configurator

import (
	"context"
	"net/http"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// The operators module: the people who log in at a seat with the seat
// client. Their password is never shown: a new one is typed to change it,
// and the store keeps only its hash.

var operatorColumns = []string{"username", "fullname", "seat", "enabled"}

// operatorFields are the form's fields that problems land on:
// "password-hash" is the password field's.
var operatorFields = []string{"username", "fullname", "password-hash", "seat", "enabled", "begin-paused"}

var operatorModule = &rowModule[config.Operator]{
	kind: config.KindOperator, noun: "operator", path: "/operators", title: "Operators", page: "operators",
	columns: operatorColumns, fields: operatorFields,
	rows: func(m *config.Model) []config.Operator { return m.Operators },
	ref:  func(o *config.Operator) (int64, int64, string) { return o.ID, o.Version, o.Username },
	text: func(o *config.Operator) []string { return []string{o.Username, o.FullName, o.Seat} },
	sortKey: func(o *config.Operator, col string) string {
		switch col {
		case "fullname":
			return strings.ToLower(o.FullName)
		case "seat":
			return o.Seat
		case "enabled":
			if o.Enabled {
				return "0"
			}
			return "1"
		}
		return strings.ToLower(o.Username)
	},
	newRow:   func() config.Operator { return config.Operator{Enabled: true} },
	fromForm: operatorFromForm,
	describe: func(o *config.Operator) string {
		seat, state := "no fixed seat", "enabled"
		if o.Seat != "" {
			seat = "fixed seat " + o.Seat
		}
		if !o.Enabled {
			state = "disabled"
		}
		return "username " + o.Username + ", full name \"" + o.FullName + "\", " + seat + ", " + state
	},
	save: func(ctx context.Context, st *config.Store, o *config.Operator) error { return st.SaveOperator(ctx, o) },
	remove: func(ctx context.Context, st *config.Store, id, version int64) error {
		return st.DeleteOperator(ctx, id, version)
	},
	extra: func(m *config.Model) any { return m.Seats },
}

// operatorFromForm reads the dialog's fields. An empty password keeps the
// stored one (an edit); a new one is hashed at once, and only its hash is
// kept.
func operatorFromForm(r *http.Request, old *config.Operator) config.Operator {
	var o config.Operator
	if old != nil {
		o = *old
		o.Version = formVersion(r)
	}
	f := r.PostForm
	o.Username = strings.TrimSpace(f.Get("username"))
	o.FullName = strings.TrimSpace(f.Get("fullname"))
	o.Seat = strings.TrimSpace(f.Get("seat"))
	if mac, err := config.NormalizeMAC(o.Seat); err == nil && o.Seat != "" {
		o.Seat = mac
	}
	o.Enabled = f.Get("enabled") != ""
	o.BeginPaused = f.Get("begin-paused") != ""
	if pw := f.Get("password"); pw != "" {
		// SetPassword fails only for an MD5 that is not one: never for
		// MD5Hex's.
		if err := o.SetPassword(pw); err != nil {
			o.PasswordHash = ""
		}
	}
	return o
}
