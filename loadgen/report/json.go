package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes d as one indented JSON document whose keys doc.go lists.
// Latencies are reduced to a histogram and per-interval quantiles and the
// series are capped, so the size is bounded whatever the run's length. It
// returns the first error of w.
func WriteJSON(w io.Writer, d *Data) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Run names and parameters are read by people in a file, not pasted
	// into HTML: keep "<" and "&" as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(newView(d)); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}
