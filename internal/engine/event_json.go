package engine

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/stepmon/stepmon/internal/asl"
)

// AppendJSON appends the event in the AWS GetExecutionHistory shape to b:
// the bytes MarshalJSON returns, written without reflection or
// intermediate maps.
func (e *Event) AppendJSON(b []byte) []byte {
	var tc textCache
	return e.appendJSON(b, &tc)
}

// textCache remembers the JSON texts of the last few maps and arrays
// encoded, by identity (the map's pointer, or the array's first element
// and length): the values of the engine are never modified, so the same
// map always has the same text.
type textCache struct {
	keys  [16]asl.Identity
	texts [16]string
	n     int
	// table, when set, receives the texts, and events refer to them by
	// number (the batch encoding of AppendEventBatch).
	table *textTable
	// arena, when set, holds the texts: each is encoded at its end and
	// the text is a view of those bytes, which are never written again
	// while the texts are in use (AppendEventBatch). The texts of large
	// maps and arrays inside the values are then remembered too, so that
	// a state met inside the task's parameters or result is not encoded
	// again.
	arena *[]byte
}

var _ asl.Texts = (*textCache)(nil)

// nestedTextMin is the length from which a nested map or array's text is
// remembered: shorter ones cost less to encode again than to keep.
const nestedTextMin = 128

// text returns asl.Text(v), reusing the text of a map or array seen
// before.
func (c *textCache) text(v any) string {
	k, ok := asl.IdentityOf(v)
	if !ok {
		return c.encode(v)
	}
	if s, ok := c.lookup(k); ok {
		return s
	}
	s := c.encode(v)
	if c.arena == nil || len(s) < nestedTextMin { // else Encoded kept it
		c.remember(k, s)
	}
	return s
}

func (c *textCache) lookup(k asl.Identity) (string, bool) {
	for i := range min(c.n, len(c.keys)) {
		if c.keys[i] == k {
			return c.texts[i], true
		}
	}
	return "", false
}

func (c *textCache) remember(k asl.Identity, s string) {
	i := c.n % len(c.keys)
	c.keys[i], c.texts[i] = k, s
	c.n++
}

// Known implements asl.Texts.
func (c *textCache) Known(v any) (string, bool) {
	k, ok := asl.IdentityOf(v)
	if !ok {
		return "", false
	}
	return c.lookup(k)
}

// Encoded implements asl.Texts: it keeps a view of a large text in the
// arena.
func (c *textCache) Encoded(v any, text []byte) {
	if len(text) < nestedTextMin {
		return
	}
	if k, ok := asl.IdentityOf(v); ok {
		c.remember(k, unsafe.String(unsafe.SliceData(text), len(text)))
	}
}

// encode returns asl.Text(v), in the arena when there is one.
func (c *textCache) encode(v any) string {
	if c.arena == nil {
		return asl.Text(v)
	}
	start := len(*c.arena)
	b, err := asl.AppendJSONTexts(*c.arena, v, c)
	if err != nil { // cannot happen for the engine's values; as asl.Text
		b = append((*c.arena)[:start], "null"...)
	}
	*c.arena = b
	return unsafe.String(unsafe.SliceData(b[start:]), len(b)-start)
}

// field adds the member key with the JSON text of v: the text itself, or
// its number in the table of a batch.
func (c *textCache) field(o *jsonObject, key string, v any) {
	s := c.text(v)
	if c.table == nil {
		o.str(key, s)
		return
	}
	o.num(key, int64(c.table.ref(s)))
}

// trunc adds a {"truncated":false} member, which a batch leaves out.
func (c *textCache) trunc(o *jsonObject, key string) {
	if c.table == nil {
		o.trunc(key)
	}
}

// jsonField is one member of an object being encoded.
type jsonField struct {
	key  string
	kind byte // 's' string, 'n' integer, 't' {"truncated":false}, 'm' map of strings, 'r' raw JSON
	s    string
	raw  []byte
	n    int64
	m    map[string]string
}

// jsonObject collects an object's members and writes them in key order,
// as encoding/json writes a map. Events have at most 8 members on any
// level.
type jsonObject struct {
	f [8]jsonField
	n int
}

func (o *jsonObject) add(f jsonField) { o.f[o.n] = f; o.n++ }
func (o *jsonObject) str(k, v string) { o.add(jsonField{key: k, kind: 's', s: v}) }
func (o *jsonObject) num(k string, v int64) {
	o.add(jsonField{key: k, kind: 'n', n: v})
}
func (o *jsonObject) trunc(k string) { o.add(jsonField{key: k, kind: 't'}) }
func (o *jsonObject) strMap(k string, m map[string]string) {
	o.add(jsonField{key: k, kind: 'm', m: m})
}
func (o *jsonObject) rawJSON(k string, v []byte) { o.add(jsonField{key: k, kind: 'r', raw: v}) }

