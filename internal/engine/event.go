package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// Event is one history event, as GetExecutionHistory returns it.
//
// Details are kept as Go values and serialized only when the event is
// marshalled (MarshalJSON writes the AWS shape: the details object under
// the key AWS uses for the type, e.g. "stateEnteredEventDetails", with
// input and output as JSON text).
type Event struct {
	ID              int64
	PreviousEventID int64
	Timestamp       time.Time
	Type            string
	Details         EventDetails
}

// EventDetails holds the details of any event type; which fields apply
// depends on the type (see MarshalJSON).
type EventDetails struct {
	Name   string // state name (state events, map iteration events)
	Input  any    // state / execution input (Go value)
	Output any    // state / execution / task output (Go value)
	// AssignedVariables maps variable names to their values as JSON text.
	AssignedVariables map[string]string
	Error             string
	Cause             string
	HasError          bool   // error field present
	HasCause          bool   // cause field present
	RoleArn           string // ExecutionStarted
	// Extra holds the details of the less frequent event types (tasks,
	// map runs and iterations, evaluation failures); nil for the others,
	// which keeps the common state events small.
	Extra *EventExtra
}

// EventExtra holds the less frequent event details.
type EventExtra struct {
	Location         string // EvaluationFailed
	Index            int    // map iteration index
	Length           int    // map state length
	MapRunArn        string
	StateMachineArn  string
	Resource         string
	ResourceType     string
	Region           string
	Parameters       any // task parameters (Go value)
	TimeoutInSeconds int64
	HeartbeatSeconds int64
}

var noExtra EventExtra

func (d *EventDetails) extra() *EventExtra {
	if d.Extra == nil {
		return &noExtra
	}
	return d.Extra
}

// StateName returns the state name for *StateEntered and *StateExited
// events and "" otherwise.
func (e *Event) StateName() string {
	if strings.HasSuffix(e.Type, "StateEntered") || strings.HasSuffix(e.Type, "StateExited") {
		return e.Details.Name
	}
	return ""
}

// detailsKind says which details shape an event type has.
type detailsKind int

const (
	kindNone detailsKind = iota
	kindEntered
	kindExited
	kindExecStarted
	kindExecSucceeded
	kindFailure // error + cause
	kindEvaluationFailed
	kindMapStarted
	kindMapIteration
	kindMapRunStarted
	kindTaskScheduled
	kindTaskStarted
	kindTaskSucceeded
	kindTaskFailure
	kindLambdaScheduled
	kindActivityScheduled
)

// detailsFor returns the AWS details key and shape of an event type.
func detailsFor(typ string) (string, detailsKind) {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails", kindEntered
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails", kindExited
	}
	switch typ {
	case "ExecutionStarted":
		return "executionStartedEventDetails", kindExecStarted
	case "ExecutionSucceeded":
		return "executionSucceededEventDetails", kindExecSucceeded
	case "ExecutionFailed":
		return "executionFailedEventDetails", kindFailure
	case "ExecutionAborted":
		return "executionAbortedEventDetails", kindFailure
	case "ExecutionTimedOut":
		return "executionTimedOutEventDetails", kindFailure
	case "EvaluationFailed":
		return "evaluationFailedEventDetails", kindEvaluationFailed
	case "MapStateStarted":
		return "mapStateStartedEventDetails", kindMapStarted
	case "MapIterationStarted":
		return "mapIterationStartedEventDetails", kindMapIteration
	case "MapIterationSucceeded":
		return "mapIterationSucceededEventDetails", kindMapIteration
	case "MapIterationFailed":
		return "mapIterationFailedEventDetails", kindMapIteration
	case "MapIterationAborted":
		return "mapIterationAbortedEventDetails", kindMapIteration
	case "MapRunStarted":
		return "mapRunStartedEventDetails", kindMapRunStarted
	case "MapRunFailed":
		return "mapRunFailedEventDetails", kindFailure
	case "TaskScheduled":
		return "taskScheduledEventDetails", kindTaskScheduled
	case "TaskStarted":
		return "taskStartedEventDetails", kindTaskStarted
	case "TaskSucceeded":
		return "taskSucceededEventDetails", kindTaskSucceeded
	case "TaskFailed":
		return "taskFailedEventDetails", kindTaskFailure
	case "TaskTimedOut":
		return "taskTimedOutEventDetails", kindTaskFailure
	case "TaskSubmitted":
		return "taskSubmittedEventDetails", kindTaskSucceeded
	case "LambdaFunctionScheduled":
		return "lambdaFunctionScheduledEventDetails", kindLambdaScheduled
	case "LambdaFunctionSucceeded":
		return "lambdaFunctionSucceededEventDetails", kindExecSucceeded
	case "LambdaFunctionFailed":
		return "lambdaFunctionFailedEventDetails", kindFailure
	case "LambdaFunctionTimedOut":
		return "lambdaFunctionTimedOutEventDetails", kindFailure
	case "ActivityScheduled":
		return "activityScheduledEventDetails", kindActivityScheduled
	case "ActivitySucceeded":
		return "activitySucceededEventDetails", kindExecSucceeded
	case "ActivityFailed":
		return "activityFailedEventDetails", kindFailure
	case "ActivityTimedOut":
		return "activityTimedOutEventDetails", kindFailure
	}
	return "", kindNone
}

