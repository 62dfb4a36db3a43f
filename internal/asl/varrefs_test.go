package asl

import (
	"reflect"
	"testing"
)

// TestVariableReferences: the variables each JSONPath state reads, as
// DescribeStateMachine answers them (AWS's recorded answers: by state
// name, sorted, once each, states of Map and Parallel states included).
func TestVariableReferences(t *testing.T) {
	tests := []struct {
		name, def string
		want      map[string][]string
	}{
		{"a template's path", `{"StartAt":"A","States":{
			"A":{"Type":"Pass","Assign":{"n":1},"Next":"B"},
			"B":{"Type":"Pass","Parameters":{"v.$":"$n","plain":"$n","in.$":"$.x"},"End":true}}}`,
			map[string][]string{"B": {"n"}}},
		{"a choice's variable and comparison, and an assignment", `{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$guess","StringEqualsPath":"$answer","Next":"D"},
				{"Not":{"Variable":"$flag.on","BooleanEquals":true},"Next":"D","Assign":{"seen.$":"$count"}}],"Default":"D"},
			"D":{"Type":"Pass","Assign":{"guess.$":"$answer"},"End":true}}}`,
			map[string][]string{"C": {"answer", "count", "flag", "guess"}, "D": {"answer"}}},
		{"paths of a Wait and a Pass, once each", `{"StartAt":"W","States":{
			"W":{"Type":"Wait","SecondsPath":"$wait","Next":"P"},
			"P":{"Type":"Pass","InputPath":"$answer","OutputPath":"$answer","ResultPath":"$.r","End":true}}}`,
			map[string][]string{"W": {"wait"}, "P": {"answer"}}},
		{"intrinsic arguments, nested, inside a Map", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$items",
			"MaxConcurrencyPath":"$most","ItemSelector":{"x.$":"States.Format($tmpl, $$.Map.Item.Value)"},
			"ItemProcessor":{"StartAt":"S","States":{"S":{"Type":"Pass",
				"Assign":{"sum.$":"States.MathAdd(States.MathAdd($a, $b), $.c)"},"End":true}}},"End":true}}}`,
			map[string][]string{"M": {"items", "most", "tmpl"}, "S": {"a", "b"}}},
		{"a distributed Map's reader, batcher and thresholds", `{"StartAt":"M","States":{"M":{"Type":"Map",
			"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItemsPath":"$max"},
				"Parameters":{"Bucket.$":"$bucket","Key":"k"}},
			"ItemBatcher":{"MaxItemsPerBatchPath":"$batch","BatchInput":{"b.$":"$shared"}},
			"ToleratedFailureCountPath":"$count","ToleratedFailurePercentagePath":"$pct",
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
				"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			map[string][]string{"M": {"batch", "bucket", "count", "max", "pct", "shared"}}},
		{"a Parallel's branches, a catcher and a Fail", `{"StartAt":"P","States":{"P":{"Type":"Parallel",
			"Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$err","CausePath":"States.Format('{}', $why)"}}}],
			"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"last.$":"$prev"},"Next":"E"}],"Next":"E"},
			"E":{"Type":"Succeed"}}}`,
			map[string][]string{"F": {"err", "why"}, "P": {"prev"}}},
		{"JSONata states are left out", `{"QueryLanguage":"JSONata","StartAt":"A","States":{
			"A":{"Type":"Pass","Assign":{"x":"{% $y %}"},"Next":"B"},
			"B":{"Type":"Pass","QueryLanguage":"JSONPath","Parameters":{"v.$":"$x"},"End":true}}}`,
			map[string][]string{"B": {"x"}}},
		{"none", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$.a","c.$":"$$.Execution.Id"},"End":true}}}`,
			map[string][]string{}},
		{"not JSON", `{`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VariableReferences(tt.def); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("VariableReferences = %v, want %v", got, tt.want)
			}
		})
	}
}
