package asl

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// wantJSONata fails t unless expr evaluates in sc to the JSON text want.
func wantJSONata(t *testing.T, sc *Scope, expr, want string) {
	t.Helper()
	jx, err := CompileJSONata(expr)
	if err != nil {
		t.Fatalf("CompileJSONata: %v", err)
	}
	v, defined, err := jx.Eval(sc)
	if err != nil || !defined || Text(v) != want {
		t.Errorf("Eval = %s (defined %v), %v; want %s", Text(v), defined, err, want)
	}
}

func TestJSONata(t *testing.T) {
	sc := &Scope{
		Input:   mustJSON(t, `{"items": [1, 2, 3], "name": "x"}`),
		Context: map[string]any{"Execution": map[string]any{"Name": "e1"}},
		Vars:    NewVars(map[string]any{"limit": 2.0, "nothing": nil}),
	}
	tests := []struct {
		expr, want string
	}{
		{`$sum($states.input.items)`, `6`},
		{`$states.input.items[$ > $limit]`, `3`},
		{`$states.context.Execution.Name`, `"e1"`},
		{`$partition([1,2,3,4,5], 2)`, `[[1,2],[3,4],[5]]`},
		{`$range(0, 10, 5)`, `[0,5,10]`},
		{`$range(5, 5, 1)`, `5`}, // a sequence of one item is the item
		{`$hash('input data', 'MD5')`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{`$parse('{"a": [1]}')`, `{"a":[1]}`},
		{`$nothing = null`, `true`},
		{`{"n": $states.input.name & "!"}`, `{"n":"x!"}`},
		{`$contains($now(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)`, `true`},
		{`$now() = $now()`, `true`},
		{`$millis() = $millis()`, `true`},
		{`$toMillis($now()) = $millis()`, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) { wantJSONata(t, sc, tt.expr, tt.want) })
	}
	t.Run("clock", func(t *testing.T) {
		// A clock that moves on 1 ms at each read: one read per evaluation.
		start := time.Date(2017, 5, 15, 15, 12, 59, 152345678, time.UTC)
		tests := []struct {
			expr, want string
		}{
			{`$now()`, `"2017-05-15T15:12:59.152Z"`},
			{`$millis()`, `1494861179152`},
			{`[$now(), $now(), $millis(), $millis()]`,
				`["2017-05-15T15:12:59.152Z","2017-05-15T15:12:59.152Z",1494861179152,1494861179152]`},
			{`$now('[Y0001]-[M01]-[D01] [H01]:[m01]', '-0500')`, `"2017-05-15 10:12"`},
			{`$now('[H01]:[m01]:[s01].[f001]')`, `"15:12:59.152"`},
			{`$now($unset, '+0100')`, `"2017-05-15T16:12:59.152+01:00"`}, // the default picture in a time zone
		}
		for _, tt := range tests {
			t.Run(tt.expr, func(t *testing.T) {
				now := start
				sc := &Scope{Input: map[string]any{}, Now: func() time.Time {
					r := now
					now = now.Add(time.Millisecond)
					return r
				}}
				wantJSONata(t, sc, tt.expr, tt.want)
			})
		}
	})
	t.Run("random and uuid", func(t *testing.T) {
		jx, _ := CompileJSONata(`[$random(), $uuid()]`)
		v, _, err := jx.Eval(sc)
		arr, _ := v.([]any)
		if f, _ := arr[0].(float64); err != nil || len(arr) != 2 || f < 0 || f >= 1 || len(arr[1].(string)) != 36 {
			t.Errorf("Eval = %v, %v", v, err)
		}
	})
	// AWS's $random takes a seed: the same seed gives the same number.
	t.Run("seeded random", func(t *testing.T) {
		jx, err := CompileJSONata(`[$random(7), $random(7), $random(8), $random(7.4)]`)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := jx.Eval(sc)
		arr, _ := v.([]any)
		if err != nil || len(arr) != 4 {
			t.Fatalf("Eval = %v, %v", v, err)
		}
		for _, x := range arr {
			if f, ok := x.(float64); !ok || f < 0 || f >= 1 {
				t.Errorf("$random(seed) = %v, want a number in [0, 1)", x)
			}
		}
		if arr[0] != arr[1] || arr[0] != arr[3] || arr[0] == arr[2] {
			t.Errorf("$random(7), $random(7), $random(8), $random(7.4) = %v: want 7 and 7.4 (rounded) equal, 8 different", arr)
		}
		for _, expr := range []string{`$random("7")`, `$random(1, 2)`} {
			jx, err := CompileJSONata(expr)
			if err != nil {
				continue // refused at compile time: as good
			}
			if _, _, err := jx.Eval(sc); err == nil {
				t.Errorf("%s: no error", expr)
			}
		}
	})
	t.Run("eval is forbidden", func(t *testing.T) {
		jx, err := CompileJSONata(`$eval('1 + 1')`)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		if _, _, err := jx.Eval(sc); err == nil || !strings.Contains(err.Error(), "$eval is not supported") {
			t.Errorf("Eval: %v, want the error that $eval is not supported", err)
		}
	})
	t.Run("non-finite number", func(t *testing.T) {
		for _, expr := range []string{`1/0`, `-1/0`, `0/0`, `[1, 1/0]`, `{"a": {"b": 0/0}}`, `$sum([1e308, 1e308])`} {
			t.Run(expr, func(t *testing.T) {
				jx, err := CompileJSONata(expr)
				if err != nil {
					t.Fatalf("CompileJSONata: %v", err)
				}
				v, err := EvalJSONataField(jx, "Output", sc)
				var ae *Error
				if !errors.As(err, &ae) || ae.Name != ErrQueryEvaluationError || !strings.Contains(ae.Cause, "D1001: Number out of range") {
					t.Errorf("EvalJSONataField = %s, %v; want a QueryEvaluationError D1001", Text(v), err)
				}
			})
		}
	})
	t.Run("undefined field", func(t *testing.T) {
		jx, _ := CompileJSONata(`$states.input.nope`)
		_, err := EvalJSONataField(jx, "Output/x", sc)
		var ae *Error
		if !errors.As(err, &ae) || ae.Name != ErrQueryEvaluationError || ae.Location != "Output/x" ||
			!strings.Contains(ae.Cause, "returned nothing (undefined)") {
			t.Errorf("error = %#v, want QueryEvaluationError at Output/x", err)
		}
	})
}

