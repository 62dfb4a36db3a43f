package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"

	"github.com/stepmon/stepmon/internal/monitor"
)

// maxLocatedWeight bounds the sum of the depths of an answer's values for
// which a status path's nodes are located (their normalized paths, whose
// length is their depth, cost memory for each node selected): 1<<20
// selectors, 16 MiB. A 1 MiB answer of nested arrays reaches 32 times as
// much.
const maxLocatedWeight = 1 << 20

// decodeAnswer's errors.
var (
	errNotJSON = errors.New("answer is not JSON")
	errTooDeep = errors.New("answer nested too deep")
)

// jobAnswer is a decoded job-status answer: the value a status path reads,
// with what encoding/json's maps forget, each object's key order and the
// keys it gives more than once.
type jobAnswer struct {
	doc any
	// objects holds, by map, the objects that have more than one member or
	// give a key more than once.
	objects map[objectID]*objectKeys
	// weight is the sum of the depths of the answer's values.
	weight int
	// dups reports whether an object gives a key more than once.
	dups bool
}

// objectKeys is an object's key order and the keys it gives more than
// once.
type objectKeys struct {
	keys []string        // in the answer's order, each once
	pos  map[string]int  // position in keys, built when first needed
	dups map[string]bool // the keys given more than once
}

// decodeAnswer decodes body, one JSON value after an optional byte order
// mark, numbers as json.Number, an object's duplicate key as its last
// value (as encoding/json does), and reads its objects' key order. An answer that is not JSON is
// errNotJSON, one nested deeper than MaxAnswerDepth errTooDeep.
func decodeAnswer(body []byte) (*jobAnswer, error) {
	// A byte order mark, which RFC 8259 lets a parser ignore.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	// Decoder.More is false before a stray '}' or ']': compare offsets.
	if err := dec.Decode(&doc); err != nil || dec.InputOffset() != int64(len(bytes.TrimRight(body, " \t\r\n"))) {
		return nil, errNotJSON
	}
	if nestedDeeper(doc, MaxAnswerDepth) {
		return nil, errTooDeep
	}
	a := &jobAnswer{doc: doc, objects: map[objectID]*objectKeys{}}
	s := keyScanner{b: body, a: a}
	s.value(doc, 0)
	return a, nil
}

// nestedDeeper reports whether v, a decoded JSON value, nests objects and
// arrays more than depth levels deep (a scalar is 0, [1] is 1).
func nestedDeeper(v any, depth int) bool {
	var children iter.Seq[any]
	switch x := v.(type) {
	case map[string]any:
		children = maps.Values(x)
	case []any:
		children = slices.Values(x)
	default:
		return false
	}
	if depth <= 0 {
		return true
	}
	for e := range children {
		if nestedDeeper(e, depth-1) {
			return true
		}
	}
	return false
}

// keyScanner reads the text of a JSON value that encoding/json decoded,
// alongside the decoded value, for what the decoded maps forget.
type keyScanner struct {
	b []byte // valid JSON
	i int
	a *jobAnswer
}

// value reads the value at s.i, whose decoded form is v, within depth
// arrays and objects.
func (s *keyScanner) value(v any, depth int) {
	s.space()
	s.a.weight += depth
	switch s.b[s.i] {
	case '{':
		s.object(v, depth)
	case '[':
		arr, _ := v.([]any)
		s.i++
		s.space()
		if s.b[s.i] == ']' {
			s.i++
			return
		}
		for n := 0; ; n++ {
			var e any
			if n < len(arr) {
				e = arr[n]
			}
			s.value(e, depth+1)
			s.space()
			s.i++ // ',' or ']'
			if s.b[s.i-1] == ']' {
				return
			}
		}
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.i < len(s.b) && strings.IndexByte(",]} \t\r\n", s.b[s.i]) < 0 {
			s.i++
		}
	}
}

// object reads the object at s.i, whose decoded form is v, recording its
// key order and the keys it gives more than once. A key given more than
// once is read with its last value each time: the records an earlier
// value's objects leave are replaced or lie on a path through that key,
// which gives no status.
func (s *keyScanner) object(v any, depth int) {
	obj, _ := v.(map[string]any)
	s.i++ // '{'
	s.space()
	if s.b[s.i] == '}' {
		s.i++
		return
	}
	var keys []string
	for {
		s.space()
		k := s.str()
		keys = append(keys, k)
		s.space()
		s.i++ // ':'
		s.value(obj[k], depth+1)
		s.space()
		s.i++ // ',' or '}'
		if s.b[s.i-1] == '}' {
			break
		}
	}
	if len(keys) < 2 || obj == nil {
		return
	}
	rec := &objectKeys{keys: keys}
	if len(keys) > len(obj) {
		rec.keys = make([]string, 0, len(obj))
		rec.dups = map[string]bool{}
		seen := make(map[string]bool, len(obj))
		for _, k := range keys {
			if seen[k] {
				rec.dups[k] = true
			} else {
				seen[k] = true
				rec.keys = append(rec.keys, k)
			}
		}
		s.a.dups = true
	}
	s.a.objects[mapID(obj)] = rec
}

