package checks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

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

// errTooDeep is decodeAnswer's error for an answer nested deeper than
// MaxAnswerDepth.
var errTooDeep = errors.New("answer nested too deep")

// answer is a decoded job-status answer: the value a status path reads,
// with what encoding/json's maps forget, each object's key order and the
// keys it gives more than once.
type answer struct {
	doc any
	// objects holds, by map, the objects that have more than one member or
	// give a key more than once.
	objects map[unsafe.Pointer]*objectKeys
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

// decodeAnswer decodes dec's next JSON value, numbers as json.Number, an
// object's duplicate key as its last value (as encoding/json does),
// refusing nesting deeper than MaxAnswerDepth with errTooDeep.
func decodeAnswer(dec *json.Decoder) (*answer, error) {
	dec.UseNumber()
	a := &answer{objects: map[unsafe.Pointer]*objectKeys{}}
	doc, err := a.value(dec, 0)
	if err != nil {
		return nil, err
	}
	a.doc = doc
	return a, nil
}

// value decodes one value within depth arrays and objects.
func (a *answer) value(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	a.weight += depth
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth+1 > MaxAnswerDepth {
		return nil, errTooDeep
	}
	switch d {
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := a.value(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	case '{':
		obj := map[string]any{}
		keys := &objectKeys{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := tok.(string)
			v, err := a.value(dec, depth+1)
			if err != nil {
				return nil, err
			}
			if _, seen := obj[k]; seen {
				if keys.dups == nil {
					keys.dups = map[string]bool{}
				}
				keys.dups[k] = true
				a.dups = true
			} else {
				keys.keys = append(keys.keys, k)
			}
			obj[k] = v
		}
		if len(keys.keys) > 1 || keys.dups != nil {
			a.objects[mapID(obj)] = keys
		}
		_, err := dec.Token()
		return obj, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// mapID identifies an object of the answer.
func mapID(m map[string]any) unsafe.Pointer { return reflect.ValueOf(m).UnsafePointer() }

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
func (a *answer) status(path *jsonpath.Path) (sel selection, found bool) {
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

// agree reports whether nodes are scalars of one text, which any of them
// gives.
func agree(nodes []any) bool {
	first, ok := scalarText(nodes[0])
	if !ok {
		return false
	}
	for _, n := range nodes[1:] {
		if s, ok := scalarText(n); !ok || s != first {
			return false
		}
	}
	return true
}

// before reports whether the node at p begins before the node at q in the
// answer's text: an ancestor before its descendants, array elements in
// their order, object members in the order the answer gives them.
func (a *answer) before(p, q spec.NormalizedPath) bool {
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
func (a *answer) position(obj map[string]any, key string) int {
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
func (a *answer) duplicateOn(path spec.NormalizedPath) (string, bool) {
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
