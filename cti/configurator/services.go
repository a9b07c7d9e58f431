package configurator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// The services module: a service's own fields, and in the same dialog its
// variables and its operators with their penalties (the service's detail,
// as the seed has it), all saved at once with the service's version, so
// that a stale dialog cannot overwrite a newer list of members either.

var serviceColumns = []string{"name", "context", "queue", "trigger", "enabled"}

// serviceFields are the form's fields that problems land on; a "*" is the
// index of a variable's or a member's row (Problem.FieldKey).
var serviceFields = []string{"name", "type", "context", "is-queue", "queue", "trigger", "application", "parameters",
	"enabled", "variable.*.name", "member.*.operator", "member.*.penalty"}

// maxServiceRows bounds the variable and member rows one form may post.
const maxServiceRows = 500

// blankServiceRows is how many empty variable and member rows the dialog
// offers for adding, without script.
const blankServiceRows = 2

// serviceRow is a service as its dialog edits it: the penalties as typed,
// so that a refused "5a" is shown back as typed, next to its problem.
type serviceRow struct {
	config.Service
	// Penalties[j] is the penalty of Members[j] as typed, "" when the row
	// came from the store.
	Penalties []string
	// bad are the problems found reading the form (a penalty that is not
	// a number), by member index.
	bad map[int]config.Problem
}

// unparsed is the penalty of a member whose typed penalty ParsePenalty
// refused: out of range, so that the store's validation refuses the save
// too, with every other problem of the form, and the save never happens.
const unparsed = -1

// parseProblems puts the problems found reading the form in place of the
// store's about the same penalties (which are about the unparsed
// sentinel, not what was typed).
func (s serviceRow) parseProblems(err error) error {
	var ve *config.ValidationError
	if len(s.bad) == 0 || !errors.As(err, &ve) {
		return err
	}
	out := &config.ValidationError{}
	for _, p := range ve.Problems {
		if _, ok := s.bad[p.Sub]; !ok || p.Kind != config.KindMember || p.Field != "penalty" {
			out.Problems = append(out.Problems, p)
		}
	}
	for j := range s.Members {
		if p, ok := s.bad[j]; ok {
			out.Problems = append(out.Problems, p)
		}
	}
	return out
}

// Penalty returns member j's penalty as the form shows it.
func (s serviceRow) Penalty(j int) string {
	if j < len(s.Penalties) && s.Penalties[j] != "" {
		return s.Penalties[j]
	}
	return strconv.Itoa(s.Members[j].Penalty)
}

// BlankVariables and BlankMembers are the indexes of the empty rows after
// the service's own.
func (s serviceRow) BlankVariables() []int { return blankRows(len(s.Variables)) }
func (s serviceRow) BlankMembers() []int   { return blankRows(len(s.Members)) }

func blankRows(from int) []int {
	out := make([]int, blankServiceRows)
	for i := range out {
		out[i] = from + i
	}
	return out
}

var serviceModule = &rowModule[serviceRow]{
	kind: config.KindService, noun: "service", path: "/services", title: "Services", page: "services",
	columns: serviceColumns, fields: serviceFields,
	rows: func(m *config.Model) []serviceRow {
		out := make([]serviceRow, len(m.Services))
		for i := range m.Services {
			out[i].Service = m.Services[i]
		}
		return out
	},
	ref: func(s *serviceRow) (int64, int64, string) { return s.ID, s.Version, s.Name },
	text: func(s *serviceRow) []string {
		out := []string{s.Name, s.Context, s.Queue, s.Application, s.Parameters}
		out = append(out, s.Variables...)
		for _, mb := range s.Members {
			out = append(out, mb.Operator)
		}
		return out
	},
	sortKey: func(s *serviceRow, col string) string {
		switch col {
		case "context":
			return strings.ToLower(s.Context)
		case "queue":
			return strings.ToLower(s.Queue)
		case "trigger":
			return string(s.Trigger)
		case "enabled":
			if s.Enabled {
				return "0"
			}
			return "1"
		}
		return strings.ToLower(s.Name)
	},
	newRow: func() serviceRow {
		return serviceRow{Service: config.Service{Type: config.Inbound, Trigger: config.TriggerNone, Enabled: true}}
	},
	fromForm: serviceFromForm,
	describe: describeService,
	save: func(ctx context.Context, st *config.Store, s *serviceRow) error {
		return s.parseProblems(st.SaveService(ctx, &s.Service))
	},
	remove: func(ctx context.Context, st *config.Store, id, version int64) error {
		return st.DeleteService(ctx, id, version)
	},
	extra: func(m *config.Model) any { return m.Operators },
}