// str reads the string at s.i and returns it as encoding/json decodes it.
func (s *keyScanner) str() string {
	start := s.i // '"'
	plain := true
	for s.i++; s.b[s.i] != '"'; s.i++ {
		switch {
		case s.b[s.i] == '\\':
			s.i++
			plain = false
		case s.b[s.i] >= utf8.RuneSelf:
			plain = false
		}
	}
	s.i++
	raw := s.b[start:s.i]
	if plain || (bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) {
		return string(raw[1 : len(raw)-1])
	}
	// Escapes, or invalid UTF-8, which encoding/json replaces.
	var k string
	json.Unmarshal(raw, &k)
	return k
}

func (s *keyScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

// mapID identifies an object of the answer.
func mapID(m map[string]any) objectID { return objectID(reflect.ValueOf(m).Pointer()) }

// objectID is an object's identity: the address of its map, which the
// decoded document keeps alive (and Go's collector does not move) while
// the answer is read.
type objectID uintptr

// selection is the node a status path reads from an answer.
type selection struct {
	node any
	// problem, when set, is why the answer gives no status: the Unknown
	// detail.
	problem string
}

// status selects the status node: the first node path selects in the
// answer's document order (the node whose text begins first), whatever
// order Go's maps iterate in. A node reached through a key its object
// gives more than once is no status. found is false when path selects
// nothing.
func (a *jobAnswer) status(path *jsonpath.Path) (sel selection, found bool) {
	nodes := path.Select(a.doc)
	if len(nodes) == 0 {
		return selection{}, false
	}
	agreeing := len(nodes) == 1 || agree(nodes)
	if agreeing && !a.dups {
		return selection{node: nodes[0]}, true
	}
	// Locating the one node of a singular path ($.a.b) costs its depth.
	if a.weight > maxLocatedWeight && path.Query().Singular() == nil {
		if !agreeing {
			return selection{problem: fmt.Sprintf("the status path selects %d nodes with different values in an answer too large to tell which comes first", len(nodes))}, true
		}
		return selection{problem: "the answer gives a key more than once, and is too large to tell whether on the way to the status"}, true
	}
	located := path.SelectLocated(a.doc)
	if len(located) == 0 {
		return selection{}, false
	}
	first := located[0]
	for _, n := range located[1:] {
		if a.before(n.Path, first.Path) {
			first = n
		}
	}
	if k, ok := a.duplicateOn(first.Path); ok {
		return selection{problem: fmt.Sprintf("the answer gives %q more than once", monitor.TruncateBytes(k, 100))}, true
	}
	return selection{node: first.Node}, true
}

// agree reports whether nodes are scalars of one JSON type and one text,
// which any of them gives: the string "2" and the number 2 do not agree,
// since a number also matches list values by value.
func agree(nodes []any) bool {
	first, ok := scalarText(nodes[0])
	if !ok {
		return false
	}
	for _, n := range nodes[1:] {
		if s, ok := scalarText(n); !ok || s != first || reflect.TypeOf(n) != reflect.TypeOf(nodes[0]) {
			return false
		}
	}
	return true
}

// before reports whether the node at p begins before the node at q in the
// answer's text: an ancestor before its descendants, array elements in
// their order, object members in the order the answer gives them.
func (a *jobAnswer) before(p, q spec.NormalizedPath) bool {
	v := a.doc
	for i := range min(len(p), len(q)) {
		if p[i] != q[i] {
			switch x := p[i].(type) {
			case spec.Index:
				y, _ := q[i].(spec.Index)
				return x < y
			case spec.Name:
				y, _ := q[i].(spec.Name)
				obj, _ := v.(map[string]any)
				return a.position(obj, string(x)) < a.position(obj, string(y))
			}
		}
		v = child(v, p[i])
	}
	return len(p) < len(q)
}

// position returns key's position among obj's keys.
func (a *jobAnswer) position(obj map[string]any, key string) int {
	keys := a.objects[mapID(obj)]
	if keys == nil {
		return 0 // an object of one member
	}
	if keys.pos == nil {
		keys.pos = make(map[string]int, len(keys.keys))
		for i, k := range keys.keys {
			keys.pos[k] = i
		}
	}
	return keys.pos[key]
}

// duplicateOn returns the first key on path that its object gives more
// than once.
func (a *jobAnswer) duplicateOn(path spec.NormalizedPath) (string, bool) {
	if !a.dups {
		return "", false
	}
	v := a.doc
	for _, s := range path {
		if name, isName := s.(spec.Name); isName {
			if obj, _ := v.(map[string]any); obj != nil {
				if keys := a.objects[mapID(obj)]; keys != nil && keys.dups[string(name)] {
					return string(name), true
				}
			}
		}
		v = child(v, s)
	}
	return "", false
}

// child returns v's member or element that s names.
func child(v any, s spec.NormalSelector) any {
	switch s := s.(type) {
	case spec.Name:
		obj, _ := v.(map[string]any)
		return obj[string(s)]
	case spec.Index:
		if arr, _ := v.([]any); int(s) >= 0 && int(s) < len(arr) {
			return arr[s]
		}
	}
	return nil
}
