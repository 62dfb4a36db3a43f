package monitor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/theory/jsonpath"
)

// ParseStatusPath parses an HTTP target's statusPath: an RFC 9535 JSONPath
// whose evaluation costs time linear in the answer's size and the path's
// length. RFC 9535 itself allows paths that cost far more: descendant
// segments in a filter under a descendant segment ($..[?@..[?@..*]]: a
// minute for 800 bytes of nested arrays, hours for 2 KB), several
// selectors in one bracket, which repeat each other's nodes at every
// segment ($[*,*][*,*]…: 2^n nodes), and match() and search(), which
// compile their pattern for every node. Evaluation cannot be stopped once
// it runs, so those are refused here, before a monitor starts: at most one
// descendant segment, at most one filter, neither a descendant segment,
// another filter nor a query from the root that may name more than one
// value ($[?$[*]]: the whole answer again for every node) inside it (one
// that names a single value, $[?@.id==$.current], is allowed, but not
// compared with another ($[?$.a==$.b] compares two values of any size
// again at every node) nor as a function's argument (length($.s) counts
// a string of any length at every node)), one selector per bracket, and no
// match() or search().
func ParseStatusPath(expr string) (*jsonpath.Path, error) {
	p, err := jsonpath.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("parse status path: %w", err)
	}
	// The restrictions hold on the text and on the library's rendering of
	// what it parsed: github.com/theory/jsonpath reads "!count" and any
	// token after it as a call, so "$[?!count)$..*)]" is a filter whose
	// text seems to close before "$..*".
	for _, text := range []string{expr, p.String()} {
		if err := linearPath(text); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// linearPath applies ParseStatusPath's restrictions to a path that parsed,
// reading it outside its string literals.
func linearPath(expr string) error {
	type bracket struct {
		open   rune // '[' or '('
		filter bool
		call   bool // '(' of a function's arguments
	}
	var (
		stack       []bracket
		descendants int
		filters     int
	)
	inFilter := func() bool {
		for _, b := range stack {
			if b.filter {
				return true
			}
		}
		return false
	}
	rs := []rune(expr)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\'' || r == '"':
			i = skipLiteral(rs, i) - 1
		case r == '$' && inFilter():
			// The value a query from the root names is the same for every
			// node, but the filter reads it again at each: what it does
			// with it must not cost the value's size.
			if b := stack[len(stack)-1]; b.call {
				return errors.New("a query from the root ($) inside a filter cannot be a function's argument (length($.a)): the function reads the whole value again for every node")
			}
			end, ok := singularQuery(rs, i+1)
			if !ok {
				return errors.New("a query from the root ($) inside a filter must name one value ($.a.b, $['a'][0]): another reads the whole answer again for every node")
			}
			if j := comparedWith(rs, end); j < len(rs) && rs[j] == '$' {
				return errors.New("two queries from the root ($.a == $.b) cannot be compared inside a filter: the comparison reads both values again for every node; compare one with @")
			}
			i = end - 1
		case r == '.' && i+1 < len(rs) && rs[i+1] == '.':
			if inFilter() {
				return errors.New("a descendant segment (..) inside a filter is not supported")
			}
			if descendants++; descendants > 1 {
				return errors.New("at most one descendant segment (..) is supported")
			}
			i++
		case r == '[' || r == '(':
			b := bracket{open: r, call: r == '(' && functionName(rs, backToName(rs, i)) != ""}
			if r == '[' {
				if j := skipSpace(rs, i+1); j < len(rs) && rs[j] == '?' {
					if inFilter() {
						return errors.New("a filter inside a filter is not supported")
					}
					if filters++; filters > 1 {
						return errors.New("at most one filter ([?…]) is supported")
					}
					b.filter = true
				}
			}
			stack = append(stack, b)
		case r == ']' || r == ')':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case r == ',':
			if len(stack) > 0 && stack[len(stack)-1].open == '[' {
				return errors.New("one selector per bracket: [a,b] is not supported")
			}
		default:
			if name := functionName(rs, i); name == "match" || name == "search" {
				return fmt.Errorf("the %s() function is not supported", name)
			}
		}
	}
	return nil
}

