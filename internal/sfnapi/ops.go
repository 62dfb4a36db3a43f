package sfnapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stepmon/stepmon/internal/engine"
)

type createStateMachineInput struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
	RoleArn    string `json:"roleArn"`
	Type       string `json:"type"`
}

type createStateMachineOutput struct {
	StateMachineArn string `json:"stateMachineArn"`
	CreationDate    epoch  `json:"creationDate"`
}

// createStateMachine is idempotent like AWS's: the same name with the
// same definition and role returns the existing machine.
func (h *Handler) createStateMachine(ctx context.Context, in *createStateMachineInput) (any, error) {
	if err := firstErr(required("name", in.Name), validName("name", in.Name), validDefinition(in.Definition),
		required("roleArn", in.RoleArn)); err != nil {
		return nil, err
	}
	switch in.Type {
	case "", "STANDARD":
	case "EXPRESS":
		return nil, apiErrorf(ErrTypeStateMachineTypeNotSupported, "the local runtime runs STANDARD state machines only")
	default:
		return nil, apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	sm, err := h.backend.CreateStateMachine(ctx, in.Name, in.Definition, in.RoleArn)
	if errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		return h.existingStateMachine(ctx, in, err)
	}
	if err != nil {
		return nil, toAPIError(err, in.Name)
	}
	return createStateMachineOutput{sm.Arn, epoch(sm.CreatedAt)}, nil
}

// existingStateMachine answers a CreateStateMachine whose name is taken:
// the existing machine when it is identical, StateMachineAlreadyExists
// otherwise.
func (h *Handler) existingStateMachine(ctx context.Context, in *createStateMachineInput, createErr error) (any, error) {
	page := ""
	for {
		sms, next, err := h.backend.ListStateMachines(ctx, maxPageSize, page)
		if err != nil {
			return nil, toAPIError(err, "")
		}
		for _, sm := range sms {
			if sm.Name != in.Name {
				continue
			}
			if sm.Definition == in.Definition && sm.RoleArn == in.RoleArn {
				return createStateMachineOutput{sm.Arn, epoch(sm.CreatedAt)}, nil
			}
			return nil, toAPIError(createErr, sm.Arn)
		}
		if next == "" {
			return nil, toAPIError(createErr, in.Name)
		}
		page = next
	}
}

type arnInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	ExecutionArn    string `json:"executionArn"`
}

type loggingConfiguration struct {
	Level                string `json:"level"`
	IncludeExecutionData bool   `json:"includeExecutionData"`
}

type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

