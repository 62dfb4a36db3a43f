package asl

import (
	"encoding/json"
	"slices"
	"strings"
)

// VariableReferences returns the variables each state of a definition
// reads, by state name (the states of Map and Parallel states included),
// each list sorted and without repeats, and no entry for a state that
// reads none: what DescribeStateMachine answers as variableReferences.
// A variable is read where a JSONPath state names it: in a path field
// (InputPath, ItemsPath, SecondsPath, a Choice rule's Variable or
// ...Path comparison), or in a payload template's "key.$" value, as a
// path or an intrinsic function's argument ($x in "States.Format('{}',
// $x)"). A template's plain string "$x" is text, not a reference, and
// JSONata states are left out. The definition is JSON; one that does not
// parse has no references.
func VariableReferences(definition string) map[string][]string {
	var top map[string]any
	if json.Unmarshal([]byte(definition), &top) != nil {
		return nil
	}
	lang, _ := top["QueryLanguage"].(string)
	if lang == "" {
		lang = string(LangJSONPath)
	}
	refs := map[string][]string{}
	collectVarRefs(top, lang, refs)
	return refs
}

// collectVarRefs adds the references of the states of machine m (a
// definition, a Parallel branch, a Map's ItemProcessor or Iterator), whose
// states default to the query language lang, to refs.
func collectVarRefs(m map[string]any, lang string, refs map[string][]string) {
	states, _ := m["States"].(map[string]any)
	for name, v := range states {
		st, ok := v.(map[string]any)
		if !ok {
			continue
		}
		stLang := lang
		if l, ok := st["QueryLanguage"].(string); ok {
			stLang = l
		}
		if stLang == string(LangJSONPath) {
			var names []string
			stateVarRefs(st, &names)
			slices.Sort(names)
			if names = slices.Compact(names); len(names) > 0 {
				refs[name] = names
			}
		}
		for _, key := range []string{"ItemProcessor", "Iterator"} {
			if sub, ok := st[key].(map[string]any); ok {
				collectVarRefs(sub, lang, refs)
			}
		}
		branches, _ := st["Branches"].([]any)
		for _, b := range branches {
			if sub, ok := b.(map[string]any); ok {
				collectVarRefs(sub, lang, refs)
			}
		}
	}
}

// pathFields are the fields of a JSONPath state whose value is a path
// (ErrorPath and CausePath may be an intrinsic function too).
var pathFields = []string{"InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath",
	"TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath", "ToleratedFailureCountPath",
	"ToleratedFailurePercentagePath", "ErrorPath", "CausePath"}

// templateFields are the fields of a JSONPath state that hold a payload
// template.
var templateFields = []string{"Parameters", "ItemSelector", "ResultSelector", "Assign", "Credentials"}

// stateVarRefs appends the variables the JSONPath state st reads to names.
func stateVarRefs(st map[string]any, names *[]string) {
	for _, f := range pathFields {
		if s, ok := st[f].(string); ok {
			expressionVarRefs(s, names)
		}
	}
	for _, f := range templateFields {
		templateVarRefs(st[f], names)
	}
	if r, ok := st["ItemReader"].(map[string]any); ok {
		templateVarRefs(r["Parameters"], names)
		if c, ok := r["ReaderConfig"].(map[string]any); ok {
			if s, ok := c["MaxItemsPath"].(string); ok {
				expressionVarRefs(s, names)
			}
		}
	}
	if b, ok := st["ItemBatcher"].(map[string]any); ok {
		templateVarRefs(b["BatchInput"], names)
		for _, f := range []string{"MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"} {
			if s, ok := b[f].(string); ok {
				expressionVarRefs(s, names)
			}
		}
	}
	choices, _ := st["Choices"].([]any)
	for _, c := range choices {
		ruleVarRefs(c, names)
	}
	catchers, _ := st["Catch"].([]any)
	for _, c := range catchers {
		if c, ok := c.(map[string]any); ok {
			templateVarRefs(c["Assign"], names)
		}
	}
}

// ruleVarRefs appends the variables a Choice rule reads: its Variable,
// its ...Path comparison, the rules And, Or and Not hold, and a top-level
// rule's Assign.
func ruleVarRefs(v any, names *[]string) {
	rule, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, val := range rule {
		switch {
		case k == "Variable" || strings.HasSuffix(k, "Path"):
			if s, ok := val.(string); ok {
				expressionVarRefs(s, names)
			}
		case k == "And" || k == "Or":
			rules, _ := val.([]any)
			for _, r := range rules {
				ruleVarRefs(r, names)
			}
		case k == "Not":
			ruleVarRefs(val, names)
		case k == "Assign":
			templateVarRefs(val, names)
		}
	}
}

// templateVarRefs appends the variables a payload template reads: the
// paths and intrinsic functions of its "key.$" values, at any depth.
func templateVarRefs(v any, names *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if s, ok := val.(string); ok && strings.HasSuffix(k, ".$") {
				expressionVarRefs(s, names)
			} else {
				templateVarRefs(val, names)
			}
		}
	case []any:
		for _, e := range v {
			templateVarRefs(e, names)
		}
	}
}

// expressionVarRefs appends the variables a path or an intrinsic function
// reads. One that does not compile reads none: the definition's
// validation reports it.
func expressionVarRefs(s string, names *[]string) {
	if isIntrinsic(s) {
		if call, err := CompileIntrinsic(s); err == nil {
			intrinsicVarRefs(call, names)
		}
		return
	}
	if p, err := CompilePath(s); err == nil && p.root == rootVar {
		*names = append(*names, p.varName)
	}
}

func intrinsicVarRefs(call *Intrinsic, names *[]string) {
	for _, a := range call.args {
		switch {
		case a.path != nil && a.path.root == rootVar:
			*names = append(*names, a.path.varName)
		case a.call != nil:
			intrinsicVarRefs(a.call, names)
		}
	}
}
