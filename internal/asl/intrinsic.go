package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"math"
	"math/big"
	"math/bits"
	mrand "math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Intrinsic is a compiled intrinsic function call such as
// States.Format('{} items', $.count).
type Intrinsic struct {
	src  string
	name string
	args []intrinsicArg
	fn   intrinsicFunc
}

// intrinsicArg is a literal, a path or a nested call.
type intrinsicArg struct {
	lit  any
	path *Path
	call *Intrinsic
	// fmtLit is a string literal with \{, \} and \\ kept escaped, for
	// the template of States.Format, which reads \ as an escape: an
	// escaped brace is literal, an unescaped {} a placeholder.
	fmtLit string
	isStr  bool
}

type intrinsicFunc struct {
	min, max int // argument count; max < 0: unbounded
	call     func(args []any) (any, error)
}

var intrinsics map[string]intrinsicFunc

func init() {
	intrinsics = map[string]intrinsicFunc{
		"States.Format":         {1, -1, fnFormat},
		"States.StringToJson":   {1, 1, fnStringToJSON},
		"States.JsonToString":   {1, 1, fnJSONToString},
		"States.Array":          {0, -1, fnArray},
		"States.ArrayPartition": {2, 2, fnArrayPartition},
		"States.ArrayContains":  {2, 2, fnArrayContains},
		"States.ArrayRange":     {3, 3, fnArrayRange},
		"States.ArrayGetItem":   {2, 2, fnArrayGetItem},
		"States.ArrayLength":    {1, 1, fnArrayLength},
		"States.ArrayUnique":    {1, 1, fnArrayUnique},
		"States.Base64Encode":   {1, 1, fnBase64Encode},
		"States.Base64Decode":   {1, 1, fnBase64Decode},
		"States.Hash":           {2, 2, fnHash},
		"States.JsonMerge":      {3, 3, fnJSONMerge},
		"States.MathRandom":     {2, 3, fnMathRandom},
		"States.MathAdd":        {2, 2, fnMathAdd},
		"States.StringSplit":    {2, 2, fnStringSplit},
		"States.UUID":           {0, 0, func([]any) (any, error) { return NewUUID(), nil }},
	}
}

// isIntrinsic reports whether s looks like an intrinsic function call.
func isIntrinsic(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "States.") && strings.HasSuffix(s, ")")
}

// CompileIntrinsic parses an intrinsic function call.
func CompileIntrinsic(src string) (*Intrinsic, error) {
	p := &intrinsicParser{s: src}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %w", src, err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic %q: unexpected %q", src, p.s[p.i:])
	}
	call.src = src
	return call, nil
}

type intrinsicParser struct {
	s     string
	i     int
	depth int // calls open at p.i
}

// maxIntrinsicDepth is how deep AWS lets intrinsic calls nest in a field.
const maxIntrinsicDepth = 10

func (p *intrinsicParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *intrinsicParser) call() (*Intrinsic, error) {
	if p.depth == maxIntrinsicDepth {
		return nil, fmt.Errorf("more than %d nested intrinsic functions", maxIntrinsicDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '(' {
		p.i++
	}
	if p.i == len(p.s) {
		return nil, fmt.Errorf("expected '('")
	}
	name := strings.TrimSpace(p.s[start:p.i])
	fn, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	p.i++ // (
	c := &Intrinsic{name: name, fn: fn}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			arg, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, arg)
			p.skipSpace()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("missing ')'")
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			return nil, fmt.Errorf("unexpected %q", p.s[p.i:])
		}
	}
	if len(c.args) < fn.min || fn.max >= 0 && len(c.args) > fn.max {
		return nil, fmt.Errorf("%s takes %s arguments, got %d", name, arity(fn), len(c.args))
	}
	return c, nil
}