// singularQuery reads the segments of a query from the root that start at
// rs[i]: names and indexes only, each naming one value ($.a, $['a'],
// $[0]). It returns where they end and false at a segment that may name
// more (a wildcard, a slice, a filter, several selectors).
func singularQuery(rs []rune, i int) (end int, ok bool) {
	isName := func(r rune) bool { return r == '-' || r > 0x7f || isIdentRune(r) }
	for i < len(rs) {
		// RFC 9535 allows blanks before a segment: "$ [*]", "$.a .b".
		if j := skipSpace(rs, i); j < len(rs) && (rs[j] == '.' || rs[j] == '[') {
			i = j
		}
		switch rs[i] {
		case '.':
			if i+1 >= len(rs) || !isName(rs[i+1]) {
				return i, false // .* or ..
			}
			for i++; i < len(rs) && isName(rs[i]); i++ {
			}
		case '[':
			i = skipSpace(rs, i+1)
			switch {
			case i < len(rs) && (rs[i] == '\'' || rs[i] == '"'):
				i = skipLiteral(rs, i)
			case i < len(rs) && (rs[i] == '-' || unicode.IsDigit(rs[i])):
				for i++; i < len(rs) && unicode.IsDigit(rs[i]); i++ {
				}
			default:
				return i, false // *, ?, a slice
			}
			if i = skipSpace(rs, i); i >= len(rs) || rs[i] != ']' {
				return i, false // several selectors, a slice
			}
			i++
		default:
			return i, true
		}
	}
	return i, true
}

// comparedWith returns the index of what a comparison operator after
// rs[i] (blanks allowed around it) compares with, or len(rs) when no
// operator follows.
func comparedWith(rs []rune, i int) int {
	i = skipSpace(rs, i)
	if i >= len(rs) {
		return len(rs)
	}
	switch op := string(rs[i:min(i+2, len(rs))]); {
	case op == "==" || op == "!=" || op == "<=" || op == ">=":
		i += 2
	case rs[i] == '<' || rs[i] == '>':
		i++
	default:
		return len(rs)
	}
	return skipSpace(rs, i)
}

// backToName returns where the identifier that ends just before rs[i]
// begins (i when none does).
func backToName(rs []rune, i int) int {
	for i > 0 && isIdentRune(rs[i-1]) {
		i--
	}
	return i
}

// functionName returns the name of the function called at rs[i] (an
// identifier directly followed by '('), or "" when i does not start one.
func functionName(rs []rune, i int) string {
	if i > 0 && isIdentRune(rs[i-1]) {
		return ""
	}
	j := i
	for j < len(rs) && isIdentRune(rs[j]) {
		j++
	}
	if j == i || j >= len(rs) || rs[j] != '(' {
		return ""
	}
	return string(rs[i:j])
}

// skipLiteral returns the index just past the string literal that opens
// at rs[i] (a backslash escapes the next rune).
func skipLiteral(rs []rune, i int) int {
	q := rs[i]
	for i++; i < len(rs) && rs[i] != q; i++ {
		if rs[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipSpace returns the index of the first rune at or after rs[i] that is
// not blank.
func skipSpace(rs []rune, i int) int {
	for i < len(rs) && unicode.IsSpace(rs[i]) {
		i++
	}
	return i
}

// isIdentRune reports whether r may be part of a function's name.
func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// StatusNumber returns the canonical text of s when s is a JSON number
// (RFC 8259: no sign +, no leading zeros, no blanks): two numbers have the
// same canonical text exactly when they are equal, however written (2,
// 2.0, 2e0 and 20E-1 are all "2e0"; 0 and -0 are "0"). An HTTP job's
// number status matches a list value that is an equal number. ok is false
// for any other text, and for a number whose exponent has more than 15
// digits, which compares as written.
func StatusNumber(s string) (canonical string, ok bool) {
	digitsAt := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		i, neg = i+1, true
	}
	start := i
	if i < len(s) && s[i] == '0' {
		i++
	} else {
		i = digitsAt(i)
	}
	if i == start {
		return "", false
	}
	intPart, frac := s[start:i], ""
	if i < len(s) && s[i] == '.' {
		end := digitsAt(i + 1)
		if end == i+1 {
			return "", false
		}
		frac, i = s[i+1:end], end
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i, expNeg = i+1, s[i] == '-'
		}
		end := digitsAt(i)
		if end == i {
			return "", false
		}
		digits := strings.TrimLeft(s[i:end], "0")
		if len(digits) > 15 {
			return "", false
		}
		if digits != "" {
			exp, _ = strconv.ParseInt(digits, 10, 64)
		}
		if expNeg {
			exp = -exp
		}
		i = end
	}
	if i != len(s) {
		return "", false
	}
	// The value is intPart.frac × 10^exp: as digits without leading or
	// trailing zeros × 10^exp.
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", true
	}
	exp -= int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + trimmed + "e" + strconv.FormatInt(exp, 10), true
}
