package asl

import (
	"strings"

	"github.com/recolabs/gnata"
)

// The JSONata library takes the members of a Go map in Go's map order,
// which changes from run to run, wherever it walks an object: the
// wildcards `*` and `**`, `$string` (and `&`) of an object, `$each`,
// `$sift`, `$spread`, `$merge`, `$keys` of an array of objects, the
// transform operator. Its own ordered objects it walks in their order.
// So an expression that may walk an object gets the objects of its input
// and variables as the library's ordered objects, their members in the
// order of their names (the order objects are encoded in), and its
// result back with the original maps where it holds them: the same
// result at every run. (AWS takes the members in the order of the
// input's text, which the value model does not keep.)

// orderedMap is the library's ordered object (what gnata.DecodeJSON
// makes of a JSON object), used through its methods.
type orderedMap interface {
	Set(key string, value any)
	Get(key string) (any, bool)
	Keys() []string
}

// newOrderedMap returns an empty ordered object of the library, or false
// if the library has none that this package can use (then expressions
// see Go maps, in their order).
func newOrderedMap() (orderedMap, bool) {
	v, err := gnata.DecodeJSON([]byte("{}"))
	if err != nil {
		return nil, false
	}
	m, ok := v.(orderedMap)
	return m, ok
}

// orderedObjects is whether newOrderedMap works with this version of the
// library.
var orderedObjects = func() bool {
	_, ok := newOrderedMap()
	return ok
}()

// walksObjects reports whether the JSONata expression src may walk the
// members of an object (see above): it names an operator or a function
// that does. It may say so of an expression that does not (a product
// `a * b`, a string `"|"`); that costs only the conversion.
func walksObjects(src string) bool {
	if strings.ContainsAny(src, "*&|") {
		return true
	}
	for _, f := range []string{"$string", "$each", "$sift", "$spread", "$merge", "$keys"} {
		if strings.Contains(src, f) {
			return true
		}
	}
	return false
}

// ordering converts the values of one evaluation to the library's
// ordered objects (in) and its result back (out).
type ordering struct {
	// back maps each ordered object and array made by in to the value
	// it was made from; made holds what in made of each map and array
	// of the input, so that a part met twice is converted once.
	back map[any]any
	made map[Identity]any
}

func newOrdering() *ordering {
	return &ordering{back: map[any]any{}, made: map[Identity]any{}}
}

// in returns v with its objects as ordered objects, members sorted by
// name, and its arrays copied to hold them.
func (o *ordering) in(v any) any {
	id, ok := IdentityOf(v)
	if !ok {
		return v // a scalar, or an empty map or array
	}
	if c, ok := o.made[id]; ok {
		return c
	}
	var out any
	switch x := v.(type) {
	case map[string]any:
		m, _ := newOrderedMap()
		for _, k := range sortedKeys(x) {
			m.Set(k, o.in(x[k]))
		}
		out = m
		o.back[m] = x
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = o.in(e)
		}
		out = a
		ai, _ := IdentityOf(a)
		o.back[ai] = x
	}
	o.made[id] = out
	return out
}

// top returns m, an object, as an ordered object whose members are
// converted (in) where convert says so, and passed as they are elsewhere:
// $states, whose context object an expression that walks the input need
// not pay for.
func (o *ordering) top(m map[string]any, convert func(member string) bool) any {
	om, _ := newOrderedMap()
	for _, k := range sortedKeys(m) {
		v := m[k]
		if convert(k) {
			v = o.in(v)
		}
		om.Set(k, v)
	}
	o.back[om] = m
	return om
}

// refersTo reports whether the JSONata expression src may read the
// variable name ("$states", "$x"), or, with a member, that member of it:
// it names the variable, not as the start of a longer name, and, for a
// member, either names the member anywhere or reads the variable other
// than through ".name" ($states.*, $string($states)). It may say so of
// an expression that does not, which costs only a conversion.
func refersTo(src, name, member string) bool {
	whole := false
	for i := 0; ; {
		j := strings.Index(src[i:], name)
		if j < 0 {
			break
		}
		end := i + j + len(name)
		if end == len(src) || !identChar(src[end]) {
			if member == "" {
				return true
			}
			// Read as a whole unless through ".name".
			rest := strings.TrimLeft(src[end:], " \t\r\n")
			rest, dotted := strings.CutPrefix(rest, ".")
			rest = strings.TrimLeft(rest, " \t\r\n")
			if !dotted || rest == "" || !identChar(rest[0]) {
				whole = true
			}
		}
		i = end
	}
	return whole || (member != "" && strings.Contains(src, member))
}

// identChar reports whether c may continue a JSONata variable's name.
func identChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// out returns the result r with every object and array that in made
// replaced by the value it was made from; objects and arrays the
// expression made are changed in place to hold those values. Each is
// walked once, however often the result holds it.
func (o *ordering) out(r any) any {
	seen := map[any]bool{}
	var walk func(v any) (any, bool)
	walk = func(v any) (any, bool) {
		switch x := v.(type) {
		case orderedMap:
			if orig, ok := o.back[x]; ok {
				return orig, true
			}
			if !seen[x] {
				seen[x] = true
				for _, k := range x.Keys() {
					e, _ := x.Get(k)
					if w, changed := walk(e); changed {
						x.Set(k, w)
					}
				}
			}
		case []any:
			id, ok := IdentityOf(x)
			if !ok {
				break
			}
			if orig, ok := o.back[id]; ok {
				return orig, true
			}
			if !seen[id] {
				seen[id] = true
				for i, e := range x {
					if w, changed := walk(e); changed {
						x[i] = w
					}
				}
			}
		}
		return v, false
	}
	v, _ := walk(r)
	return v
}