func TestTemplates(t *testing.T) {
	sc := &Scope{Input: mustJSON(t, `{"a": 1, "list": [{"id": 7}]}`), Vars: NewVars(map[string]any{"v": "var"})}
	tests := []struct {
		lang QueryLanguage
		tmpl string
		want string
	}{
		{LangJSONPath, `{"x.$": "$.a", "lit": "$.a", "nested": {"y.$": "$v"}, "arr": [{"z.$": "$.list[0].id"}]}`,
			`{"arr":[{"z":7}],"lit":"$.a","nested":{"y":"var"},"x":1}`},
		{LangJSONPath, `{"f.$": "States.Format('{}-{}', $.a, $v)"}`, `{"f":"1-var"}`},
		{LangJSONata, `{"sum": "{% $states.input.a + 1 %}", "keep": "plain", "list": ["{% $v %}", 2]}`,
			`{"keep":"plain","list":["var",2],"sum":2}`},
		{LangJSONata, `"{% $states.input.list[0] %}"`, `{"id":7}`},
		// The delimiters must open and close the string: padded, it is a
		// literal.
		{LangJSONata, `{"lead": " {% 1 %}", "trail": "{% 2 %} ", "nl": "\n{% 3 %}\n", "inner": "{%  4  %}"}`,
			`{"inner":4,"lead":" {% 1 %}","nl":"\n{% 3 %}\n","trail":"{% 2 %} "}`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tmpl, err := CompileTemplate("Parameters", mustJSON(t, tt.tmpl), tt.lang)
			if err != nil {
				t.Fatalf("CompileTemplate: %v", err)
			}
			v, err := tmpl.Eval(sc)
			if err != nil || Text(v) != tt.want {
				t.Errorf("Eval = %s, %v; want %s", Text(v), err, tt.want)
			}
		})
	}
	tmpl, _ := CompileTemplate("Parameters", mustJSON(t, `{"x.$": "$.nope"}`), LangJSONPath)
	_, err := tmpl.Eval(sc)
	var ae *Error
	if !errors.As(err, &ae) || ae.Name != ErrRuntime || !strings.Contains(ae.Cause, "The JSONPath '$.nope' specified for the field 'x.$' could not be found") {
		t.Errorf("missing path error = %v", err)
	}
}

func BenchmarkJSONataEval(b *testing.B) {
	sc := &Scope{Input: map[string]any{"a": []any{1.0, 2.0, 3.0}}, Vars: NewVars(map[string]any{"x": 1.0})}
	jx, err := CompileJSONata(`$sum($states.input.a) + $x`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := jx.Eval(sc); err != nil {
			b.Fatal(err)
		}
	}
}

