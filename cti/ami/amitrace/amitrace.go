// Package amitrace reads recorded AMI sessions: the bytes Asterisk sent
// (NAME.ami), the bytes its client sent (NAME.actions) and the pacing of
// every socket read and write (NAME.timeline.jsonl). The recordings in the
// project's testdata/ami-traces came off real Asterisk 1.4, 1.8, 20 and 22;
// fakeami replays such files and the tests hold the code to them.
package amitrace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Trace is one recorded AMI connection.
type Trace struct {
	Name     string  // e.g. "asterisk-22.10.1/c_queue_answered"
	Received []byte  // what the client received: banner, responses, events
	Sent     []byte  // what the client sent: Login, actions, Logoff
	Timeline []Chunk // one entry per recv()/send(), in time order; nil if absent
}

// Chunk is one socket read or write of a recording.
type Chunk struct {
	At  time.Duration // time since connect
	Dir string        // "recv", "send" or "eof"
	Off int           // offset into Received (recv) or Sent (send)
	Len int
	By  string // for "eof": "peer" or "self"
}

type chunkJSON struct {
	T   float64 `json:"t"`
	Dir string  `json:"dir"`
	Off int     `json:"off"`
	Len int     `json:"len"`
	By  string  `json:"by"`
}

// Load reads the recording whose received bytes are in path (NAME.ami). The
// .actions and .timeline.jsonl files beside it are optional.
func Load(path string) (*Trace, error) {
	recv, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("amitrace: %w", err)
	}
	base := strings.TrimSuffix(path, ".ami")
	t := &Trace{Name: nameOf(base), Received: recv}
	if b, err := os.ReadFile(base + ".actions"); err == nil {
		t.Sent = b
	}
	if f, err := os.Open(base + ".timeline.jsonl"); err == nil {
		defer f.Close()
		t.Timeline, err = ReadTimeline(f)
		if err != nil {
			return nil, fmt.Errorf("amitrace: %s.timeline.jsonl: %w", base, err)
		}
	}
	return t, nil
}

// ReadTimeline parses a .timeline.jsonl stream.
func ReadTimeline(r io.Reader) ([]Chunk, error) {
	var out []Chunk
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c chunkJSON
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch c.Dir {
		case "recv", "send", "eof":
		default:
			return nil, fmt.Errorf("line %d: unknown dir %q", line, c.Dir)
		}
		if c.Off < 0 || c.Len < 0 || c.T < 0 {
			return nil, fmt.Errorf("line %d: negative offset, length or time", line)
		}
		out = append(out, Chunk{
			At:  time.Duration(c.T * float64(time.Second)),
			Dir: c.Dir, Off: c.Off, Len: c.Len, By: c.By,
		})
	}
	return out, sc.Err()
}

// RecvChunks returns the received bytes cut as the recorded reads cut them.
// Without a timeline it returns the whole stream as one chunk.
func (t *Trace) RecvChunks() [][]byte {
	var out [][]byte
	for _, c := range t.Timeline {
		if c.Dir == "recv" && c.Off+c.Len <= len(t.Received) {
			out = append(out, t.Received[c.Off:c.Off+c.Len])
		}
	}
	if out == nil {
		out = [][]byte{t.Received}
	}
	return out
}

func nameOf(base string) string {
	return filepath.Base(filepath.Dir(base)) + "/" + filepath.Base(base)
}

// Root returns the project's folder of recorded traces, testdata/ami-traces,
// found from this source file. It is meant for tests.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "ami-traces")
}

// ListsRoot returns the directory of the recorded answers to list actions
// (Status, CoreShowChannels, QueueStatus) that real Asterisk gave during
// live calls: testdata/ami-lists, plain AMI streams (a banner, then the
// frames) without timelines.
func ListsRoot() string {
	return filepath.Join(Root(), "..", "ami-lists")
}

// Lists returns the .ami files under ListsRoot, sorted.
func Lists() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(ListsRoot(), "*.ami"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("amitrace: no recorded lists under %s", ListsRoot())
	}
	sort.Strings(files)
	return files, nil
}

// All returns the .ami files under Root, sorted.
func All() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(Root(), "*", "*.ami"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("amitrace: no traces under %s", Root())
	}
	sort.Strings(files)
	return files, nil
}
