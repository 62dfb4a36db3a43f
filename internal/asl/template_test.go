package asl

import "testing"

// LiteralString gives a key's value only when the definition spells it
// out: decoded from its JSON escapes, and not for a path, an intrinsic
// function or a JSONata expression.
func TestTemplateLiteralString(t *testing.T) {
	tests := []struct {
		name, tmpl string
		lang       QueryLanguage
		want       string
		wantOK     bool
	}{
		{"literal", `{"FunctionName": "f", "Payload": {"a": 1}}`, LangJSONPath, "f", true},
		{"escaped", `{"FunctionName": "stepmon\u002dcheck"}`, LangJSONPath, "stepmon-check", true},
		{"beside a path", `{"FunctionName": "f", "Payload.$": "$"}`, LangJSONPath, "f", true},
		{"path", `{"FunctionName.$": "$.f"}`, LangJSONPath, "", false},
		{"intrinsic", `{"FunctionName.$": "States.Format('{}', 'f')"}`, LangJSONPath, "", false},
		{"JSONata literal", `{"FunctionName": "f", "Payload": "{% $states.input %}"}`, LangJSONata, "f", true},
		{"JSONata expression", `{"FunctionName": "{% 'f' %}"}`, LangJSONata, "", false},
		{"JSONata syntax in JSONPath", `{"FunctionName": "{% 'f' %}"}`, LangJSONPath, "{% 'f' %}", true},
		{"not a string", `{"FunctionName": 1}`, LangJSONPath, "", false},
		{"missing", `{"Payload": {}}`, LangJSONPath, "", false},
		{"not an object", `"FunctionName"`, LangJSONPath, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := CompileTemplate("Parameters", mustJSON(t, tt.tmpl), tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := tmpl.LiteralString("FunctionName")
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("LiteralString = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	var nilTmpl *Template
	if _, ok := nilTmpl.LiteralString("FunctionName"); ok {
		t.Error("a nil template has a literal")
	}
}