func (o *jsonObject) appendTo(b []byte) []byte {
	fs := o.f[:o.n]
	for i := 1; i < len(fs); i++ { // insertion sort: a handful of members
		for j := i; j > 0 && fs[j].key < fs[j-1].key; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	b = append(b, '{')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		f := &fs[i]
		b = appendJSONString(b, f.key)
		b = append(b, ':')
		switch f.kind {
		case 's':
			b = appendJSONString(b, f.s)
		case 'n':
			b = strconv.AppendInt(b, f.n, 10)
		case 't':
			b = append(b, `{"truncated":false}`...)
		case 'm':
			b = appendStringMap(b, f.m)
		case 'r':
			b = append(b, f.raw...)
		}
	}
	return append(b, '}')
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s as encoding/json encodes a string, HTML
// escaping included. Printable ASCII is written here, with quotes and
// backslashes escaped; any other string goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (e *Event) appendJSON(b []byte, tc *textCache) []byte {
	var top jsonObject
	top.num("id", e.ID)
	top.num("previousEventId", e.PreviousEventID)
	var ts [40]byte
	top.str("timestamp", string(e.Timestamp.UTC().AppendFormat(ts[:0], time.RFC3339Nano)))
	top.str("type", e.Type)
	if key, _ := detailsFor(e.Type); key != "" {
		// The details object is small: encode it into a buffer of its
		// own and add it as a raw member, sorted with the others.
		var db [512]byte
		top.rawJSON(key, e.appendDetails(db[:0], tc))
	}
	return top.appendTo(b)
}

// appendDetails appends the event's details object (nothing for a type
// without details).
func (e *Event) appendDetails(b []byte, tc *textCache) []byte {
	_, kind := detailsFor(e.Type)
	d := &e.Details
	x := d.extra()
	var det jsonObject
	switch kind {
	case kindNone:
		return b
	case kindEntered:
		det.str("name", d.Name)
		tc.field(&det, "input", d.Input)
		tc.trunc(&det, "inputDetails")
	case kindExited:
		det.str("name", d.Name)
		tc.field(&det, "output", d.Output)
		tc.trunc(&det, "outputDetails")
		// An empty Assign assigns nothing, and AWS shows nothing of it.
		if len(d.AssignedVariables) > 0 {
			det.strMap("assignedVariables", d.AssignedVariables)
			tc.trunc(&det, "assignedVariablesDetails")
		}
	case kindExecStarted:
		tc.field(&det, "input", d.Input)
		tc.trunc(&det, "inputDetails")
		det.str("roleArn", d.RoleArn)
	case kindExecSucceeded:
		tc.field(&det, "output", d.Output)
		tc.trunc(&det, "outputDetails")
	case kindFailure:
		appendErrorCause(&det, d)
	case kindEvaluationFailed:
		det.str("error", d.Error)
		det.str("cause", d.Cause)
		det.str("state", d.Name)
		if x.Location != "" {
			det.str("location", x.Location)
		}
	case kindMapStarted:
		det.num("length", int64(x.Length))
	case kindMapIteration:
		det.str("name", d.Name)
		det.num("index", int64(x.Index))
	case kindMapRunStarted:
		det.str("mapRunArn", x.MapRunArn)
	case kindTaskScheduled:
		det.str("resource", x.Resource)
		det.str("resourceType", x.ResourceType)
		det.str("region", x.Region)
		tc.field(&det, "parameters", x.Parameters)
		if x.TimeoutInSeconds > 0 {
			det.num("timeoutInSeconds", x.TimeoutInSeconds)
		}
		if x.HeartbeatSeconds > 0 {
			det.num("heartbeatInSeconds", x.HeartbeatSeconds)
		}
	case kindLambdaScheduled, kindActivityScheduled:
		det.str("resource", x.Resource)
		tc.field(&det, "input", x.Parameters)
		tc.trunc(&det, "inputDetails")
		if x.TimeoutInSeconds > 0 {
			det.num("timeoutInSeconds", x.TimeoutInSeconds)
		}
		if kind == kindActivityScheduled && x.HeartbeatSeconds > 0 {
			det.num("heartbeatInSeconds", x.HeartbeatSeconds)
		}
	case kindTaskStarted:
		det.str("resource", x.Resource)
		det.str("resourceType", x.ResourceType)
	case kindTaskSucceeded:
		det.str("resource", x.Resource)
		det.str("resourceType", x.ResourceType)
		tc.field(&det, "output", d.Output)
		tc.trunc(&det, "outputDetails")
	case kindTaskFailure:
		det.str("resource", x.Resource)
		det.str("resourceType", x.ResourceType)
		appendErrorCause(&det, d)
	}
	return det.appendTo(b)
}

// appendErrorCause adds the error and cause members a failure event has.
func appendErrorCause(det *jsonObject, d *EventDetails) {
	if d.HasError {
		det.str("error", d.Error)
	}
	if d.HasCause {
		det.str("cause", d.Cause)
	}
}
