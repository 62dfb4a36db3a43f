package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// eventTypesForJSON lists every event type with a details shape, and
// some without one.
var eventTypesForJSON = []string{
	"PassStateEntered", "TaskStateExited", "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed",
	"ExecutionAborted", "ExecutionTimedOut", "EvaluationFailed", "MapStateStarted", "MapIterationStarted",
	"MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted", "MapRunStarted", "MapRunFailed",
	"TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskSubmitted",
	"LambdaFunctionScheduled", "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
	"ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "ActivityFailed", "ActivityTimedOut",
	"ParallelStateStarted", "MapRunSucceeded", "WaitStateExited",
}

// oddStrings are strings that encoders tend to get wrong.
var oddStrings = []string{
	"", "plain", `quote " and \ backslash`, "<html> & </html>", "tab\tnew\nline\x01\x1f\x7f",
	"unicodé ✓ 日本", "line\u2028sep\u2029", "bad utf-8 \xff\xfe", "emoji 🙂",
}

func oddEvent(typ string, i int, s string) Event {
	shared := map[string]any{"s": s, "n": float64(i), "html": "<b>", "list": []any{s, true, nil, 1.5}}
	d := EventDetails{Name: s, Input: shared, Output: shared, Error: s, Cause: s + "!",
		HasError: i%2 == 0, HasCause: i%3 != 0, RoleArn: "arn:aws:iam::1:role/" + s}
	if i%2 == 1 {
		d.AssignedVariables = map[string]string{"b": `"` + s + `"`, "a": "1", s: "null"}
		d.Output = []any{s, shared}
	}
	if i%4 != 3 {
		d.Extra = &EventExtra{Location: s, Index: i, Length: i * 2, MapRunArn: "arn:" + s, Resource: "arn:aws:lambda:" + s,
			ResourceType: "lambda", Region: "us-east-1", Parameters: map[string]any{"FunctionName": s, "Payload": shared},
			TimeoutInSeconds: int64(i % 3), HeartbeatSeconds: int64(i % 2)}
	}
	return Event{ID: int64(i + 1), PreviousEventID: int64(i), Type: typ, Details: d,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, i*1000, time.FixedZone("x", 3600))}
}

// AppendJSON writes exactly the bytes of the map-based encoder it
// replaced, for every event type and odd strings in every field.
func TestAppendJSONMatchesReference(t *testing.T) {
	var evs []Event
	for i, typ := range eventTypesForJSON {
		for j, s := range oddStrings {
			evs = append(evs, oddEvent(typ, i+j, s))
		}
	}
	for _, ev := range evs {
		want, err := referenceJSON(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("%s %q:\n got %s\nwant %s", ev.Type, ev.Details.Name, got, want)
		}
		if got, err := json.Marshal(ev); err != nil || !bytes.Equal(got, want) {
			t.Errorf("json.Marshal(%s) = %s, %v", ev.Type, got, err)
		}
	}
}