type describeStateMachineOutput struct {
	StateMachineArn      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Status               string               `json:"status"`
	Definition           string               `json:"definition"`
	RoleArn              string               `json:"roleArn"`
	Type                 string               `json:"type"`
	CreationDate         epoch                `json:"creationDate"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
	RevisionID           string               `json:"revisionId,omitempty"`
}

func describeSM(sm engine.StateMachine) describeStateMachineOutput {
	typ := sm.Type
	if typ == "" {
		typ = "STANDARD"
	}
	return describeStateMachineOutput{StateMachineArn: sm.Arn, Name: sm.Name, Status: "ACTIVE",
		Definition: sm.Definition, RoleArn: sm.RoleArn, Type: typ, CreationDate: epoch(sm.CreatedAt),
		LoggingConfiguration: loggingConfiguration{Level: "OFF"}, RevisionID: sm.RevisionID}
}

func (h *Handler) describeStateMachine(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return nil, err
	}
	sm, err := h.backend.DescribeStateMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	return describeSM(sm), nil
}

type pageInput struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type stateMachineListItem struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	CreationDate    epoch  `json:"creationDate"`
}

type listStateMachinesOutput struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

func (h *Handler) listStateMachines(ctx context.Context, in *pageInput) (any, error) {
	if err := validPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	sms, next, err := h.backend.ListStateMachines(ctx, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, toAPIError(err, "")
	}
	out := listStateMachinesOutput{StateMachines: make([]stateMachineListItem, 0, len(sms)), NextToken: next}
	for _, sm := range sms {
		d := describeSM(sm)
		out.StateMachines = append(out.StateMachines, stateMachineListItem{d.StateMachineArn, d.Name, d.Type, d.CreationDate})
	}
	return out, nil
}

type updateStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Definition      string `json:"definition"`
	RoleArn         string `json:"roleArn"`
}

type updateStateMachineOutput struct {
	UpdateDate epoch  `json:"updateDate"`
	RevisionID string `json:"revisionId,omitempty"`
}

func (h *Handler) updateStateMachine(ctx context.Context, in *updateStateMachineInput) (any, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return nil, err
	}
	if in.Definition == "" && in.RoleArn == "" {
		return nil, apiErrorf(ErrTypeMissingRequiredParameter, "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")
	}
	if in.Definition != "" {
		if err := validDefinition(in.Definition); err != nil {
			return nil, err
		}
	}
	sm, err := h.backend.UpdateStateMachine(ctx, in.StateMachineArn, in.Definition, in.RoleArn)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	return updateStateMachineOutput{epoch(sm.UpdatedAt), sm.RevisionID}, nil
}

func (h *Handler) deleteStateMachine(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return nil, err
	}
	if err := h.backend.DeleteStateMachine(ctx, in.StateMachineArn); err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	return struct{}{}, nil
}

type startExecutionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
	TraceHeader     string `json:"traceHeader"`
}

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
	StartDate    epoch  `json:"startDate"`
}

func (h *Handler) start(ctx context.Context, in *startExecutionInput) (engine.Execution, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return engine.Execution{}, err
	}
	if in.Name != "" {
		if err := validName("name", in.Name); err != nil {
			return engine.Execution{}, err
		}
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if err := validInput(in.Input); err != nil {
		return engine.Execution{}, err
	}
	x, err := h.backend.StartExecution(ctx, in.StateMachineArn, in.Name, in.Input)
	if err != nil {
		arn := in.StateMachineArn
		if errors.Is(err, engine.ErrExecutionAlreadyExists) {
			arn = executionArnFor(in.StateMachineArn, in.Name)
		}
		return engine.Execution{}, toAPIError(err, arn)
	}
	return x, nil
}

// executionArnFor returns the ARN an execution named name of a state
// machine gets.
func executionArnFor(smArn, name string) string {
	return strings.Replace(smArn, ":"+arnResourceSM+":", ":"+arnResourceExec+":", 1) + ":" + name
}

func (h *Handler) startExecution(ctx context.Context, in *startExecutionInput) (any, error) {
	x, err := h.start(ctx, in)
	if err != nil {
		return nil, err
	}
	return startExecutionOutput{x.Arn, epoch(x.StartDate)}, nil
}

type dataDetails struct {
	Included bool `json:"included"`
}

type billingDetails struct {
	BilledMemoryUsedInMB         int64 `json:"billedMemoryUsedInMB"`
	BilledDurationInMilliseconds int64 `json:"billedDurationInMilliseconds"`
}

type startSyncExecutionOutput struct {
	ExecutionArn    string          `json:"executionArn"`
	StateMachineArn string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	StartDate       epoch           `json:"startDate"`
	StopDate        epoch           `json:"stopDate"`
	Status          string          `json:"status"`
	Error           string          `json:"error,omitempty"`
	Cause           string          `json:"cause,omitempty"`
	Input           string          `json:"input"`
	InputDetails    dataDetails     `json:"inputDetails"`
	Output          *string         `json:"output,omitempty"`
	OutputDetails   *dataDetails    `json:"outputDetails,omitempty"`
	BillingDetails  *billingDetails `json:"billingDetails"`
}

// startSyncExecution starts an execution and answers when it has
// finished. The sync status has no ABORTED: an execution stopped
// meanwhile is reported FAILED.
func (h *Handler) startSyncExecution(ctx context.Context, in *startExecutionInput) (any, error) {
	x, err := h.start(ctx, in)
	if err != nil {
		return nil, err
	}
	x, err = h.backend.WaitExecution(ctx, x.Arn)
	if err != nil {
		return nil, toAPIError(err, x.Arn)
	}
	out := startSyncExecutionOutput{ExecutionArn: x.Arn, StateMachineArn: x.StateMachineArn, Name: x.Name,
		StartDate: epoch(x.StartDate), StopDate: epoch(x.StopDate), Status: string(x.Status),
		Error: x.Error, Cause: x.Cause, Input: x.Input, InputDetails: dataDetails{true},
		BillingDetails: &billingDetails{BilledDurationInMilliseconds: x.StopDate.Sub(x.StartDate).Milliseconds()}}
	if x.Status == engine.StatusAborted {
		out.Status = string(engine.StatusFailed)
	}
	if x.HasOutput {
		out.Output, out.OutputDetails = &x.Output, &dataDetails{true}
	}
	return out, nil
}

type describeExecutionOutput struct {
	ExecutionArn    string       `json:"executionArn"`
	StateMachineArn string       `json:"stateMachineArn"`
	Name            string       `json:"name"`
	Status          string       `json:"status"`
	StartDate       epoch        `json:"startDate"`
	StopDate        epoch        `json:"stopDate,omitzero"`
	Input           string       `json:"input"`
	InputDetails    dataDetails  `json:"inputDetails"`
	Output          *string      `json:"output,omitempty"`
	OutputDetails   *dataDetails `json:"outputDetails,omitempty"`
	Error           string       `json:"error,omitempty"`
	Cause           string       `json:"cause,omitempty"`
}

func (h *Handler) describeExecution(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("executionArn", in.ExecutionArn, arnResourceExec); err != nil {
		return nil, err
	}
	x, err := h.backend.DescribeExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	out := describeExecutionOutput{ExecutionArn: x.Arn, StateMachineArn: x.StateMachineArn, Name: x.Name,
		Status: string(x.Status), StartDate: epoch(x.StartDate), StopDate: epoch(x.StopDate), Input: x.Input,
		InputDetails: dataDetails{true}, Error: x.Error, Cause: x.Cause}
	if x.HasOutput {
		out.Output, out.OutputDetails = &x.Output, &dataDetails{true}
	}
	return out, nil
}

type stopExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

type stopExecutionOutput struct {
	StopDate epoch `json:"stopDate"`
}

// stopExecution aborts a running execution. Stopping an execution that
// has already finished changes nothing and answers its stop date.
func (h *Handler) stopExecution(ctx context.Context, in *stopExecutionInput) (any, error) {
	if err := validArn("executionArn", in.ExecutionArn, arnResourceExec); err != nil {
		return nil, err
	}
	if len(in.Error) > maxErrorLen {
		return nil, apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if len(in.Cause) > maxCauseLen {
		return nil, apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768")
	}
	x, err := h.backend.StopExecution(ctx, in.ExecutionArn, in.Error, in.Cause)
	if errors.Is(err, engine.ErrExecutionNotRunning) {
		x, err = h.backend.DescribeExecution(ctx, in.ExecutionArn)
	}
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	return stopExecutionOutput{epoch(x.StopDate)}, nil
}

type getExecutionHistoryInput struct {
	ExecutionArn         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults"`
	NextToken            string `json:"nextToken"`
	ReverseOrder         bool   `json:"reverseOrder"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

type getExecutionHistoryOutput struct {
	Events    []json.RawMessage `json:"events"`
	NextToken string            `json:"nextToken,omitempty"`
}

func (h *Handler) getExecutionHistory(ctx context.Context, in *getExecutionHistoryInput) (any, error) {
	if err := firstErr(validArn("executionArn", in.ExecutionArn, arnResourceExec), validPageSize(in.MaxResults)); err != nil {
		return nil, err
	}
	evs, next, err := h.backend.GetExecutionHistory(ctx, in.ExecutionArn,
		engine.HistoryInput{MaxResults: in.MaxResults, NextToken: in.NextToken, ReverseOrder: in.ReverseOrder})
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := getExecutionHistoryOutput{Events: make([]json.RawMessage, 0, len(evs)), NextToken: next}
	for _, ev := range evs {
		b, err := wireEvent(ev, withData)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, b)
	}
	return out, nil
}

// executionData are the members of event details that
// includeExecutionData=false leaves out.
var executionData = []string{"input", "inputDetails", "output", "outputDetails", "parameters",
	"assignedVariables", "assignedVariablesDetails"}

// wireEvent writes a history event in the awsJson shape: engine.Event's
// JSON with the timestamp in epoch seconds, and without the execution
// data unless withData.
func wireEvent(ev engine.Event, withData bool) (json.RawMessage, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("sfnapi: event %d: %w", ev.ID, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("sfnapi: event %d: %w", ev.ID, err)
	}
	ts, _ := epoch(ev.Timestamp).MarshalJSON()
	m["timestamp"] = ts
	if !withData {
		for k, raw := range m {
			if !strings.HasSuffix(k, "EventDetails") {
				continue
			}
			var det map[string]json.RawMessage
			if json.Unmarshal(raw, &det) != nil {
				continue
			}
			for _, f := range executionData {
				delete(det, f)
			}
			m[k], _ = json.Marshal(det)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("sfnapi: event %d: %w", ev.ID, err)
	}
	return out, nil
}

type listExecutionsInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter"`
	MaxResults      int    `json:"maxResults"`
	NextToken       string `json:"nextToken"`
}

