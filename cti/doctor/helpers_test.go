package doctor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// recorded returns the answer with the given ActionID in a doctor session
// recorded off real Asterisk (testdata/ami-lists/NAME.ami), and the items
// that carry the same ActionID after it.
func recorded(t testing.TB, name, actionID string) (*ami.Frame, []*ami.Frame) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(amitrace.ListsRoot(), name+".ami"))
	require.NoError(t, err)
	r := ami.NewReader(bytes.NewReader(b))
	_, err = r.ReadBanner()
	require.NoError(t, err)
	var reply *ami.Frame
	var items []*ami.Frame
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		f := m.Frame()
		if f.ActionID() != actionID {
			continue
		}
		if reply == nil {
			reply = f
			continue
		}
		items = append(items, f)
	}
	require.NotNil(t, reply, "no answer %s in %s", actionID, name)
	return reply, items
}

// output returns the CLI output of a recorded Command answer.
func output(t testing.TB, name, actionID string) []string {
	t.Helper()
	f, _ := recorded(t, name, actionID)
	if f.Output != nil {
		return f.Output
	}
	return f.Values("Output")
}
