package asl

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// pathBudget bounds the work of an indefinite path: the nodes its
// segments are applied to (a descendant segment's with every node under
// them) and the nodes they select, together. A path over it fails. Its
// cost can grow with the input's size to the power of its descendant
// segments, and with the selectors of a union to the power of its
// segments (`$[0,0,0][0,0,0]...` on a tiny input). Filters are counted by
// the nodes they are applied to and select, and by the work of the
// queries of their existence tests (`$.a[?($..b)]` walks the whole input
// for each item of a). A comparison or function call counts as one unit,
// whatever the size of the values it reads: comparing two large objects,
// or matching a long string, for each item a filter tests is bounded in
// time instead (pathTimeout). Its queries must be singular (names and
// indexes): one that is not (a descendant segment, a wildcard, slice,
// union or filter, which only a function's argument may hold) is refused
// when the path is compiled.
var pathBudget = 1_000_000

// pathTimeout bounds the time the comparisons and function calls of an
// indefinite path's filters take, together, as jsonataTimeout bounds a
// JSONata evaluation (with the same evalContext): their work grows with
// the size of the values they read, which the budget does not count. The
// scope's context (the execution's stop, the runtime's shutdown) ends
// them too.
var pathTimeout = 10 * time.Second

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
	// filters are the filters of lib, which selectBounded evaluates
	// itself; nil when it has none.
	filters map[*spec.FilterSelector]filterExpr
	length  bool // a trailing .length()
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
		filters := map[*spec.FilterSelector]filterExpr{}
		if err := compileFilters(q.Query(), filters); err != nil {
			return nil, fmt.Errorf("path %q: %w", src, err)
		}
		if len(filters) > 0 {
			p.filters = filters
		}
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
	return scanUnquoted(s, func(i, depth int) bool { return s[i] == ']' && depth == 0 })
}