type executionListItem struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	StartDate       epoch  `json:"startDate"`
	StopDate        epoch  `json:"stopDate,omitzero"`
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

func (h *Handler) listExecutions(ctx context.Context, in *listExecutionsInput) (any, error) {
	if err := firstErr(validArn("stateMachineArn", in.StateMachineArn, arnResourceSM), validPageSize(in.MaxResults),
		validStatus(in.StatusFilter)); err != nil {
		return nil, err
	}
	xs, next, err := h.backend.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: in.StateMachineArn,
		Status: engine.ExecutionStatus(in.StatusFilter), MaxResults: in.MaxResults, NextToken: in.NextToken})
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	out := listExecutionsOutput{Executions: make([]executionListItem, 0, len(xs)), NextToken: next}
	for _, x := range xs {
		out.Executions = append(out.Executions, executionListItem{x.Arn, x.StateMachineArn, x.Name, string(x.Status),
			epoch(x.StartDate), epoch(x.StopDate)})
	}
	return out, nil
}

type describeStateMachineForExecutionOutput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Definition      string `json:"definition"`
	RoleArn         string `json:"roleArn"`
	UpdateDate      epoch  `json:"updateDate"`
	RevisionID      string `json:"revisionId,omitempty"`
}

// describeStateMachineForExecution describes the state machine an
// execution runs (its current revision: the store keeps no old ones).
func (h *Handler) describeStateMachineForExecution(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("executionArn", in.ExecutionArn, arnResourceExec); err != nil {
		return nil, err
	}
	x, err := h.backend.DescribeExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	sm, err := h.backend.DescribeStateMachine(ctx, x.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, x.StateMachineArn)
	}
	return describeStateMachineForExecutionOutput{sm.Arn, sm.Name, sm.Definition, sm.RoleArn, epoch(sm.UpdatedAt), sm.RevisionID}, nil
}
