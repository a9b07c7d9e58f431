package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astcti/astcti/cti/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver:begin
// crmHandler is a CRM's receiver. It reads the body (bounded), refuses a
// delivery whose signature does not verify or whose timestamp is more
// than 5 minutes away (a replay), answers a retry it already handled
// without handling it twice, and hands the call's data on.
func crmHandler(secret []byte, handle func(webhook.Delivery)) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{} // a real CRM keeps the keys a day, in its database
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Verify the body as read, before decoding it.
		err = webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized) // a 4xx: not retried
			return
		}
		var d webhook.Delivery
		if err := json.Unmarshal(body, &d); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		dup := seen[r.Header.Get(webhook.IdempotencyHeader)]
		seen[r.Header.Get(webhook.IdempotencyHeader)] = true
		mu.Unlock()
		if !dup {
			handle(d) // the caller's name is data: escape it where it is shown
		}
		w.WriteHeader(http.StatusNoContent) // any 2xx ends the delivery
	})
}

// receiver:end

// Example_receiver runs the receiver of docs/webhooks.md against a
// Deliverer, and shows a forged delivery refused.
func Example_receiver() {
	secret := []byte("the endpoint's secret")
	got := make(chan webhook.Delivery, 1)
	crm := httptest.NewServer(crmHandler(secret, func(d webhook.Delivery) { got <- d }))
	defer crm.Close()

	d, err := webhook.New([]webhook.Endpoint{{
		Name: "crm", URL: crm.URL + "/astcti", Secret: secret,
		Events: []webhook.Event{webhook.EventAnswer},
	}}, webhook.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	d.Send("crm", webhook.Delivery{
		Event: webhook.EventAnswer, Linkedid: "1700000000.7",
		Caller:   webhook.Caller{Number: "0612345678", Name: `<script>alert("x")</script>`},
		Operator: &webhook.Operator{Username: "alice"},
		Seat:     webhook.Seat{Name: "seat-201", Interface: "PJSIP/201"},
	})
	call := <-got
	fmt.Println(call.Event, call.Linkedid, call.Operator.Username, call.Caller.Name)

	forged, err := http.Post(crm.URL+"/astcti", "application/json", strings.NewReader(`{"v":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	forged.Body.Close()
	fmt.Println("forged:", forged.Status)
	// Output:
	// answer 1700000000.7 alice <script>alert("x")</script>
	// forged: 401 Unauthorized
}

// TestDocsReceiver: docs/webhooks.md shows the receiver above verbatim,
// so the documented receiver is the one Example_receiver runs.
func TestDocsReceiver(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(src), "// receiver:begin\n")
	require.True(t, ok)
	code, _, ok := strings.Cut(after, "\n// receiver:end")
	require.True(t, ok)
	doc, err := os.ReadFile("../../docs/webhooks.md")
	require.NoError(t, err)
	assert.Contains(t, string(doc), "```go\n"+strings.TrimSpace(code)+"\n```", "docs/webhooks.md must show crmHandler of cti/webhook/example_test.go as it is")
}

// TestDocsBody: the body example of docs/webhooks.md has only fields of
// Delivery, written as the encoder writes them.
func TestDocsBody(t *testing.T) {
	doc, err := os.ReadFile("../../docs/webhooks.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(doc), "```json\n")
	require.True(t, ok, "docs/webhooks.md has no json block")
	example, _, ok := strings.Cut(after, "```")
	require.True(t, ok)
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	var d webhook.Delivery
	require.NoError(t, dec.Decode(&d), "the example has only fields of Delivery")
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(d))
	assert.Equal(t, example, out.String(), "the example is what the encoder writes")
	assert.Equal(t, webhook.IdempotencyKey(d.Linkedid, d.Event, d.Seat.Interface), d.Key)
}
