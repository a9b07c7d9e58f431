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
	texts []string // each record as slog's text handler writes it, with its attributes
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

// Lines returns, as slog's text handler writes them (with every
// attribute), the records so far whose message contains msg.
func (l *Logs) Lines(msg string) []string {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	var out []string
	for i, m := range l.st.msgs {
		if strings.Contains(m, msg) {
			out = append(out, l.st.texts[i])
		}
	}
	return out
}

// Enabled implements slog.Handler: every record is kept.
func (l *Logs) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (l *Logs) Handle(_ context.Context, r slog.Record) error {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	l.st.msgs = append(l.st.msgs, r.Message)
	var b bytes.Buffer
	h := slog.Handler(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if len(l.attrs) > 0 {
		h = h.WithAttrs(l.attrs)
	}
	if l.group != "" {
		h = h.WithGroup(l.group)
	}
	if err := h.Handle(context.Background(), r); err != nil {
		l.st.texts = append(l.st.texts, r.Message)
		return err
	}
	text := strings.TrimSuffix(b.String(), "\n")
	l.st.texts = append(l.st.texts, text)
	if l.st.t == nil || r.Level < l.st.level {
		return nil
	}
	l.st.t.Log(text)
	return nil
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
