package asl

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestIntrinsics(t *testing.T) {
	sc := &Scope{
		Input: mustJSON(t, `{"s": "a,b,,c", "n": 3, "arr": [1, 2, 2, 3], "obj": {"k": [1]}, "json": "{\"x\": [1, 2]}", "tmpl": "\\{\\} {}",
			"it's": "q", "x)": "r", "trail": "a {}\\"}`),
		Vars: NewVars(map[string]any{"name": "world"}),
	}
	// The longest inputs Base64Encode, Base64Decode and Hash take: 10,000
	// characters (not bytes).
	maxText := strings.Repeat("é", 10000)
	maxB64 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 7500)))
	sc.Input.(map[string]any)["maxText"] = maxText
	sc.Input.(map[string]any)["maxB64"] = maxB64
	tests := []struct {
		expr string
		want string // JSON
	}{
		{`States.Format('hello {}', $name)`, `"hello world"`},
		{`States.Format('{} and {}', $.n, $.obj)`, `"3 and {k=[1]}"`},
		{`States.Format('{}', $.obj.['k'])`, `"[1]"`},
		{`States.Format('esc \{\} {}', 'x')`, `"esc {} x"`},
		{`States.Format('a\\{}b', $.n)`, `"a\\3b"`},
		{`States.Format('a\\\\{}b', $.n)`, `"a\\\\3b"`},
		{`States.Format('it\'s {}', $.n)`, `"it's 3"`},
		{`States.Array('\'\{\}\\')`, `["'{}\\"]`},
		{`States.Format($.tmpl, $.n)`, `"{} 3"`},
		{`States.Format('a \{} {}', 'x')`, `"a {} x"`},   // an escaped brace before a closing one is no placeholder
		{`States.Format('{}', 'a\{b\}')`, `"a{b}"`},      // only the template reads \{ and \} as escapes
		{`States.Format('{}', $.arr)`, `"[1, 2, 2, 3]"`}, // Java's List.toString
		{`States.Format($.trail, $.n)`, `"a 3\\"`},       // a template that ends in a backslash keeps it
		{"States.Format(\t'{}',\n\r $.n )", `"3"`},       // tabs and line breaks between arguments
		{`States.Format('{}', $['it\'s'])`, `"q"`},       // an escaped quote in a path argument
		{`States.Format('{}', $["x)"])`, `"r"`},          // a ')' quoted in a path argument
		{`States.ArrayLength($.arr[0,1])`, `2`},          // a ',' in brackets of a path argument
		{`States.StringToJson($.json)`, `{"x":[1,2]}`},
		{`States.JsonToString($.obj)`, `"{\"k\":[1]}"`},
		{`States.Array(1, 'two', $.n, true, null)`, `[1,"two",3,true,null]`},
		{`States.Array(-0.5, 1e2, 2E-1, 0, -0, 1.25e+1)`, `[-0.5,100,0.2,0,-0,12.5]`},
		{`States.ArrayPartition($.arr, 3)`, `[[1,2,2],[3]]`},
		{`States.ArrayPartition($.arr, 2.4)`, `[[1,2],[2,3]]`},
		{`States.ArrayPartition($.arr, 2.5)`, `[[1,2,2],[3]]`},
		{`States.ArrayContains($.arr, 3)`, `true`},
		{`States.ArrayContains($.arr, 9)`, `false`},
		{`States.ArrayRange(1, 9, 3)`, `[1,4,7]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayRange(0.4, 4.6, 1.2)`, `[0,1,2,3,4,5]`},
		{`States.ArrayRange(-0.5, -2.5, -1.5)`, `[0,-1,-2]`},
		{`States.ArrayLength(States.ArrayRange(1, 1000, 1))`, `1000`}, // the most items a range may have
		{`States.MathRandom(1.4, 1.5)`, `1`},
		{`States.ArrayLength(States.ArrayUnique(States.Array(States.MathRandom(0, 1000000, 7), States.MathRandom(0, 1000000, 7))))`, `1`},
		{`States.ArrayGetItem($.arr, 3)`, `3`},
		{`States.ArrayLength($.arr)`, `4`},
		{`States.ArrayUnique($.arr)`, `[1,2,3]`},
		{`States.Base64Encode('hi there')`, `"aGkgdGhlcmU="`},
		{`States.Base64Decode('aGkgdGhlcmU=')`, `"hi there"`},
		// Padding is optional, as in Java's basic decoder.
		{`States.Base64Decode('aGkgdGhlcmU')`, `"hi there"`},
		{`States.Base64Decode('YWJjZA')`, `"abcd"`},
		{`States.Base64Decode('YWJjZA==')`, `"abcd"`},
		{`States.Base64Decode('YWJj')`, `"abc"`},
		{`States.Base64Decode('')`, `""`},
		{`States.Hash('input data', 'SHA-256')`, `"58d5a2bc1f3a8a8d6ab1a1a8c42e5e1f9c9d8a2be6d2ee54d7c1e2db9b3ad0e8"`},
		{`States.JsonMerge($.obj, States.StringToJson('{"z": 1}'), false)`, `{"k":[1],"z":1}`},
		{`States.MathAdd($.n, -1)`, `2`},
		{`States.MathAdd(1.5, 0)`, `2`},
		{`States.MathAdd(2147483647, -2147483648)`, `-1`},
		{`States.MathAdd(2147483647.4, -2147483648.5)`, `-1`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.Base64Encode($.maxText)`, Text(base64.StdEncoding.EncodeToString([]byte(maxText)))},
		{`States.Base64Decode($.maxB64)`, Text(strings.Repeat("x", 7500))},
		{`States.Hash($.maxText, 'MD5')`, Text(fmt.Sprintf("%x", md5.Sum([]byte(maxText))))},
		{`States.ArrayLength(States.StringSplit($.s, ','))`, `3`},
		// 10 nested calls, the most AWS allows in a field.
		{"States.ArrayLength(" + strings.Repeat("States.Array(", 9) + "1" + strings.Repeat(")", 10), `1`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := CompileIntrinsic(tt.expr)
			if err != nil {
				t.Fatalf("CompileIntrinsic: %v", err)
			}
			v, err := c.Eval(sc)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			got := Text(v)
			if tt.expr == `States.Hash('input data', 'SHA-256')` {
				if !regexp.MustCompile(`^"[0-9a-f]{64}"$`).MatchString(got) {
					t.Errorf("Eval = %s, want 64 hex digits", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Eval = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIntrinsicRandomAndUUID(t *testing.T) {
	sc := &Scope{}
	for range 50 {
		c, _ := CompileIntrinsic("States.MathRandom(5, 8)")
		v, err := c.Eval(sc)
		if f, _ := v.(float64); err != nil || f < 5 || f >= 8 || f != float64(int(f)) {
			t.Fatalf("MathRandom(5, 8) = %v, %v; want an integer in [5, 8)", v, err)
		}
	}
	seeded := map[float64]bool{}
	for seed := range 20 {
		c, _ := CompileIntrinsic(fmt.Sprintf("States.MathRandom(-50, 50, %d)", seed))
		first, err := c.Eval(sc)
		if f, _ := first.(float64); err != nil || f < -50 || f >= 50 || f != float64(int(f)) {
			t.Fatalf("MathRandom(-50, 50, %d) = %v, %v; want an integer in [-50, 50)", seed, first, err)
		}
		for range 3 {
			if v, _ := c.Eval(sc); v != first {
				t.Fatalf("MathRandom(-50, 50, %d) = %v, then %v; want the same number for the same seed", seed, first, v)
			}
		}
		seeded[first.(float64)] = true
	}
	if len(seeded) < 5 {
		t.Errorf("20 seeds gave %d distinct numbers, want the seed to matter", len(seeded))
	}
	c, _ := CompileIntrinsic("States.UUID()")
	v, _ := c.Eval(sc)
	if s, _ := v.(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s) {
		t.Errorf("UUID() = %v, want a version 4 UUID", v)
	}
}

func TestIntrinsicErrors(t *testing.T) {
	compileErrors := []string{
		"States.Nope(1)", "States.Format(", "States.ArrayLength()", "States.UUID(1)", "States.Array('unterminated)",
		`States.Format('a\b {}', 1)`, `States.Array('\n')`, `States.Array('a\ b')`, `States.Array('\é')`, `States.Array('a\')`,
		"States.Array(Inf)", "States.Array(NaN)", "States.Array(infinity)", "States.Array(-Infinity)", "States.MathAdd(0x1p4, 1)",
		"States.Array(0x10)", "States.Array(1_000)", "States.Array(+1)", "States.Array(.5)", "States.Array(1.)", "States.Array(01)",
		"States.Array(1e)", "States.Array(-)", "States.Array(1e400)",
		"States.ArrayLength(" + strings.Repeat("States.Array(", 10) + "1" + strings.Repeat(")", 11), // 11 nested calls
		`States.Array('a\`, // a backslash that ends the text
	}
	for _, expr := range compileErrors {
		t.Run("compile "+expr, func(t *testing.T) {
			if _, err := CompileIntrinsic(expr); err == nil {
				t.Errorf("CompileIntrinsic(%q) succeeded, want an error", expr)
			}
		})
	}
	sc := &Scope{Input: map[string]any{
		"s":       "x",
		"long":    strings.Repeat("é", 10001),
		"longB64": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 7503))), // 10,004 characters
	}}
	runtimeErrors := []struct{ expr, name string }{
		{"States.ArrayLength($.s)", ErrIntrinsicFailure},
		{"States.Format('{} {}', 1)", ErrIntrinsicFailure},
		{"States.Format('{}', 1, 2)", ErrIntrinsicFailure}, // more arguments than placeholders
		{"States.ArrayRange(0, 1e300, 1)", ErrIntrinsicFailure},
		{"States.ArrayRange(1, 1001, 1)", ErrIntrinsicFailure}, // 1,001 items
		{"States.ArrayGetItem(States.Array(1), 5)", ErrIntrinsicFailure},
		{"States.ArrayGetItem(States.Array(1, 2), 2)", ErrIntrinsicFailure}, // the length: one past the last
		{"States.ArrayGetItem(States.Array(1, 2), -1)", ErrIntrinsicFailure},
		{"States.StringToJson('{bad')", ErrIntrinsicFailure},
		{"States.ArrayPartition(States.Array(1), 0.4)", ErrIntrinsicFailure},
		{"States.ArrayRange(1, 5, 0.4)", ErrIntrinsicFailure},
		{"States.MathRandom(1.4, 0.6)", ErrIntrinsicFailure},
		{"States.MathRandom(0, 10, 'x')", ErrIntrinsicFailure},
		{"States.MathAdd(2147483648, -1)", ErrIntrinsicFailure},
		{"States.Base64Encode($.long)", ErrIntrinsicFailure},
		{"States.Base64Decode($.longB64)", ErrIntrinsicFailure},
		{"States.Base64Decode('YWJjZ')", ErrIntrinsicFailure},     // 1 character of a 4-character unit
		{"States.Base64Decode('YWJjZA=')", ErrIntrinsicFailure},   // padding, but not enough of it
		{"States.Base64Decode('YWJjZA===')", ErrIntrinsicFailure}, // too much padding
		{"States.Base64Decode('YW*jZA')", ErrIntrinsicFailure},    // not a base64 character
		{"States.Base64Decode('YQ==YQ')", ErrIntrinsicFailure},    // data after the padding
		{"States.Hash($.long, 'SHA-1')", ErrIntrinsicFailure},
		{"States.MathAdd(1, -2147483649)", ErrIntrinsicFailure},
		{"States.MathAdd(-2147483649, 1)", ErrIntrinsicFailure},
		{"States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)", ErrIntrinsicFailure}, // only a shallow merge
		{"States.MathAdd(2147483647.5, 0)", ErrIntrinsicFailure},
		{"States.MathAdd(0, 3000000000)", ErrIntrinsicFailure},
		{"States.MathRandom(0, 10, null)", ErrIntrinsicFailure},
		{"States.Format('{}', $.missing)", ErrRuntime},
	}
	for _, tt := range runtimeErrors {
		t.Run("eval "+tt.expr, func(t *testing.T) {
			c, err := CompileIntrinsic(tt.expr)
			if err != nil {
				t.Fatalf("CompileIntrinsic: %v", err)
			}
			_, err = c.Eval(sc)
			var ae *Error
			if !errors.As(err, &ae) || ae.Name != tt.name {
				t.Errorf("Eval error = %v, want %s", err, tt.name)
			}
		})
	}
}

func TestNewUUID(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewUUID(), NewUUID()
	for _, id := range []string{a, b} {
		if !shape.MatchString(id) {
			t.Errorf("NewUUID() = %q, want a version 4 UUID: 8-4-4-4-12 lowercase hex digits", id)
		}
	}
	if a == b {
		t.Errorf("two NewUUID() calls both returned %q", a)
	}
}

// BenchmarkIntrinsicEval evaluates intrinsic calls that build strings and
// arrays from the input.
func BenchmarkIntrinsicEval(b *testing.B) {
	sc := &Scope{Input: map[string]any{"name": "world", "n": 3.0, "tags": []any{"a", "b", "c"}}}
	for _, src := range []string{
		"States.Format('hello {} ({})', $.name, $.n)",
		"States.JsonToString(States.Array($.name, $.tags))",
		"States.ArrayPartition($.tags, 2)",
	} {
		c, err := CompileIntrinsic(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(src, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Eval(sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// An intrinsic function whose result would exceed the payload limit
// fails with States.DataLimitExceeded, as do the intrinsic fields of a
// template whose results together exceed it.
func TestIntrinsicSizeLimit(t *testing.T) {
	saved := maxIntrinsicBytes
	maxIntrinsicBytes = 1000
	t.Cleanup(func() { maxIntrinsicBytes = saved })
	s := strings.Repeat("x", 400)
	nums := make([]any, 300)
	for i := range nums {
		nums[i] = 0.0
	}
	halves := make([]any, 150)
	for i := range halves {
		halves[i] = 0.5
	}
	sc := &Scope{Input: map[string]any{
		"s": s, "commas": strings.Repeat("a,", 300), "nums": nums, "halves": halves,
		"o1": map[string]any{"a": s, "c": s}, "o2": map[string]any{"b": s},
		"s593": strings.Repeat("x", 593), "s594": strings.Repeat("x", 594),
		"o585": map[string]any{"d": strings.Repeat("x", 585)}, "o586": map[string]any{"d": strings.Repeat("x", 586)},
		"ctl": strings.Repeat("\x01", 167), // 167 bytes, 1004 as JSON (\u0001)
	}}
	tests := []struct {
		expr string
		ok   bool
	}{
		{`States.Array($.s, $.s)`, true},
		{`States.Array($.s, $.s, $.s)`, false},
		{`States.Array($.halves)`, true}, // 601 bytes of JSON
		{`States.Format('{}{}', $.s, $.s)`, true},
		{`States.Format('{}{}{}', $.s, $.s, $.s)`, false},
		{`States.JsonToString(States.Array($.s, $.s))`, true},
		{`States.StringSplit($.commas, ',')`, false},
		{`States.ArrayPartition($.nums, 100)`, true},
		{`States.ArrayPartition($.nums, 1)`, false},
		{`States.JsonMerge($.o2, $.o2, false)`, true},
		{`States.JsonMerge($.o1, $.o2, false)`, false},
		{`States.Array($.s, $.s593)`, true},              // 1000 bytes of JSON: the limit
		{`States.Array($.s, $.s594)`, false},             // 1001 bytes
		{`States.JsonMerge($.o2, $.o585, false)`, true},  // 1000 bytes
		{`States.JsonMerge($.o2, $.o586, false)`, false}, // 1001 bytes
		{`States.Format('{}', $.ctl)`, false},            // the escapes count
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := CompileIntrinsic(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Eval(sc)
			if tt.ok {
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Name != ErrDataLimitExceeded || !strings.Contains(ae.Cause, "1000 bytes") {
				t.Errorf("error = %v, want %s", err, ErrDataLimitExceeded)
			}
		})
	}
	t.Run("template", func(t *testing.T) {
		tmpl, err := CompileTemplate("Parameters", map[string]any{
			"a.$": "States.JsonToString($.s)", "b.$": "States.JsonToString($.s)", "c.$": "States.JsonToString($.s)",
		}, LangJSONPath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tmpl.Eval(sc)
		var ae *Error
		if !errors.As(err, &ae) || ae.Name != ErrDataLimitExceeded {
			t.Errorf("error = %v, want %s", err, ErrDataLimitExceeded)
		}
	})
	t.Run("no large intermediate", func(t *testing.T) {
		args := strings.TrimSuffix(strings.Repeat("$.s, ", 1000), ", ")
		c, err := CompileIntrinsic("States.JsonToString(States.Array(" + args + "))")
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = c.Eval(sc)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatal("no error, want States.DataLimitExceeded")
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 100_000 {
			t.Errorf("the failed evaluation allocated %d bytes, want less than 100000", got)
		}
	})
}

// Without an override, an intrinsic function's result may take 256 KiB
// of JSON text, AWS's payload limit, and no more.
func TestIntrinsicSizeLimitDefault(t *testing.T) {
	for _, tt := range []struct {
		n  int // the length of the string in the array
		ok bool
	}{
		{256*1024 - 4, true},  // ["..."]: 262,144 bytes
		{256*1024 - 3, false}, // 262,145 bytes
	} {
		c, err := CompileIntrinsic("States.Array($.s)")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Eval(&Scope{Input: map[string]any{"s": strings.Repeat("x", tt.n)}})
		var ae *Error
		if tt.ok && err != nil || !tt.ok && (!errors.As(err, &ae) || ae.Name != ErrDataLimitExceeded || !strings.Contains(ae.Cause, "262144 bytes")) {
			t.Errorf("States.Array of a string of %d bytes: error = %v, want ok %v", tt.n, err, tt.ok)
		}
	}
}

// Integer takes the whole numbers a float64 holds exactly, up to ±2^53.
func TestInteger(t *testing.T) {
	tests := []struct {
		v    any
		want int
		ok   bool
	}{
		{3.0, 3, true},
		{math.Copysign(0, -1), 0, true},
		{-7.0, -7, true},
		{float64(1 << 53), 1 << 53, true},
		{-float64(1 << 53), -(1 << 53), true},
		{float64(1<<53) + 2, 0, false},
		{1e300, 0, false},
		{1.5, 0, false},
		{"3", 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := Integer(tt.v)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Integer(%v) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