func describeService(s *serviceRow) string {
	queue := "no queue"
	if s.IsQueue {
		queue = "queue " + s.Queue
	}
	d := fmt.Sprintf("name %s, %s, context %s, %s, trigger %s", s.Name, s.Type, s.Context, queue, s.Trigger)
	if s.Application != "" {
		d += " \"" + s.Application + "\""
	}
	if s.Parameters != "" {
		d += " with parameters \"" + s.Parameters + "\""
	}
	if !s.Enabled {
		d += ", disabled"
	}
	d += ", variables [" + strings.Join(s.Variables, " ") + "], operators ["
	for j, mb := range s.Members {
		if j > 0 {
			d += " "
		}
		d += fmt.Sprintf("%s (penalty %d)", mb.Operator, mb.Penalty)
	}
	return d + "]"
}

// serviceFromForm reads the dialog's fields: the service's, then its
// variable rows and member rows, without those left empty or ticked
// "remove". A penalty is parsed by config.ParsePenalty, the one parser of
// the field; one it refuses is kept as typed, with its problem, and the
// member gets the unparsed penalty, which the store refuses.
func serviceFromForm(r *http.Request, old *serviceRow) serviceRow {
	f := r.PostForm
	var s serviceRow
	if old != nil {
		s.ID, s.Version = old.ID, formVersion(r)
	}
	s.Name = strings.TrimSpace(f.Get("name"))
	s.Type = config.ServiceType(f.Get("type"))
	s.Context = strings.TrimSpace(f.Get("context"))
	s.IsQueue = f.Get("is-queue") != ""
	s.Queue = strings.TrimSpace(f.Get("queue"))
	s.Trigger = config.Trigger(f.Get("trigger"))
	s.Application = strings.TrimSpace(f.Get("application"))
	s.Parameters = strings.TrimSpace(f.Get("parameters"))
	s.Enabled = f.Get("enabled") != ""
	s.Variables = []string{}
	s.Members = []config.Member{}
	for j := 0; j < maxServiceRows && f.Has(rowField("variable", j, "name")); j++ {
		name := strings.TrimSpace(f.Get(rowField("variable", j, "name")))
		if name != "" && !removed(f, "variable", j) {
			s.Variables = append(s.Variables, name)
		}
	}
	for j := 0; j < maxServiceRows && f.Has(rowField("member", j, "operator")); j++ {
		op := strings.TrimSpace(f.Get(rowField("member", j, "operator")))
		typed := strings.TrimSpace(f.Get(rowField("member", j, "penalty")))
		if op == "" && typed == "" || removed(f, "member", j) {
			continue
		}
		if typed == "" {
			typed = "0" // the best, as Asterisk's QueueAdd has it
		}
		pen, err := config.ParsePenalty(typed)
		if err != nil {
			if s.bad == nil {
				s.bad = map[int]config.Problem{}
			}
			s.bad[len(s.Members)] = config.Problem{Kind: config.KindMember, Sub: len(s.Members), ID: s.ID,
				Field: "penalty", Msg: fmt.Sprintf("service %s: member %q: %v", s.Name, op, err)}
			pen = unparsed
		}
		s.Members = append(s.Members, config.Member{Operator: op, Penalty: pen})
		s.Penalties = append(s.Penalties, typed)
	}
	return s
}

// rowField is the name of a field of a variable's or member's row:
// "member.2.penalty", as Problem.FieldKey names it.
func rowField(kind string, j int, field string) string {
	return kind + "." + strconv.Itoa(j) + "." + field
}

func removed(f url.Values, kind string, j int) bool { return f.Get(rowField(kind, j, "remove")) != "" }

// serviceRowArgs are the arguments of the "variablerow" and "memberrow"
// templates: a row of the service dialog.
type serviceRowArgs struct {
	F                        fielder
	J                        int
	Value, Operator, Penalty string
	Operators                []config.Operator
	// Unknown is set when Operator is none of Operators (a refused form):
	// the select shows it, so that the problem next to it makes sense.
	Unknown bool
}

func memberOf(f fielder, j int, operator, penalty string, operators any) serviceRowArgs {
	ops, _ := operators.([]config.Operator)
	unknown := operator != "" && !slices.ContainsFunc(ops, func(o config.Operator) bool { return o.Username == operator })
	return serviceRowArgs{F: f, J: j, Operator: operator, Penalty: penalty, Operators: ops, Unknown: unknown}
}
