package asl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// pathBudget bounds the work of an indefinite path: the nodes its
// segments are applied to (a descendant segment's with every node under
// them) and the nodes they select, together. A path over it fails. Its
// cost can grow with the input's size to the power of its descendant
// segments, and with the selectors of a union to the power of its
// segments (`$[0,0,0][0,0,0]...` on a tiny input). Filters are counted by
// the nodes they are applied to and select, not by the queries inside
// them.
var pathBudget = 1_000_000

// rootKind says what a path starts from.
type rootKind uint8

const (
	rootInput   rootKind = iota // $
	rootContext                 // $$
	rootVar                     // $name
)

// seg is one step of a simple path: a member name or an array index.
type seg struct {
	name  string
	index int
	isIdx bool
}

// Path is a compiled JSONPath in AWS's dialect (Jayway-like): `$` the
// input, `$$` the context object, `$name` a variable; dot and bracket
// member names, indexes, and (through github.com/theory/jsonpath) wildcards,
// slices, unions, filters and descendants. A path with only names and
// indexes is definite and selects one value; any other path selects a list.
type Path struct {
	src     string
	root    rootKind
	varName string
	segs    []seg
	lib     *jsonpath.Path // set for indefinite paths
	length  bool           // a trailing .length()
	// ctxNames are the member names of a $$ path of member names only
	// ($$.Execution.Id: Execution, Id), for Scope.ContextValue.
	ctxNames []string
}

// String returns the path as written.
func (p *Path) String() string { return p.src }

// Definite reports whether the path selects at most one value.
func (p *Path) Definite() bool { return p.lib == nil }

// IsRoot reports whether the path is exactly "$".
func (p *Path) IsRoot() bool {
	return p.root == rootInput && len(p.segs) == 0 && p.lib == nil && !p.length
}

// IsReference reports whether the path is a reference path (only names
// and indexes, from $), as ResultPath requires.
func (p *Path) IsReference() bool { return p.root == rootInput && p.lib == nil && !p.length }