// evalWithin evaluates jx in a goroutine and fails the test if the
// evaluation has not ended after d.
func evalWithin(t *testing.T, jx *JSONata, sc *Scope, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, _, err := jx.Eval(sc)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("the evaluation of %s still runs after %v", jx, d)
		return nil
	}
}

// A long evaluation ends at the time limit or at the scope's Deadline,
// and a cancelled context ends one at once, with an error that says so.
func TestJSONataEvalBounded(t *testing.T) {
	const slow = `$sum([1..100000].($sum([1..100000])))`
	jx, err := CompileJSONata(slow)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("time limit", func(t *testing.T) {
		saved := jsonataTimeout
		jsonataTimeout = 50 * time.Millisecond
		t.Cleanup(func() { jsonataTimeout = saved })
		err := evalWithin(t, jx, &Scope{Input: map[string]any{}}, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "longer than 50ms") {
			t.Errorf("error = %v, want the time limit's", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := evalWithin(t, jx, &Scope{Input: map[string]any{}, Ctx: ctx}, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("error = %v, want a cancellation", err)
		}
	})
	t.Run("scope deadline", func(t *testing.T) {
		sc := &Scope{Input: map[string]any{}, Deadline: time.Now().Add(50 * time.Millisecond)}
		err := evalWithin(t, jx, sc, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "deadline of its execution") {
			t.Errorf("error = %v, want the scope's deadline", err)
		}
	})
	t.Run("field error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() {
			_, err := EvalJSONataField(jx, "Output", &Scope{Input: map[string]any{}, Ctx: ctx})
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the evaluation of a cancelled scope still runs after 5s")
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Name != ErrQueryEvaluationError {
			t.Errorf("error = %v, want %s", err, ErrQueryEvaluationError)
		}
	})
}

// The functions AWS adds to JSONata do not build or measure values
// beyond their limits: $partition's result is held to the payload limit,
// and $hash measures a value that is not a string before it renders it.
func TestJSONataFunctionsBounded(t *testing.T) {
	saved := maxIntrinsicBytes
	maxIntrinsicBytes = 1000
	t.Cleanup(func() { maxIntrinsicBytes = saved })
	nums := make([]any, 300)
	for i := range nums {
		nums[i] = 0.0
	}
	sc := &Scope{Input: map[string]any{"nums": nums}}
	// allocated evaluates expr as a field, wants it to fail, and returns
	// the bytes it allocated.
	allocated := func(expr string, fails bool) uint64 {
		t.Helper()
		jx, err := CompileJSONata(expr)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = EvalJSONataField(jx, "Output", sc)
		runtime.ReadMemStats(&after)
		var ae *Error
		if fails && (!errors.As(err, &ae) || ae.Name != ErrQueryEvaluationError) {
			t.Errorf("%s: error = %v, want %s", expr, err, ErrQueryEvaluationError)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(`$partition($states.input.nums, 1)`, true)
	// The range takes a few MB; its JSON text would take 1.3 more.
	base := allocated(`$count([1..200000])`, false)
	if got := allocated(`$hash([1..200000], 'MD5')`, true); got > base+500_000 {
		t.Errorf("$hash of a range allocated %d bytes, the range alone %d", got, base)
	}
}

// countingWatch counts the evaluations started and ended, and checks
// that each end gets its start's token.
type countingWatch struct {
	t              *testing.T
	started, ended int
}

func (w *countingWatch) JSONataStarted() int { w.started++; return 100 + w.started }
func (w *countingWatch) JSONataEnded(token int) {
	w.ended++
	if token != 100+w.ended {
		w.t.Errorf("JSONataEnded(%d), want %d", token, 100+w.ended)
	}
}

// TestJSONataWatch checks that a scope's Watch is told of every
// evaluation's start and end, the failed ones too.
func TestJSONataWatch(t *testing.T) {
	w := &countingWatch{t: t}
	sc := &Scope{Input: map[string]any{}, Watch: w}
	for _, src := range []string{`1 + 1`, `$error("no")`, `$states.input.missing`} {
		j, err := CompileJSONata(src)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _ = j.Eval(sc)
	}
	if w.started != 3 || w.ended != 3 {
		t.Errorf("started %d, ended %d evaluations; want 3 and 3", w.started, w.ended)
	}
}

// A field is a JSONata expression when it is exactly "{%", the
// expression, "%}"; an expression of only whitespace is invalid.
func TestJSONataFieldSyntax(t *testing.T) {
	for _, tt := range []struct {
		s, src string
		ok     bool
	}{
		{"{% 1 + 1 %}", "1 + 1", true},
		{"{%%}", "", true},
		{"{%}", "", false},
		{" {% 1 %}", "", false},
		{"{% 1 %} ", "", false},
		{"1", "", false},
	} {
		src, ok := IsJSONataString(tt.s)
		if src != tt.src || ok != tt.ok {
			t.Errorf("IsJSONataString(%q) = %q, %v; want %q, %v", tt.s, src, ok, tt.src, tt.ok)
		}
	}
	for _, src := range []string{"", " \t\n"} {
		if _, err := CompileJSONata(src); err == nil {
			t.Errorf("CompileJSONata(%q) succeeded, want an error", src)
		}
	}
}

// The functions Step Functions adds to JSONata take a fixed number of
// arguments.
func TestJSONataFunctionArity(t *testing.T) {
	sc := &Scope{Input: map[string]any{}}
	for _, expr := range []string{
		`$partition([1, 2, 3], 2, 1)`, `$partition([1, 2, 3])`,
		`$range(0, 10)`, `$range(0, 10, 5, 1)`,
		`$hash('a')`, `$hash('a', 'MD5', 1)`,
		`$parse('1', '2')`,
	} {
		t.Run(expr, func(t *testing.T) {
			jx, err := CompileJSONata(expr)
			if err != nil {
				t.Fatalf("CompileJSONata: %v", err)
			}
			if v, _, err := jx.Eval(sc); err == nil {
				t.Errorf("Eval = %s, want an error", Text(v))
			}
		})
	}
}

// Evaluations past longEval take turns: with every turn taken, a short
// evaluation still runs at once, a long one waits and ends at its time
// limit (or at once when its execution is stopped) without running on,
// and each gives its turn back when it ends.
func TestJSONataLongEvaluationsTakeTurns(t *testing.T) {
	savedTurns, savedLong, savedLimit := longTurns, longEval, jsonataTimeout
	t.Cleanup(func() { longTurns, longEval, jsonataTimeout = savedTurns, savedLong, savedLimit })
	longTurns, longEval, jsonataTimeout = make(chan struct{}, 1), 5*time.Millisecond, 300*time.Millisecond
	slow, err := CompileJSONata(`$sum([1..100000].($sum([1..100000])))`)
	if err != nil {
		t.Fatal(err)
	}
	quick, err := CompileJSONata(`$sum([1..100])`)
	if err != nil {
		t.Fatal(err)
	}

	longTurns <- struct{}{} // another long evaluation holds the one turn
	if v, _, err := quick.Eval(&Scope{Input: map[string]any{}}); err != nil || v != float64(5050) {
		t.Fatalf("a short evaluation with every turn taken: %v, %v; want 5050", v, err)
	}
	start := time.Now()
	err = evalWithin(t, slow, &Scope{Input: map[string]any{}}, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "longer than 300ms") || !strings.Contains(err.Error(), "waiting for its turn") {
		t.Errorf("a long evaluation waiting for a turn: %v, want the time limit's error, saying it waited for its turn", err)
	}
	if took := time.Since(start); took < jsonataTimeout {
		t.Errorf("a long evaluation waiting for a turn ended after %v, before its time limit", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = evalWithin(t, slow, &Scope{Input: map[string]any{}, Ctx: ctx}, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("a long evaluation stopped while waiting for a turn: %v, want a cancellation", err)
	}

	// A long evaluation waiting for the turn takes it once it is given
	// back, and gives it back when it ends.
	done := make(chan error, 1)
	go func() {
		_, _, err := slow.Eval(&Scope{Input: map[string]any{}})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	<-longTurns // the other long evaluation ends
	// The waiting evaluation takes the turn once it asks (it may not
	// have yet: it asks longEval after its clock's first read).
	for deadline := time.Now().Add(jsonataTimeout); len(longTurns) != 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := len(longTurns); n != 1 {
		t.Errorf("%d turns held after the turn was given back to a waiting evaluation, want 1 (it took it)", n)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "longer than 300ms") {
			t.Errorf("a long evaluation that took its turn: %v, want the time limit's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a long evaluation that took its turn still runs after 5s")
	}
	if n := len(longTurns); n != 0 {
		t.Errorf("%d turns held after every evaluation ended, want 0", n)
	}
}
