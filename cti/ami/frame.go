package ami

import (
	"strings"
	"sync/atomic"
)

// Field is one "Key: Value" header line of an AMI message.
type Field struct {
	Key   string
	Value string
}

// Frame is one AMI message owned by its holder: an action, a response or an
// event. Fields keep the order they had on the wire, and a key may repeat
// (Variable, ChanVariable, Output). Output holds the lines of old-style
// command output (Asterisk 1.4's "Response: Follows" … "--END COMMAND--"),
// and is nil for every other message.
//
// A Frame is a plain value: it is not safe for concurrent mutation, but any
// number of goroutines may read one that nobody writes.
type Frame struct {
	Fields []Field
	Output []string

	// Of an event frame the client's reader filled: the pool it goes back
	// to, and how many subscribers have yet to release it.
	pool *framePool
	refs int32
}

// NewAction returns an action frame named name with the given key/value pairs.
// It panics if kv has an odd length, which is a programming error.
func NewAction(name string, kv ...string) *Frame {
	if len(kv)%2 != 0 {
		panic("ami: NewAction needs key/value pairs")
	}
	f := &Frame{Fields: make([]Field, 0, 1+len(kv)/2)}
	f.Fields = append(f.Fields, Field{"Action", name})
	for i := 0; i < len(kv); i += 2 {
		f.Fields = append(f.Fields, Field{kv[i], kv[i+1]})
	}
	return f
}

// Lookup returns the value of the first field named key, compared without
// regard to ASCII case as Asterisk's astman_get_header does, and whether
// there was one.
func (f *Frame) Lookup(key string) (string, bool) {
	for i := range f.Fields {
		if equalFold(f.Fields[i].Key, key) {
			return f.Fields[i].Value, true
		}
	}
	return "", false
}

// Get returns the value of the first field named key, or "".
func (f *Frame) Get(key string) string {
	v, _ := f.Lookup(key)
	return v
}

// Values returns the values of every field named key, in wire order.
func (f *Frame) Values(key string) []string {
	var vs []string
	for i := range f.Fields {
		if equalFold(f.Fields[i].Key, key) {
			vs = append(vs, f.Fields[i].Value)
		}
	}
	return vs
}

// Add appends a field, keeping any earlier field of the same key.
func (f *Frame) Add(key, value string) *Frame {
	f.Fields = append(f.Fields, Field{key, value})
	return f
}

// Set replaces the value of the first field named key, or appends one.
func (f *Frame) Set(key, value string) *Frame {
	for i := range f.Fields {
		if equalFold(f.Fields[i].Key, key) {
			f.Fields[i].Value = value
			return f
		}
	}
	return f.Add(key, value)
}

// Del removes every field named key.
func (f *Frame) Del(key string) *Frame {
	kept := f.Fields[:0]
	for _, fl := range f.Fields {
		if !equalFold(fl.Key, key) {
			kept = append(kept, fl)
		}
	}
	f.Fields = kept
	return f
}

// Event returns the event name, or "" when the frame is not an event.
func (f *Frame) Event() string { return f.Get("Event") }

// Response returns the Response header (Success, Error, Follows, Pong,
// Goodbye), or "" when the frame is not a response.
func (f *Frame) Response() string { return f.Get("Response") }

// Action returns the Action header, or "" when the frame is not an action.
func (f *Frame) Action() string { return f.Get("Action") }

// ActionID returns the ActionID header.
func (f *Frame) ActionID() string { return f.Get("ActionID") }

// IsEvent reports whether the frame is an event.
func (f *Frame) IsEvent() bool { _, ok := f.Lookup("Event"); return ok }

// IsResponse reports whether the frame is a response to an action.
func (f *Frame) IsResponse() bool { _, ok := f.Lookup("Response"); return ok }

// Release tells the client that delivered f to a subscription that its
// subscriber is done with f: it reads f and its Fields no more. The strings
// it took from them stay valid: they are never reused. Once every
// subscriber released it, the client fills f again with a later event, so
// that a busy PBX costs no Frame and no field slice per event. Release is
// optional: a frame nobody releases is garbage collected as usual. It does
// nothing to other frames (actions, replies, list items, frames made by
// hand). Call it once per delivery; it is safe to call from any goroutine.
func (f *Frame) Release() {
	if f.pool == nil || atomic.AddInt32(&f.refs, -1) != 0 {
		return
	}
	f.pool.put(f)
}

// Clone returns a deep copy of f.
func (f *Frame) Clone() *Frame {
	c := &Frame{Fields: append([]Field(nil), f.Fields...)}
	if f.Output != nil {
		c.Output = append([]string(nil), f.Output...)
	}
	return c
}

// String returns the frame in wire form with "\n" line ends, for logs.
func (f *Frame) String() string {
	var b strings.Builder
	for _, fl := range f.Fields {
		b.WriteString(fl.Key)
		b.WriteString(": ")
		b.WriteString(fl.Value)
		b.WriteByte('\n')
	}
	for _, o := range f.Output {
		b.WriteString(o)
		b.WriteByte('\n')
	}
	return b.String()
}

// equalFold compares ASCII strings without regard to case. AMI keys are
// ASCII; this avoids the Unicode tables of strings.EqualFold on the hot path.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca|0x20 != cb|0x20 || (ca|0x20) < 'a' || (ca|0x20) > 'z' {
			return false
		}
	}
	return true
}

// EqualFold reports whether two AMI keys or Asterisk names are equal without
// regard to ASCII case, the way Asterisk compares header and variable names.
func EqualFold(a, b string) bool { return equalFold(a, b) }