// The text cache of a batch tells values apart by identity: two arrays
// over one backing array but of different lengths are different values.
func TestEventBatchTextCache(t *testing.T) {
	backing := []any{1.0, 2.0, 3.0}
	shared := map[string]any{"a": 1.0}
	evs := []Event{
		{ID: 1, Type: "PassStateEntered", Details: EventDetails{Input: backing[:2]}},
		{ID: 2, Type: "PassStateExited", Details: EventDetails{Output: backing[:3]}},
		{ID: 3, Type: "ChoiceStateEntered", Details: EventDetails{Input: shared}},
		{ID: 4, Type: "ChoiceStateExited", Details: EventDetails{Output: shared}},
		{ID: 5, Type: "WaitStateEntered", Details: EventDetails{Input: map[string]any{"a": 2.0}}},
	}
	got, err := DecodeEventBatch(AppendEventBatch(nil, evs))
	if err != nil || len(got) != len(evs) {
		t.Fatalf("DecodeEventBatch: %d events, %v", len(got), err)
	}
	for i, ev := range evs {
		if g, w := got[i].AppendJSON(nil), jsonRoundTrip(t, ev); !bytes.Equal(g, w) {
			t.Errorf("event %d:\n got %s\nwant %s", ev.ID, g, w)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(uint16(i), s, `{"k":"`+s+`"}`)
	}
	f.Fuzz(func(t *testing.T, n uint16, s, input string) {
		i := int(n)
		var in any = input
		if err := json.Unmarshal([]byte(input), &in); err != nil {
			in = input
		}
		ev := oddEvent(eventTypesForJSON[i%len(eventTypesForJSON)], i%1000, s)
		ev.Details.Input = in
		want, err := referenceJSON(ev)
		if err != nil {
			t.Fatalf("reference encoder: %v", err)
		}
		if got := ev.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	})
}

type truncated struct {
	Truncated bool `json:"truncated"`
}

// referenceJSON is the event encoder AppendJSON replaced: maps of its
// members through encoding/json. AppendJSON must write the same bytes.
func referenceJSON(e Event) ([]byte, error) {
	m := map[string]any{
		"id":              e.ID,
		"previousEventId": e.PreviousEventID,
		"timestamp":       e.Timestamp.UTC().Format(time.RFC3339Nano),
		"type":            e.Type,
	}
	key, kind := detailsFor(e.Type)
	d := e.Details
	x := d.extra()
	var det map[string]any
	switch kind {
	case kindEntered:
		det = map[string]any{"name": d.Name, "input": asl.Text(d.Input), "inputDetails": truncated{}}
	case kindExited:
		det = map[string]any{"name": d.Name, "output": asl.Text(d.Output), "outputDetails": truncated{}}
		if len(d.AssignedVariables) > 0 {
			det["assignedVariables"] = d.AssignedVariables
			det["assignedVariablesDetails"] = truncated{}
		}
	case kindExecStarted:
		det = map[string]any{"input": asl.Text(d.Input), "inputDetails": truncated{}, "roleArn": d.RoleArn}
	case kindExecSucceeded:
		det = map[string]any{"output": asl.Text(d.Output), "outputDetails": truncated{}}
	case kindFailure:
		det = map[string]any{}
		if d.HasError {
			det["error"] = d.Error
		}
		if d.HasCause {
			det["cause"] = d.Cause
		}
	case kindEvaluationFailed:
		det = map[string]any{"error": d.Error, "cause": d.Cause, "state": d.Name}
		if x.Location != "" {
			det["location"] = x.Location
		}
	case kindMapStarted:
		det = map[string]any{"length": x.Length}
	case kindMapIteration:
		det = map[string]any{"name": d.Name, "index": x.Index}
	case kindMapRunStarted:
		det = map[string]any{"mapRunArn": x.MapRunArn}
	case kindTaskScheduled:
		det = map[string]any{"resource": x.Resource, "resourceType": x.ResourceType, "region": x.Region,
			"parameters": asl.Text(x.Parameters)}
		if x.TimeoutInSeconds > 0 {
			det["timeoutInSeconds"] = x.TimeoutInSeconds
		}
		if x.HeartbeatSeconds > 0 {
			det["heartbeatInSeconds"] = x.HeartbeatSeconds
		}
	case kindLambdaScheduled, kindActivityScheduled:
		det = map[string]any{"resource": x.Resource, "input": asl.Text(x.Parameters), "inputDetails": truncated{}}
		if x.TimeoutInSeconds > 0 {
			det["timeoutInSeconds"] = x.TimeoutInSeconds
		}
		if kind == kindActivityScheduled && x.HeartbeatSeconds > 0 {
			det["heartbeatInSeconds"] = x.HeartbeatSeconds
		}
	case kindTaskStarted:
		det = map[string]any{"resource": x.Resource, "resourceType": x.ResourceType}
	case kindTaskSucceeded:
		det = map[string]any{"resource": x.Resource, "resourceType": x.ResourceType,
			"output": asl.Text(d.Output), "outputDetails": truncated{}}
	case kindTaskFailure:
		det = map[string]any{"resource": x.Resource, "resourceType": x.ResourceType}
		if d.HasError {
			det["error"] = d.Error
		}
		if d.HasCause {
			det["cause"] = d.Cause
		}
	}
	if det != nil {
		m[key] = det
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("engine: marshal event %d: %w", e.ID, err)
	}
	return b, nil
}

// fullEvent returns an event of type typ with every detail set.
func fullEvent(typ string) Event {
	return Event{ID: 7, PreviousEventID: 6, Type: typ, Timestamp: time.Date(2026, 12, 6, 9, 0, 0, 5, time.UTC),
		Details: EventDetails{Name: "S", Input: map[string]any{"in": 1.0}, Output: []any{"out"},
			AssignedVariables: map[string]string{"v": "1"}, Error: "E", Cause: "C", HasError: true, HasCause: true,
			RoleArn: "arn:aws:iam::1:role/r",
			Extra: &EventExtra{Location: "L", Index: 3, Length: 4, MapRunArn: "arn:m", StateMachineArn: "arn:sm",
				Resource: "invoke", ResourceType: "lambda", Region: "us-east-1", Parameters: map[string]any{"p": true},
				TimeoutInSeconds: 60, HeartbeatSeconds: 10}}}
}

// Each event type writes its details under the key GetExecutionHistory
// uses, with the members AWS shows for the type.
func TestEventJSONDetailsShape(t *testing.T) {
	for _, tc := range []struct {
		typ, key, members string
	}{
		{"PassStateEntered", "stateEnteredEventDetails", "input inputDetails name"},
		{"TaskStateExited", "stateExitedEventDetails", "assignedVariables assignedVariablesDetails name output outputDetails"},
		{"ExecutionStarted", "executionStartedEventDetails", "input inputDetails roleArn"},
		{"ExecutionSucceeded", "executionSucceededEventDetails", "output outputDetails"},
		{"ExecutionFailed", "executionFailedEventDetails", "cause error"},
		{"ExecutionAborted", "executionAbortedEventDetails", "cause error"},
		{"ExecutionTimedOut", "executionTimedOutEventDetails", "cause error"},
		{"EvaluationFailed", "evaluationFailedEventDetails", "cause error location state"},
		{"MapStateStarted", "mapStateStartedEventDetails", "length"},
		{"MapIterationStarted", "mapIterationStartedEventDetails", "index name"},
		{"MapIterationSucceeded", "mapIterationSucceededEventDetails", "index name"},
		{"MapIterationFailed", "mapIterationFailedEventDetails", "index name"},
		{"MapIterationAborted", "mapIterationAbortedEventDetails", "index name"},
		{"MapRunStarted", "mapRunStartedEventDetails", "mapRunArn"},
		{"MapRunFailed", "mapRunFailedEventDetails", "cause error"},
		{"TaskScheduled", "taskScheduledEventDetails", "heartbeatInSeconds parameters region resource resourceType timeoutInSeconds"},
		{"TaskStarted", "taskStartedEventDetails", "resource resourceType"},
		{"TaskSucceeded", "taskSucceededEventDetails", "output outputDetails resource resourceType"},
		{"TaskFailed", "taskFailedEventDetails", "cause error resource resourceType"},
		{"TaskTimedOut", "taskTimedOutEventDetails", "cause error resource resourceType"},
		{"TaskSubmitted", "taskSubmittedEventDetails", "output outputDetails resource resourceType"},
		{"LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", "input inputDetails resource timeoutInSeconds"},
		{"LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails", "output outputDetails"},
		{"LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", "cause error"},
		{"LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails", "cause error"},
		{"ActivityScheduled", "activityScheduledEventDetails", "heartbeatInSeconds input inputDetails resource timeoutInSeconds"},
		{"ActivitySucceeded", "activitySucceededEventDetails", "output outputDetails"},
		{"ActivityFailed", "activityFailedEventDetails", "cause error"},
		{"ActivityTimedOut", "activityTimedOutEventDetails", "cause error"},
		{"ActivityStarted", "", ""},
		{"ParallelStateStarted", "", ""},
		{"MapRunSucceeded", "", ""},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			ev := fullEvent(tc.typ)
			b := ev.AppendJSON(nil)
			var top map[string]json.RawMessage
			if err := json.Unmarshal(b, &top); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			wantTop := []string{"id", "previousEventId", "timestamp", "type"}
			if tc.key != "" {
				wantTop = append(wantTop, tc.key)
			}
			if got, want := sortedKeys(top), strings.Join(slices.Sorted(slices.Values(wantTop)), " "); got != want {
				t.Errorf("members %q, want %q (%s)", got, want, b)
			}
			if tc.key == "" {
				return
			}
			var det map[string]json.RawMessage
			if err := json.Unmarshal(top[tc.key], &det); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if got := sortedKeys(det); got != tc.members {
				t.Errorf("%s members %q, want %q", tc.key, got, tc.members)
			}
		})
	}
}