func arity(fn intrinsicFunc) string {
	switch {
	case fn.max < 0:
		return fmt.Sprintf("at least %d", fn.min)
	case fn.min == fn.max:
		return strconv.Itoa(fn.min)
	}
	return fmt.Sprintf("%d to %d", fn.min, fn.max)
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		var b, f strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				n := p.s[p.i+1]
				if n != '\'' && n != '{' && n != '}' && n != '\\' {
					// Only the reserved characters ' { } \ are escaped.
					r, _ := utf8.DecodeRuneInString(p.s[p.i+1:])
					return intrinsicArg{}, fmt.Errorf("invalid escape %q in a string: only \\', \\{, \\} and \\\\ are escapes", `\`+string(r))
				}
				b.WriteByte(n)
				if n == '{' || n == '}' || n == '\\' {
					f.WriteByte('\\')
				}
				f.WriteByte(n)
				p.i += 2
				continue
			}
			if c == '\'' {
				p.i++
				return intrinsicArg{lit: b.String(), fmtLit: f.String(), isStr: true}, nil
			}
			b.WriteByte(c)
			f.WriteByte(c)
			p.i++
		}
		return intrinsicArg{}, fmt.Errorf("unterminated string")
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{call: c}, nil
	case rest[0] == '$':
		end := p.argEnd()
		path, err := CompilePath(strings.TrimSpace(p.s[p.i:end]))
		if err != nil {
			return intrinsicArg{}, err
		}
		p.i = end
		return intrinsicArg{path: path}, nil
	}
	end := p.argEnd()
	tok := strings.TrimSpace(p.s[p.i:end])
	p.i = end
	switch tok {
	case "true":
		return intrinsicArg{lit: true}, nil
	case "false":
		return intrinsicArg{lit: false}, nil
	case "null":
		return intrinsicArg{lit: nil}, nil
	}
	f, ok := parseNumber(tok)
	if !ok {
		return intrinsicArg{}, fmt.Errorf("invalid argument %q", tok)
	}
	return intrinsicArg{lit: f}, nil
}

// argEnd finds the end of a path or literal argument: the next ',' or ')'
// at bracket depth 0, outside quotes.
func (p *intrinsicParser) argEnd() int {
	depth := 0
	var quote byte
	for j := p.i; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case quote != 0:
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']':
			depth--
		case c == ')':
			if depth == 0 {
				return j
			}
			depth--
		case c == ',' && depth == 0:
			return j
		}
	}
	return len(p.s)
}

// Eval evaluates the call. Failures are *Error values named
// States.Runtime (a path that selects nothing) or States.IntrinsicFailure.
func (c *Intrinsic) Eval(sc *Scope) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.Eval(sc)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.path != nil:
			v, ok := a.path.Eval(sc)
			if !ok {
				if e := sc.Err(); e != nil {
					return nil, e
				}
				return nil, Errorf(ErrRuntime, "The JSONPath %s specified for the field %s could not be found in the input", a.path.src, c.name)
			}
			args[i] = v
		case a.isStr && i == 0 && c.name == "States.Format":
			args[i] = a.fmtLit
		default:
			args[i] = a.lit
		}
	}
	v, err := c.fn.call(args)
	if err == nil && exceedsBytes(v, maxIntrinsicBytes) {
		err = errTooLarge
	}
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, e
		}
		if err == errTooLarge {
			return nil, Errorf(ErrDataLimitExceeded, "The result of %s exceeds the maximum payload size of %d bytes.", c.name, maxIntrinsicBytes)
		}
		return nil, Errorf(ErrIntrinsicFailure, "Invalid arguments in %s: %v", c.name, err)
	}
	return v, nil
}

// maxIntrinsicBytes is the most JSON text the result of an intrinsic
// function may take: AWS's payload limit (256 KiB).
var maxIntrinsicBytes = 256 * 1024

// errTooLarge is the failure of an intrinsic function whose result would
// take more than maxIntrinsicBytes of JSON text. Format returns it as it
// writes its text; Eval measures every result (States.Array's shares its
// arguments' values) before anything renders it.
var errTooLarge = errors.New("the result is too large")

// exceedsBytes reports whether v's JSON text is longer than limit bytes.
// It measures no further than limit: sizeWalk's upper bound first, the
// exact length only when the bound passes limit.
func exceedsBytes(v any, limit int) bool {
	if s, ok := v.(string); ok && 6*len(s)+2 <= limit {
		return false // each byte escapes to at most 6 (\u001f)
	}
	n := 0
	if !sizeWalk(v, &n, limit, nil, 0) {
		return false
	}
	n = 0
	return jsonLen(v, &n, limit)
}

// jsonLen adds the length of v's JSON text (Text) to *n and reports
// whether *n passed limit; it stops as soon as it does.
func jsonLen(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case float64:
		var buf [32]byte
		*n += len(appendNumber(buf[:0], x))
	case []any:
		*n += 2 + max(len(x)-1, 0)
		for _, e := range x {
			if jsonLen(e, n, limit) {
				return true
			}
		}
	case map[string]any:
		*n += 2 + max(len(x)-1, 0)
		for k, e := range x {
			*n += stringSize(k) + 1
			if jsonLen(e, n, limit) {
				return true
			}
		}
	default:
		return sizeWalk(v, n, limit, nil, 0)
	}
	return *n > limit
}

// fnArray returns its arguments as an array, which shares their values:
// Eval measures it before anything renders it.
func fnArray(a []any) (any, error) { return append([]any{}, a...), nil }

// fnFormat replaces each {} of the template a[0] with the next argument.
// A backslash escapes the character after it (\{ and \} are braces, \\ a
// backslash); a template a path selects is read the same way.
func fnFormat(a []any) (any, error) {
	tmpl, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("the format string must be a string")
	}
	var b strings.Builder
	n := 1
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) {
			b.WriteByte(tmpl[i+1])
			i++
			continue
		}
		if c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
			if n >= len(a) {
				return nil, fmt.Errorf("not enough arguments for the format string")
			}
			b.WriteString(javaString(a[n]))
			if b.Len() > maxIntrinsicBytes {
				return nil, errTooLarge
			}
			n++
			i++
			continue
		}
		b.WriteByte(c)
	}
	if n != len(a) {
		return nil, fmt.Errorf("too many arguments for the format string")
	}
	return b.String(), nil
}

// javaString renders a value the way AWS's States.Format does (Java's
// toString: {k=v, ...} for objects, [a, b] for arrays).
func javaString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		return formatNumber(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + javaString(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return Text(v)
}

func fnStringToJSON(a []any) (any, error) {
	s, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("the argument must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return ParseJSON([]byte(s))
}

func fnJSONToString(a []any) (any, error) { return Text(a[0]), nil }

// Integer returns v as an int if it is a number with no fraction within
// ±2^53, the whole numbers a float64 holds exactly.
func Integer(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// javaRound rounds x half up, as Java's Math.round does.
func javaRound(x float64) float64 {
	f := math.Floor(x)
	if x-f >= 0.5 {
		f++
	}
	return f
}

// roundedInteger returns v rounded half up (Java's Math.round) as an int,
// for the arguments AWS rounds to the nearest integer.
func roundedInteger(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return Integer(javaRound(f))
}

func fnArrayPartition(a []any) (any, error) {
	arr, ok := a[0].([]any)
	size, ok2 := roundedInteger(a[1])
	if !ok || !ok2 || size <= 0 {
		return nil, fmt.Errorf("expected an array and a positive chunk size")
	}
	out := []any{}
	for i := 0; i < len(arr); i += size {
		out = append(out, append([]any{}, arr[i:min(i+size, len(arr))]...))
	}
	return out, nil
}

func fnArrayContains(a []any) (any, error) {
	arr, ok := a[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the first argument must be an array")
	}
	for _, e := range arr {
		if reflect.DeepEqual(e, a[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(a []any) (any, error) {
	start, ok1 := roundedInteger(a[0])
	end, ok2 := roundedInteger(a[1])
	step, ok3 := roundedInteger(a[2])
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return nil, fmt.Errorf("expected integer start, end and a non-zero step")
	}
	out := []any{}
	for i := start; (step > 0 && i <= end) || (step < 0 && i >= end); i += step {
		out = append(out, float64(i))
		if len(out) > 1000 {
			return nil, fmt.Errorf("the range has more than 1000 items")
		}
	}
	return out, nil
}

func fnArrayGetItem(a []any) (any, error) {
	arr, ok := a[0].([]any)
	i, ok2 := Integer(a[1])
	if !ok || !ok2 || i < 0 || i >= len(arr) {
		return nil, fmt.Errorf("index out of bounds")
	}
	return arr[i], nil
}

func fnArrayLength(a []any) (any, error) {
	arr, ok := a[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the argument must be an array")
	}
	return float64(len(arr)), nil
}

// fnArrayUnique keeps the first of the items reflect.DeepEqual holds
// equal, in order: 1 and 1.0 are one number (and 0 and -0), objects are
// equal whatever the order of their keys, arrays item by item, and NaN
// is equal to nothing. An item is compared only with the items kept
// before it that hash alike (uniqueHasher), not with every one: time in
// proportion to the size of the array, not to the square of its length
// (two billion comparisons for an array of 256 KiB).
func fnArrayUnique(a []any) (any, error) {
	arr, ok := a[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the argument must be an array")
	}
	h := newUniqueHasher()
	// last holds, for each hash, 1 + the index in out of the last item
	// kept with that hash; prev[i] links out[i] to the one kept before
	// it with the same hash in the same way (0 ends the chain).
	last := make(map[uint64]int, len(arr))
	prev := make([]int, 0, len(arr))
	out := make([]any, 0, len(arr))
next:
	for _, e := range arr {
		sum := h.hash(e)
		first := last[sum]
		for i := first; i > 0; i = prev[i-1] {
			if reflect.DeepEqual(e, out[i-1]) {
				continue next
			}
		}
		prev = append(prev, first)
		out = append(out, e)
		last[sum] = len(out)
	}
	return out, nil
}

// uniqueHasher hashes values of the engine's model (nil, bool, float64,
// string, []any, map[string]any) so that values reflect.DeepEqual holds
// equal hash alike: -0 as 0, an object whatever the order of its keys.
// Values of other types all hash alike. Its keys are drawn at random
// for each use, so that no input can choose which items collide.
type uniqueHasher struct {
	seed   maphash.Seed
	k0, k1 uint64
}

func newUniqueHasher() *uniqueHasher {
	seed := maphash.MakeSeed()
	return &uniqueHasher{seed: seed, k0: maphash.String(seed, "k0"), k1: maphash.String(seed, "k1")}
}

// Tags that keep apart values of different kinds that would otherwise
// hash from the same bits.
const (
	tagNull uint64 = iota + 1
	tagBool
	tagNumber
	tagString
	tagArray
	tagObject
	tagOther
)

// mix combines two 64-bit values into one (a keyed multiply-fold).
func (h *uniqueHasher) mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^h.k0, b^h.k1)
	return hi ^ lo
}

// hash returns v's hash.
func (h *uniqueHasher) hash(v any) uint64 {
	switch x := v.(type) {
	case nil:
		return h.mix(tagNull, 0)
	case bool:
		if x {
			return h.mix(tagBool, 1)
		}
		return h.mix(tagBool, 0)
	case float64:
		if x == 0 {
			x = 0 // -0 is equal to 0
		}
		return h.mix(tagNumber, math.Float64bits(x))
	case string:
		return h.mix(tagString, maphash.String(h.seed, x))
	case []any:
		sum := h.mix(tagArray, uint64(len(x)))
		for _, e := range x {
			sum = h.mix(sum, h.hash(e))
		}
		return sum
	case map[string]any:
		// A sum of the entries' hashes, whatever their order.
		var sum uint64
		for k, e := range x {
			sum += h.mix(maphash.String(h.seed, k), h.hash(e))
		}
		return h.mix(h.mix(tagObject, uint64(len(x))), sum)
	}
	return h.mix(tagOther, 0)
}

// maxDataLength is the longest input, in characters, Base64Encode,
// Base64Decode and Hash take.
const maxDataLength = 10000

func checkDataLength(s string) error {
	if utf8.RuneCountInString(s) > maxDataLength {
		return fmt.Errorf("the input is longer than %d characters", maxDataLength)
	}
	return nil
}

func fnBase64Encode(a []any) (any, error) {
	s, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("the argument must be a string")
	}
	if err := checkDataLength(s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(a []any) (any, error) {
	s, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("the argument must be a string")
	}
	if err := checkDataLength(s); err != nil {
		return nil, err
	}
	// Padding is optional, as in Java's basic decoder (the likely one on
	// AWS); padding that is there must be right.
	enc := base64.StdEncoding
	if !strings.Contains(s, "=") {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	return string(b), nil
}

func fnHash(a []any) (any, error) {
	algo, ok := a[1].(string)
	if !ok {
		return nil, fmt.Errorf("the algorithm must be a string")
	}
	var h hash.Hash
	switch algo {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", algo)
	}
	s, ok := a[0].(string)
	if !ok {
		// A character takes at most 4 bytes: measure before rendering.
		if exceedsBytes(a[0], 4*maxDataLength) {
			return nil, fmt.Errorf("the input is longer than %d characters", maxDataLength)
		}
		s = Text(a[0])
	}
	if err := checkDataLength(s); err != nil {
		return nil, err
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(a []any) (any, error) {
	l, ok1 := a[0].(map[string]any)
	r, ok2 := a[1].(map[string]any)
	deep, ok3 := a[2].(bool)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("expected two objects and a boolean")
	}
	if deep {
		return nil, fmt.Errorf("deep merge is not supported")
	}
	out := make(map[string]any, len(l)+len(r))
	for k, v := range l {
		out[k] = v
	}
	for k, v := range r {
		out[k] = v
	}
	return out, nil
}

// fnMathRandom returns a random integer in [start, end). With a seed (a
// number) the integer comes from a PCG generator seeded with it, so the
// same seed gives the same number; the numbers are not AWS's, whose
// generator is not documented.
func fnMathRandom(a []any) (any, error) {
	lo, ok1 := roundedInteger(a[0])
	hi, ok2 := roundedInteger(a[1])
	if !ok1 || !ok2 || hi <= lo {
		return nil, fmt.Errorf("expected integers start < end")
	}
	if len(a) > 2 {
		seed, ok := a[2].(float64)
		if !ok {
			return nil, fmt.Errorf("the seed must be a number")
		}
		return float64(lo) + float64(seededRand(seed).Int64N(int64(hi-lo))), nil
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)))
	if err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return float64(lo + int(n.Int64())), nil
}

// seededRand returns a generator seeded with seed: its value rounded half
// up when that fits an int64, its bits otherwise.
func seededRand(seed float64) *mrand.Rand {
	var s uint64
	if r := javaRound(seed); math.Abs(r) < 1<<63 {
		s = uint64(int64(r))
	} else {
		s = math.Float64bits(seed)
	}
	return mrand.New(mrand.NewPCG(s, 0))
}

func fnMathAdd(a []any) (any, error) {
	x, ok1 := a[0].(float64)
	y, ok2 := a[1].(float64)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("expected two numbers")
	}
	// AWS rounds each operand half up (Java's Math.round); the operands
	// must then be 32-bit integers.
	x, y = javaRound(x), javaRound(y)
	if x < math.MinInt32 || x > math.MaxInt32 || y < math.MinInt32 || y > math.MaxInt32 {
		return nil, fmt.Errorf("the numbers must be integers between %d and %d", math.MinInt32, math.MaxInt32)
	}
	return x + y, nil
}

func fnStringSplit(a []any) (any, error) {
	s, ok1 := a[0].(string)
	d, ok2 := a[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("expected two strings")
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