// MarshalJSON writes the event in the AWS GetExecutionHistory shape (see
// AppendJSON).
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil), nil
}

// UnmarshalJSON reads the shape MarshalJSON writes. The id, type and
// timestamp are required; a member of the wrong type is an error.
func (e *Event) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("engine: unmarshal event: %w", err)
	}
	var ts string
	for _, f := range []struct {
		name     string
		v        any
		required bool
	}{
		{"id", &e.ID, true},
		{"previousEventId", &e.PreviousEventID, false},
		{"type", &e.Type, true},
		{"timestamp", &ts, true},
	} {
		b, ok := raw[f.name]
		if !ok {
			if f.required {
				return fmt.Errorf("engine: unmarshal event: %s: missing", f.name)
			}
			continue
		}
		if err := json.Unmarshal(b, f.v); err != nil {
			return fmt.Errorf("engine: unmarshal event: %s: %w", f.name, err)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fmt.Errorf("engine: unmarshal event: timestamp: %w", err)
	}
	e.Timestamp = t
	key, _ := detailsFor(e.Type)
	return e.unmarshalDetails(raw[key], nil)
}

// unmarshalDetails sets e.Details from the details object of e.Type: as
// MarshalJSON writes it or as a batch does (see AppendEventBatch), with
// input, output and parameters members that are numbers of the batch's
// texts.
func (e *Event) unmarshalDetails(b []byte, texts []string) error {
	key, kind := detailsFor(e.Type)
	e.Details = EventDetails{}
	if key == "" || b == nil {
		return nil
	}
	var det struct {
		Name              string            `json:"name"`
		Input             json.RawMessage   `json:"input"`
		Output            json.RawMessage   `json:"output"`
		Parameters        json.RawMessage   `json:"parameters"`
		AssignedVariables map[string]string `json:"assignedVariables"`
		Error             *string           `json:"error"`
		Cause             *string           `json:"cause"`
		Location          string            `json:"location"`
		State             string            `json:"state"`
		Index             int               `json:"index"`
		Length            int               `json:"length"`
		MapRunArn         string            `json:"mapRunArn"`
		RoleArn           string            `json:"roleArn"`
		StateMachineArn   string            `json:"stateMachineArn"`
		Resource          string            `json:"resource"`
		ResourceType      string            `json:"resourceType"`
		Region            string            `json:"region"`
		TimeoutInSeconds  int64             `json:"timeoutInSeconds"`
		HeartbeatSeconds  int64             `json:"heartbeatInSeconds"`
	}
	if err := json.Unmarshal(b, &det); err != nil {
		return fmt.Errorf("engine: unmarshal %s of event %d: %w", key, e.ID, err)
	}
	d := &e.Details
	d.Name = det.Name
	if det.State != "" {
		d.Name = det.State
	}
	if kind == kindExecStarted && det.StateMachineArn != "" {
		d.Extra = &EventExtra{StateMachineArn: det.StateMachineArn}
	}
	var bad error
	parse := func(member string, raw json.RawMessage) any {
		s, err := eventText(raw, texts)
		if err != nil {
			bad = fmt.Errorf("engine: unmarshal %s.%s of event %d: %w", key, member, e.ID, err)
		}
		if s == nil {
			return nil
		}
		v, err := asl.ParseJSON([]byte(*s))
		if err != nil {
			return *s
		}
		return v
	}
	d.Input, d.Output = parse("input", det.Input), parse("output", det.Output)
	d.AssignedVariables = det.AssignedVariables
	if det.Error != nil {
		d.Error, d.HasError = *det.Error, true
	}
	if det.Cause != nil {
		d.Cause, d.HasCause = *det.Cause, true
	}
	d.RoleArn = det.RoleArn
	if kind == kindLambdaScheduled || kind == kindActivityScheduled {
		det.Parameters, d.Input = det.Input, nil
	}
	switch kind {
	case kindEntered, kindExited, kindExecSucceeded, kindFailure, kindNone, kindExecStarted:
	default:
		d.Extra = &EventExtra{Location: det.Location, Index: det.Index, Length: det.Length,
			MapRunArn: det.MapRunArn, StateMachineArn: det.StateMachineArn, Resource: det.Resource,
			ResourceType: det.ResourceType, Region: det.Region, Parameters: parse("parameters", det.Parameters),
			TimeoutInSeconds: det.TimeoutInSeconds, HeartbeatSeconds: det.HeartbeatSeconds}
	}
	return bad
}

// eventText returns the text of an input, output or parameters member:
// a JSON string, or in a batch the number of one of its texts; nil when
// the member is absent or null.
func eventText(raw json.RawMessage, texts []string) (*string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return &s, nil
	}
	i, err := strconv.Atoi(string(raw))
	if err != nil || i < 0 || i >= len(texts) {
		return nil, fmt.Errorf("want a string or the number of one of the batch's %d texts, got %.20s", len(texts), raw)
	}
	return &texts[i], nil
}