// sortedKeys returns the keys of m in order, separated by spaces.
func sortedKeys[V any](m map[string]V) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), " ")
}

// The JSON of an event decodes to an event that writes the same JSON, for
// every event type with every detail set.
func TestEventJSONRoundTripKeepsDetails(t *testing.T) {
	for _, typ := range eventTypesForJSON {
		ev := fullEvent(typ)
		want := ev.AppendJSON(nil)
		var back Event
		if err := back.UnmarshalJSON(want); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got := back.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", typ, got, want)
		}
	}
}

// UnmarshalJSON reads details AWS writes that AppendJSON does not (an
// ExecutionStarted's stateMachineArn), takes an absent or null member as
// no value, keeps an input that is not JSON text as a string and leaves
// nothing of the details of an event it decodes over.
func TestEventUnmarshalJSONDetails(t *testing.T) {
	const head = `{"id":2,"previousEventId":1,"timestamp":"2026-12-06T09:00:00Z","type":`
	for _, tc := range []struct {
		name, json string
		want       EventDetails
	}{
		{"stateMachineArn", head + `"ExecutionStarted","executionStartedEventDetails":{"input":"{}","roleArn":"r","stateMachineArn":"arn:sm"}}`,
			EventDetails{Input: map[string]any{}, RoleArn: "r", Extra: &EventExtra{StateMachineArn: "arn:sm"}}},
		{"no stateMachineArn", head + `"ExecutionStarted","executionStartedEventDetails":{"input":"1"}}`,
			EventDetails{Input: 1.0}},
		{"null input", head + `"PassStateEntered","stateEnteredEventDetails":{"name":"P","input":null}}`,
			EventDetails{Name: "P"}},
		{"no details", head + `"PassStateEntered"}`, EventDetails{}},
		{"input not JSON", head + `"PassStateEntered","stateEnteredEventDetails":{"name":"P","input":"{not json"}}`,
			EventDetails{Name: "P", Input: "{not json"}},
		{"a Lambda function's input is its parameters", head + `"LambdaFunctionScheduled","lambdaFunctionScheduledEventDetails":{"resource":"f","input":"[1]"}}`,
			EventDetails{Extra: &EventExtra{Resource: "f", Parameters: []any{1.0}}}},
		{"an activity's input is its parameters", head + `"ActivityScheduled","activityScheduledEventDetails":{"resource":"a","input":"2","heartbeatInSeconds":5}}`,
			EventDetails{Extra: &EventExtra{Resource: "a", Parameters: 2.0, HeartbeatSeconds: 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := fullEvent("TaskSucceeded") // decoded over
			if err := json.Unmarshal([]byte(tc.json), &ev); err != nil {
				t.Fatalf("unmarshal %s: %v", tc.json, err)
			}
			if !reflect.DeepEqual(ev.Details, tc.want) {
				t.Errorf("details %+v (extra %+v), want %+v (extra %+v)", ev.Details, ev.Details.Extra, tc.want, tc.want.Extra)
			}
		})
	}
}

// A details member that is not an object is an error naming it.
func TestEventUnmarshalJSONBadDetails(t *testing.T) {
	var ev Event
	err := ev.UnmarshalJSON([]byte(`{"id":2,"timestamp":"2026-12-06T09:00:00Z","type":"PassStateEntered","stateEnteredEventDetails":5}`))
	if err == nil || !strings.Contains(err.Error(), "stateEnteredEventDetails of event 2") {
		t.Errorf("UnmarshalJSON = %v, want an error naming stateEnteredEventDetails of event 2", err)
	}
}

// appendJSONString writes what encoding/json writes, for strings with
// each character it escapes on its own.
func TestAppendJSONString(t *testing.T) {
	for _, s := range append([]string{"a & b", "a < b", "a > b", `a " b`, `a \ b`, "a \x7f b", "a \x1f b", " ", "ü"}, oddStrings...) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}
