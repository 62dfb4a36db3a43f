package asl

import (
	"testing"
)

// FuzzParse: no definition makes the parser panic, and every accepted
// definition has its StartAt state.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.x", "IsPresent": true}, "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
		`{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "Items": "{% [1,2] %}", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}`,
		`{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}], "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}}}`,
		`{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"x.$": "States.Array($.a, 'b')"}, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true}, "F": {"Type": "Fail", "ErrorPath": "$.e"}}}`,
		`{"StartAt": 1}`, `[]`, `{"States": {}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, def []byte) {
		m, err := Parse(def)
		if err != nil {
			return
		}
		if _, ok := m.States[m.StartAt]; !ok {
			t.Errorf("accepted a definition without its StartAt state: %s", def)
		}
	})
}

// FuzzPath: compiling and evaluating any path on a fixed document never
// panics, and Set on a reference path never panics either.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b[0]", "$..c", "$.a[?(@.x > 1)]", "$['k'][-1]", "$$.Execution.Id", "$v.x", "$.a.length()", "$.a[1:2]", "$[*]"} {
		f.Add(s)
	}
	doc := map[string]any{"a": []any{map[string]any{"x": 2.0, "c": "y"}, 1.0}, "b": nil, "k": []any{1.0, 2.0}}
	sc := &Scope{Input: doc, Context: map[string]any{"Execution": map[string]any{"Id": "id"}}, Vars: NewVars(map[string]any{"v": doc})}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := CompilePath(src)
		if err != nil {
			return
		}
		_, _ = p.Eval(sc)
		if p.IsReference() {
			_, _ = p.Set(doc, 1.0)
		}
	})
}

// FuzzIntrinsic: no intrinsic function call panics when compiled or
// evaluated.
func FuzzIntrinsic(f *testing.F) {
	for _, s := range []string{
		"States.Format('{} {}', $.a, 'b')", "States.ArrayRange(1, 10, 2)", "States.ArrayPartition($.arr, 2)",
		"States.MathAdd(1, States.ArrayLength($.arr))", "States.StringSplit('a,b', ',')", "States.Hash('x', 'SHA-1')",
		"States.JsonMerge($.o, $.o, false)", "States.StringToJson('{\"a\":1}')", "States.Base64Decode('aGk=')",
		"States.MathRandom(1, 3)", "States.ArrayGetItem($.arr, 1)", "States.UUID()",
	} {
		f.Add(s)
	}
	sc := &Scope{Input: map[string]any{"a": "x", "arr": []any{1.0, 2.0, 3.0}, "o": map[string]any{"k": 1.0}}}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := CompileIntrinsic(src)
		if err != nil {
			return
		}
		_, _ = c.Eval(sc)
	})
}

// FuzzJSONata: no JSONata expression panics through the adapter.
func FuzzJSONata(f *testing.F) {
	for _, s := range []string{
		"$states.input.a", "$sum([1,2,3])", "$partition([1,2,3], 2)", "$range(1, 5, 1)", "$hash('a', 'MD5')",
		"$parse('[1]')", "$uuid()", "$random()", "{'k': $v}", "$map([1,2], function($x){$x*2})", "$eval('1')",
		"$states.context.Execution.Name & '!'", "[1..3]",
	} {
		f.Add(s)
	}
	sc := &Scope{Input: map[string]any{"a": []any{1.0}}, Context: map[string]any{"Execution": map[string]any{"Name": "n"}},
		Vars: NewVars(map[string]any{"v": nil})}
	f.Fuzz(func(t *testing.T, src string) {
		jx, err := CompileJSONata(src)
		if err != nil {
			return
		}
		_, _, _ = jx.Eval(sc)
	})
}