// scanUnquoted returns the index of the first byte of s outside quoted
// names and strings ('...' or "...", with backslash escapes) for which
// stop is true, or -1. depth is the nesting of brackets after that byte.
func scanUnquoted(s string, stop func(i, depth int) bool) int {
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
			continue
		case c == '\'' || c == '"':
			quote = c
			continue
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		if stop(i, depth) {
			return i
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
		list, ok, ended := p.selectBounded(sc.ctx(), root)
		switch {
		case !ok && ended != nil:
			sc.err = Errorf(ErrRuntime, "The JSONPath '%s' was not evaluated: %v.", p.src, ended)
			return nil, false
		case !ok:
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
// makes a deep input cost its depth squared. It evaluates filters itself
// too (p.filters), so that the queries of their existence tests count,
// and ends their comparisons and function calls after pathTimeout or with
// ctx: ended then says why.
func (p *Path) selectBounded(ctx context.Context, v any) (list []any, ok bool, ended error) {
	w := pathWalk{filters: p.filters, root: v, ctx: &evalContext{Context: ctx, limit: pathTimeout}}
	defer w.ctx.release()
	list, ok = w.segments(p.lib.Query().Segments(), v)
	return list, ok, w.ended
}

// pathWalk is one evaluation of an indefinite path: its root value, the
// work done so far, and what ends it early besides the budget.
type pathWalk struct {
	filters map[*spec.FilterSelector]filterExpr
	root    any
	work    int
	// ctx times the comparisons and function calls of the filters;
	// ended says why the walk was cut short in time (pathTimeout, the
	// context), when it was.
	ctx   *evalContext
	ended error
}

// tick is called before each comparison or function call of a filter:
// it sets w.ended and returns false once pathTimeout has passed, or the
// walk's context has ended.
func (w *pathWalk) tick() bool {
	if w.ctx.Err() == nil {
		return true
	}
	if err := w.ctx.Context.Err(); err != nil {
		w.ended = fmt.Errorf("the evaluation was interrupted (%v)", context.Cause(w.ctx.Context))
	} else if w.ctx.waited {
		w.ended = fmt.Errorf("its filters took longer than %v, the most a path may take, most of it waiting for their turn while other long evaluations ran", pathTimeout)
	} else {
		w.ended = fmt.Errorf("its filters took longer than %v, the most a path may take", pathTimeout)
	}
	return false
}

// segments selects what segs select from start, as a query does.
func (w *pathWalk) segments(segs []*spec.Segment, start any) ([]any, bool) {
	res := []any{start}
	for _, sg := range segs {
		next := make([]any, 0, len(res))
		for _, x := range res {
			ok := false
			if sg.IsDescendant() {
				ok = w.descend(x, sg.Selectors(), &next)
			} else {
				w.work++
				ok = w.selectors(x, sg.Selectors(), &next)
			}
			if !ok {
				return nil, false
			}
		}
		res = next
	}
	return res, true
}

// selectors appends to *out what sels select from x, in order, and adds
// the nodes selected to the work done; false when it passes pathBudget.
func (w *pathWalk) selectors(x any, sels []spec.Selector, out *[]any) bool {
	for _, sel := range sels {
		if f, ok := sel.(*spec.FilterSelector); ok && w.filters != nil {
			if !w.filter(w.filters[f], x, out) {
				return false
			}
			continue
		}
		if _, ok := sel.(spec.WildcardSelector); ok {
			// The library's wildcard takes an object's members in Go's
			// map order, a different one at each run.
			n := len(*out)
			eachChild(x, func(e any) bool { *out = append(*out, e); return true })
			w.work += len(*out) - n
			continue
		}
		r := sel.Select(x, w.root)
		w.work += len(r)
		*out = append(*out, r...)
	}
	return w.work <= pathBudget
}

// descend appends to *out what sels select from x and from every node
// under x, in eachChild's order (x first), and adds the nodes visited and
// selected to the work done; it stops, returning false, when that passes
// pathBudget.
func (w *pathWalk) descend(x any, sels []spec.Selector, out *[]any) bool {
	w.work++
	return w.selectors(x, sels, out) && eachChild(x, func(e any) bool { return w.descend(e, sels, out) })
}

// eachChild calls f on each child of x (the items of an array in their
// order, the member values of an object in the order of their names, the
// order its objects are encoded in) until f returns false, and reports
// whether none did. A path's wildcards, filters and descendant segments
// take an object's members in this order: the same at every run. (AWS
// takes them in the order of the input's text, which a Go map does not
// keep; Go's map order would differ from run to run.)
func eachChild(x any, f func(any) bool) bool {
	switch c := x.(type) {
	case []any:
		for _, e := range c {
			if !f(e) {
				return false
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(c) {
			if !f(c[k]) {
				return false
			}
		}
	}
	return true
}

// filter appends to *out the children of x (the items of an array, the
// member values of an object) that f holds true for, as a
// spec.FilterSelector's Select does. Each child tested and selected
// counts, and so does the work of the queries f runs on it.
func (w *pathWalk) filter(f filterExpr, x any, out *[]any) bool {
	return eachChild(x, func(e any) bool {
		w.work++
		pass, ok := w.test(f, e)
		if ok && pass {
			w.work++
			*out = append(*out, e)
		}
		return ok && w.work <= pathBudget
	})
}

// test evaluates f on node, as jsonpath does (from the left, and no
// further than the result is known); ok is false when the work passes
// pathBudget.
func (w *pathWalk) test(f filterExpr, node any) (pass, ok bool) {
	for _, and := range f {
		pass = true
		for _, t := range and {
			if pass, ok = w.term(t, node); !ok {
				return false, false
			}
			if !pass {
				break
			}
		}
		if pass {
			return true, true
		}
	}
	return false, true
}

// term evaluates one basic expression of a filter on node.
func (w *pathWalk) term(t filterTerm, node any) (pass, ok bool) {
	switch {
	case t.query != nil:
		start := node
		if t.absolute {
			start = w.root
		}
		list, ok := w.segments(t.query.Segments(), start)
		if !ok {
			return false, false
		}
		pass = len(list) > 0
	case t.sub != nil:
		if pass, ok = w.test(t.sub, node); !ok {
			return false, false
		}
	default:
		w.work++
		if !w.tick() {
			return false, false
		}
		pass = t.lib.Eval(node, w.root)
	}
	return pass != t.not, true
}

// filterExpr is a filter's logical expression as pathWalk evaluates it:
// an or of ands of terms.
type filterExpr [][]filterTerm

// filterTerm is one basic expression of a filter: an existence test of
// query (from the root when absolute), a parenthesized expression sub,
// or an expression jsonpath evaluates on the node (lib: a comparison, a
// function), negated when not is set.
type filterTerm struct {
	not      bool
	query    *spec.PathQuery
	absolute bool
	sub      filterExpr
	lib      *spec.FilterSelector
}

// compileFilters adds to filters the filters of q's segments and of the
// queries of their existence tests. A query other than a singular one
// (names and indexes only) in a term that jsonpath evaluates (a
// function's argument: count() and value() take any query) is an error:
// jsonpath evaluates it on each node the filter tests, and its work could
// not be counted. The library keeps a function's arguments unexported and
// evaluates them itself, and its registry cannot replace count() or
// value(), so the walk cannot evaluate them in its stead.
func compileFilters(q *spec.PathQuery, filters map[*spec.FilterSelector]filterExpr) error {
	for _, sg := range q.Segments() {
		for _, sel := range sg.Selectors() {
			if f, ok := sel.(*spec.FilterSelector); ok {
				e, err := compileFilterExpr(f.LogicalOr, filters)
				if err != nil {
					return err
				}
				filters[f] = e
			}
		}
	}
	return nil
}

func compileFilterExpr(or spec.LogicalOr, filters map[*spec.FilterSelector]filterExpr) (filterExpr, error) {
	out := make(filterExpr, 0, len(or))
	for _, and := range or {
		terms := make([]filterTerm, 0, len(and))
		for _, b := range and {
			var (
				t   filterTerm
				err error
			)
			switch x := b.(type) {
			case *spec.ExistExpr:
				t, err = existenceTerm(x.PathQuery, false, filters)
			case *spec.NonExistExpr:
				t, err = existenceTerm(x.PathQuery, true, filters)
			case *spec.ParenExpr:
				t.sub, err = compileFilterExpr(x.LogicalOr, filters)
			case *spec.NotParenExpr:
				t.sub, err = compileFilterExpr(x.LogicalOr, filters)
				t.not = true
			default:
				if hasDescendant(b.String()) {
					return nil, fmt.Errorf("a descendant segment (..) in the filter expression %s is not supported: "+
						"only an existence test (such as @..name) may hold one, whose work counts against the path's budget", b)
				}
				if hasNonSingular(b.String()) {
					return nil, fmt.Errorf("a query that may select more than one node (a wildcard, slice, union or filter) "+
						"in the filter expression %s is not supported: only an existence test (such as @.x[*]) may hold one, "+
						"whose work counts against the path's budget", b)
				}
				t.lib = spec.Filter(spec.And(b))
			}
			if err != nil {
				return nil, err
			}
			terms = append(terms, t)
		}
		out = append(out, terms)
	}
	return out, nil
}

// existenceTerm returns the term testing that q selects something (or
// nothing, with not).
func existenceTerm(q *spec.PathQuery, not bool, filters map[*spec.FilterSelector]filterExpr) (filterTerm, error) {
	if err := compileFilters(q, filters); err != nil {
		return filterTerm{}, err
	}
	return filterTerm{query: q, not: not, absolute: strings.HasPrefix(q.String(), "$")}, nil
}

// hasDescendant reports whether the text of a filter expression, as
// jsonpath writes it, holds a descendant segment: two dots outside its
// quoted names and strings.
func hasDescendant(s string) bool {
	return scanUnquoted(s, func(i, _ int) bool { return s[i] == '.' && i+1 < len(s) && s[i+1] == '.' }) >= 0
}

// hasNonSingular reports whether the text of a filter expression, as
// jsonpath writes it, holds a query that may select more than one node:
// a wildcard (*), a slice (:), a filter (?) or a union (a comma between
// brackets), outside its quoted names and strings. jsonpath writes every
// selector between brackets and allows none of these characters elsewhere
// in a comparison or a function call (a comma outside brackets separates
// a function's arguments).
func hasNonSingular(s string) bool {
	return scanUnquoted(s, func(i, depth int) bool {
		c := s[i]
		return c == '*' || c == ':' || c == '?' || c == ',' && depth > 0
	}) >= 0
}

// evalOn selects a definite path's value from v, ignoring the root kind
// (Eval walks an indefinite one).
func (p *Path) evalOn(v any) (any, bool) {
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
