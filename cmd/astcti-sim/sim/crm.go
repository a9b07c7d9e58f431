package sim

import (
	"context"
	"html/template"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/astcti/astcti/cti/config"
)

// The demo's CRM: the page the demo's screen pops open. The demo
// configuration (config.Demo) pops crm.example and runs a crm-lookup
// program, which a machine trying the demo has not got; in the
// simulation both services open a page of this small web server instead,
// with the call's data in the URL's placeholders, as a real CRM's would
// be: a screen pop of the user's own seat client works with what
// `make demo` builds, on any machine.

// CRM tunables.
var (
	crmReadTimeout = 5 * time.Second
	crmMaxValue    = 200 // runes of a query value shown
)

// withCRM points the browser triggers of m's services at the demo CRM at
// base ("http://127.0.0.1:PORT/"), and turns the application trigger of
// support (crm-lookup) into one: sales opens base/sales with the caller
// and calldata, support base/customer with customer_id and the caller.
func withCRM(m *config.Model, base string) {
	for i := range m.Services {
		sv := &m.Services[i]
		switch sv.Trigger {
		case config.TriggerBrowser:
			sv.Application = base + "sales?caller=${calleridnum}&data=${calldata}"
		case config.TriggerApplication:
			sv.Trigger, sv.Parameters = config.TriggerBrowser, ""
			sv.Application = base + "customer?id=${customer_id}&caller=${calleridnum}&name=${calleridname}"
		}
	}
}

var crmPage = template.Must(template.New("crm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · astcti demo CRM</title></head>
<body>
<h1>{{.Title}}</h1>
<dl>{{range .Fields}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
<p>This page is the screen pop of the astcti demo: astcti-sim serves it as
a stand-in for your CRM. In a real setup the service's URL (or program) is
your CRM's, with the call's data in its placeholders; change it in the
configurator's Services.</p>
</body></html>
`))

type crmField struct{ Name, Value string }

// crmHandler serves the demo CRM's pages: /customer and /sales, with the
// call's data from the query.
func crmHandler() http.Handler {
	mux := http.NewServeMux()
	page := func(title string, fields ...[2]string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			data := struct {
				Title  string
				Fields []crmField
			}{Title: title}
			for _, f := range fields {
				v := q.Get(f[1])
				if utf8.RuneCountInString(v) > crmMaxValue {
					v = string([]rune(v)[:crmMaxValue]) + "…"
				}
				data.Fields = append(data.Fields, crmField{f[0], v})
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			crmPage.Execute(w, data)
		}
	}
	mux.Handle("GET /customer", page("Customer", [2]string{"Customer", "id"}, [2]string{"Caller", "caller"}, [2]string{"Caller's name", "name"}))
	mux.Handle("GET /sales", page("Sales call", [2]string{"Caller", "caller"}, [2]string{"Call data", "data"}))
	return mux
}

// demoCRM is the running demo CRM.
type demoCRM struct {
	URL string // its base, "http://127.0.0.1:PORT/"
	srv *http.Server
	ln  net.Listener
}

// startCRM serves the demo CRM on a free port of 127.0.0.1 until stop.
func startCRM() (*demoCRM, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &demoCRM{
		URL: "http://" + ln.Addr().String() + "/", ln: ln,
		srv: &http.Server{
			Handler: crmHandler(), ReadHeaderTimeout: crmReadTimeout, ReadTimeout: crmReadTimeout,
			WriteTimeout: crmReadTimeout, MaxHeaderBytes: 16 << 10,
		},
	}
	return c, nil
}

// serve serves until stop; run it in a goroutine.
func (c *demoCRM) serve() {
	c.srv.Serve(c.ln) // http.ErrServerClosed once stopped; nothing else can fail but the listener
}

// stop stops serving; serve then returns.
func (c *demoCRM) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.srv.Shutdown(ctx)
}