// CompilePath compiles a JSONPath of AWS's dialect. Its errors speak of
// the path's text, without a package prefix: validation shows them to the
// definition's author as they are.
func CompilePath(src string) (*Path, error) {
	p := &Path{src: src}
	s := strings.TrimSpace(src)
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q: must start with '$'", src)
	}
	rest := s[1:]
	switch {
	case strings.HasPrefix(rest, "$"):
		p.root = rootContext
		rest = rest[1:]
	case rest != "" && isNameStart(rest[0]):
		i := 0
		for i < len(rest) && isNameChar(rest[i]) {
			i++
		}
		p.root, p.varName, rest = rootVar, rest[:i], rest[i:]
	}
	if strings.HasSuffix(rest, ".length()") {
		p.length = true
		rest = strings.TrimSuffix(rest, ".length()")
	}
	var rfc strings.Builder
	rfc.WriteString("$")
	simple := true
	for len(rest) > 0 {
		switch {
		case strings.HasPrefix(rest, ".."):
			simple = false
			rfc.WriteString("..")
			rest = rest[2:]
			if len(rest) > 0 && rest[0] != '[' && rest[0] != '*' {
				name, r := readDotName(rest)
				rfc.WriteString("[" + quoteName(name) + "]")
				rest = r
			} else if len(rest) > 0 && rest[0] == '*' {
				rfc.WriteString("*")
				rest = rest[1:]
			}
		case rest[0] == '.':
			rest = rest[1:]
			if rest == "" {
				return nil, fmt.Errorf("path %q: ends with '.'", src)
			}
			if rest[0] == '*' {
				simple = false
				rfc.WriteString(".*")
				rest = rest[1:]
				continue
			}
			if rest[0] == '[' {
				continue // $.a.['b'] is $.a['b'], as in Jayway
			}
			name, r := readDotName(rest)
			if name == "" {
				return nil, fmt.Errorf("path %q: empty member name", src)
			}
			p.segs = append(p.segs, seg{name: name})
			rfc.WriteString("[" + quoteName(name) + "]")
			rest = r
		case rest[0] == '[':
			end := matchBracket(rest)
			if end < 0 {
				return nil, fmt.Errorf("path %q: unbalanced '['", src)
			}
			inner := strings.TrimSpace(rest[1:end])
			rest = rest[end+1:]
			if name, ok := unquote(inner); ok {
				p.segs = append(p.segs, seg{name: name})
				rfc.WriteString("[" + quoteName(name) + "]")
				continue
			}
			if n, err := strconv.Atoi(inner); err == nil {
				p.segs = append(p.segs, seg{index: n, isIdx: true})
				rfc.WriteString("[" + inner + "]")
				continue
			}
			simple = false
			rfc.WriteString("[" + inner + "]")
		default:
			return nil, fmt.Errorf("path %q: unexpected %q", src, rest)
		}
	}
	if !simple {
		q, err := jsonpath.Parse(rfc.String())
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", src, err)
		}
		p.lib, p.segs = q, nil
	}
	if p.root == rootContext && p.lib == nil && !p.length && len(p.segs) > 0 {
		for _, sg := range p.segs {
			if sg.isIdx {
				p.ctxNames = nil
				break
			}
			p.ctxNames = append(p.ctxNames, sg.name)
		}
	}
	return p, nil
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// readDotName reads a member name after '.': everything up to the next
// '.' or '['.
func readDotName(s string) (string, string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// matchBracket returns the index of the ']' closing s[0] == '[', skipping
// quoted strings and nested brackets.
func matchBracket(s string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// unquote reads a single quoted member name ('a' or "a").
func unquote(s string) (string, bool) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", false
	}
	body := s[1 : len(s)-1]
	if strings.ContainsRune(body, rune(s[0])) && !strings.Contains(body, "\\") {
		return "", false // a union such as 'a','b'
	}
	return strings.ReplaceAll(strings.ReplaceAll(body, "\\"+string(s[0]), string(s[0])), `\\`, `\`), true
}

func quoteName(name string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(name, `\`, `\\`), "'", `\'`) + "'"
}

// rootValue returns the value the path starts from.
func (p *Path) rootValue(sc *Scope) (any, bool) {
	switch p.root {
	case rootContext:
		c := sc.ContextObject()
		if c == nil {
			return nil, false
		}
		return c, true
	case rootVar:
		if sc.Vars == nil {
			return nil, false
		}
		return sc.Vars.Lookup(p.varName)
	}
	return sc.Input, true
}

// Eval selects the path's value. found is false when a definite path
// selects nothing (an indefinite path then yields an empty list), and
// when the path cannot be evaluated to its end: sc.Err then says why.
func (p *Path) Eval(sc *Scope) (v any, found bool) {
	if p.ctxNames != nil && sc.Context == nil && sc.ContextValue != nil {
		if v, ok := sc.ContextValue(p.ctxNames); ok {
			return v, true
		}
	}
	root, ok := p.rootValue(sc)
	if !ok {
		return nil, false
	}
	if p.lib != nil {
		sc.err = nil
		list, ok := p.selectBounded(root)
		if !ok {
			sc.err = Errorf(ErrRuntime, "The JSONPath '%s' needs more than %d node visits, the most a path may take.", p.src, pathBudget)
			return nil, false
		}
		if p.length {
			return float64(len(list)), true
		}
		return list, true
	}
	return p.evalOn(root)
}

// selectBounded selects the nodes of an indefinite path from v segment
// by segment, as jsonpath's Select does, counting its work against
// pathBudget; ok is false when the work would exceed it. It walks the
// nodes under a descendant segment itself, in the same order: jsonpath's
// walk copies each node's selections once per level above it, which
// makes a deep input cost its depth squared.
func (p *Path) selectBounded(v any) (list []any, ok bool) {
	res := []any{v}
	work := 0
	for _, sg := range p.lib.Query().Segments() {
		next := make([]any, 0, len(res))
		for _, x := range res {
			if sg.IsDescendant() {
				if !descend(x, v, sg.Selectors(), &next, &work) {
					return nil, false
				}
				continue
			}
			sel := sg.Select(x, v)
			if work += 1 + len(sel); work > pathBudget {
				return nil, false
			}
			next = append(next, sel...)
		}
		res = next
	}
	return res, true
}

// descend appends to *out what sels select from x and from every node
// under x, in document order (x first), and adds the nodes visited and
// selected to *work; it stops, returning false, when *work passes
// pathBudget.
func descend(x, root any, sels []spec.Selector, out *[]any, work *int) bool {
	*work++
	for _, sel := range sels {
		r := sel.Select(x, root)
		*work += len(r)
		*out = append(*out, r...)
	}
	if *work > pathBudget {
		return false
	}
	switch c := x.(type) {
	case []any:
		for _, e := range c {
			if !descend(e, root, sels, out, work) {
				return false
			}
		}
	case map[string]any:
		for _, e := range c {
			if !descend(e, root, sels, out, work) {
				return false
			}
		}
	}
	return true
}

// evalOn selects the path's value from v, ignoring the root kind.
func (p *Path) evalOn(v any) (any, bool) {
	if p.lib != nil {
		list := []any(p.lib.Select(v))
		if list == nil {
			list = []any{}
		}
		if p.length {
			return float64(len(list)), true
		}
		return list, true
	}
	for _, s := range p.segs {
		if s.isIdx {
			a, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := s.index
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, false
			}
			v = a[i]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.name]; !ok {
			return nil, false
		}
	}
	if p.length {
		switch x := v.(type) {
		case []any:
			return float64(len(x)), true
		case string:
			return float64(len(x)), true
		case map[string]any:
			return float64(len(x)), true
		}
		return nil, false
	}
	return v, true
}

// Set returns a copy of root with the path's location set to v, creating
// objects on the way, for ResultPath. Only the maps and arrays on the way
// are copied: values are shared, never modified.
func (p *Path) Set(root, v any) (any, error) {
	if !p.IsReference() {
		return nil, fmt.Errorf("path %q is not a reference path", p.src)
	}
	return setSegs(root, p.segs, v, p.src)
}

func setSegs(cur any, segs []seg, v any, src string) (any, error) {
	if len(segs) == 0 {
		return v, nil
	}
	s := segs[0]
	if s.isIdx {
		a, ok := cur.([]any)
		if !ok || s.index < 0 || s.index >= len(a) {
			return nil, fmt.Errorf("unable to set %s", src)
		}
		child, err := setSegs(a[s.index], segs[1:], v, src)
		if err != nil {
			return nil, err
		}
		out := append([]any(nil), a...)
		out[s.index] = child
		return out, nil
	}
	var m map[string]any
	switch x := cur.(type) {
	case map[string]any:
		m = x
	case nil:
		m = nil
	default:
		return nil, fmt.Errorf("unable to set %s: not an object", src)
	}
	child, err := setSegs(m[s.name], segs[1:], v, src)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[s.name] = child
	return out, nil
}

// NormalizedString returns the path in the bracket notation AWS uses in
// "No results for path" messages, e.g. $['a']['b'][0].
func (p *Path) NormalizedString() string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range p.segs {
		if s.isIdx {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		} else {
			b.WriteString("['" + s.name + "']")
		}
	}
	return b.String()
}
