package sim

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientProgram: the printed client command names the astcti program
// beside astcti-sim as the user types it from where the demo was started
// (make demo: bin/astcti, from the source tree), so that it runs as shown;
// with none beside it, "".
func TestClientProgram(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the paths below are POSIX ones")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	spaced := filepath.Join(root, "my bin")
	alone := filepath.Join(root, "alone")
	for _, dir := range []string{bin, spaced, alone} {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "astcti-sim"), nil, 0o755))
	}
	for _, dir := range []string{bin, spaced} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "astcti"), nil, 0o755))
	}
	tests := []struct {
		name, exe, wd, want string
	}{
		{"make demo, from the source tree", filepath.Join(bin, "astcti-sim"), root, "bin/astcti"},
		{"from bin itself", filepath.Join(bin, "astcti-sim"), bin, "./astcti"},
		{"from elsewhere: the absolute path is shorter", filepath.Join(bin, "astcti-sim"), "/", bin[1:] + "/astcti"},
		{"far away: absolute", filepath.Join(bin, "astcti-sim"), filepath.Join(root, strings.Repeat("a/", 40)), filepath.Join(bin, "astcti")},
		{"a space: quoted", filepath.Join(spaced, "astcti-sim"), root, "'my bin/astcti'"},
		{"no astcti beside it", filepath.Join(alone, "astcti-sim"), root, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ClientProgram(tc.exe, tc.wd), "ClientProgram(%q, %q)", tc.exe, tc.wd)
		})
	}
}

func TestClientCommand(t *testing.T) {
	in := Info{Seats: "127.0.0.1:40000", Free: FreeOperator, Client: "bin/astcti"}
	assert.Equal(t, "bin/astcti client --server 127.0.0.1:40000 --user carol --password carol --mac 00:11:22:33:44:03", in.ClientCommand())
	assert.Empty(t, in.ClientHint())
	in.Client = ""
	assert.Equal(t, "bin/astcti client --server 127.0.0.1:40000 --user carol --password carol --mac 00:11:22:33:44:03", in.ClientCommand())
	assert.Equal(t, "build it first, from the source tree: go build -o bin/ ./cmd/astcti", in.ClientHint())
}
