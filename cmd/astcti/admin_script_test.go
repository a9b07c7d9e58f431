package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet gets URL and prints the body; it fails unless the status is
// CODE: httpget URL CODE.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: httpget URL CODE")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	client := http.Client{Timeout: scriptWait(ts)}
	resp, err := client.Get(args[0])
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s", body)
	if resp.StatusCode != want {
		ts.Fatalf("GET %s: %s, want %d", args[0], resp.Status, want)
	}
}
