package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/stepmon/stepmon/internal/asl"
	"testing"
	"time"
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
