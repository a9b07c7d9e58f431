package ctitest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// Logs is a slog.Handler for tests: it keeps the message of every record
// (so a test can wait for "ami: connection attempt failed", say) and writes
// the records at or above its level to the test's log. Records that come
// after the test has ended are kept but not written. It is safe for
// concurrent use.
type Logs struct {
	st    *logState
	attrs []slog.Attr
	group string
}

type logState struct {
	mu    sync.Mutex
	t     testing.TB // nil once the test has ended
	level slog.Level
	msgs  []string
	recs  []kept // msgs[i] is recs[i]'s message
}

// kept is a record as a handler got it, formatted only when asked for.
type kept struct {
	r     slog.Record
	attrs []slog.Attr
	group string
}

// LogLevel is the level at which Logs writes to the test log. It is Warn,
// or what ASTCTI_TEST_LOG says (debug, info, warn, error).
func LogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("ASTCTI_TEST_LOG"))); err != nil {
		return slog.LevelWarn
	}
	return l
}

// NewLogs returns a Logs writing to t's log at LogLevel. It stops writing
// when t's cleanups run.
func NewLogs(t testing.TB) *Logs {
	st := &logState{t: t, level: LogLevel()}
	t.Cleanup(func() {
		st.mu.Lock()
		st.t = nil
		st.mu.Unlock()
	})
	return &Logs{st: st}
}

// Logger returns a logger that writes to l.
func (l *Logs) Logger() *slog.Logger { return slog.New(l) }

// Count returns how many records so far have a message containing msg.
func (l *Logs) Count(msg string) int {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	n := 0
	for _, m := range l.st.msgs {
		if strings.Contains(m, msg) {
			n++
		}
	}
	return n
}

// Enabled implements slog.Handler: every record is kept.
func (l *Logs) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (l *Logs) Handle(_ context.Context, r slog.Record) error {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	l.st.msgs = append(l.st.msgs, r.Message)
	k := kept{r: r.Clone(), attrs: l.attrs, group: l.group}
	l.st.recs = append(l.st.recs, k)
	if l.st.t == nil || r.Level < l.st.level {
		return nil
	}
	line, err := k.text()
	if err != nil {
		return err
	}
	l.st.t.Log(line)
	return nil
}

// text formats k as slog's TextHandler does, without the newline.
func (k kept) text() (string, error) {
	var b bytes.Buffer
	h := slog.Handler(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if len(k.attrs) > 0 {
		h = h.WithAttrs(k.attrs)
	}
	if k.group != "" {
		h = h.WithGroup(k.group)
	}
	if err := h.Handle(context.Background(), k.r); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Lines returns, formatted as slog's TextHandler writes them (level=INFO
// msg="…" key=value …), the records so far whose message contains msg,
// at every level: for a test of what a log line says, or never says.
func (l *Logs) Lines(msg string) []string {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	var lines []string
	for i, m := range l.st.msgs {
		if strings.Contains(m, msg) {
			line, err := l.st.recs[i].text()
			if err != nil {
				line = m + " (" + err.Error() + ")"
			}
			lines = append(lines, line)
		}
	}
	return lines
}

// WithAttrs implements slog.Handler.
func (l *Logs) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *l
	c.attrs = append(append([]slog.Attr(nil), l.attrs...), attrs...)
	return &c
}

// WithGroup implements slog.Handler. Groups are flattened into one: good
// enough for reading test logs.
func (l *Logs) WithGroup(name string) slog.Handler {
	c := *l
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
