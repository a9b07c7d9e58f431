package scenarios

import (
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// archive builds a scenario archive from name, text pairs.
func archive(nameText ...string) []byte {
	ar := &txtar.Archive{Comment: []byte("test\n")}
	for i := 0; i+1 < len(nameText); i += 2 {
		text := nameText[i+1]
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		ar.Files = append(ar.Files, txtar.File{Name: nameText[i], Data: []byte(text)})
	}
	return txtar.Format(ar)
}

// errLines splits a joined error into its messages.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// checkErrs fails unless err holds exactly one message per want, in order,
// each starting with its want.
func checkErrs(t *testing.T, what string, err error, want []string) {
	t.Helper()
	got := errLines(err)
	if len(got) != len(want) {
		t.Fatalf("%s: got %d errors, want %d:\n%s", what, len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s: error %d = %q, want it to start with %q", what, i, got[i], want[i])
		}
	}
}
