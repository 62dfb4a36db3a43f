package sfnapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// createStateMachineInput is CreateStateMachine's request. Pointers tell
// an absent member from an empty one, which AWS treats differently.
type createStateMachineInput struct {
	Name       *string `json:"name"`
	Definition *string `json:"definition"`
	RoleArn    *string `json:"roleArn"`
	Type       *string `json:"type"`
	// Kept with the machine (ListTagsForResource).
	Tags []tag `json:"tags"`
	// Kept with the machine's revision and answered by
	// DescribeStateMachine (see config.go); nothing is logged, traced
	// or encrypted with KMS.
	LoggingConfiguration    *loggingConfiguration    `json:"loggingConfiguration"`
	TracingConfiguration    *tracingConfiguration    `json:"tracingConfiguration"`
	EncryptionConfiguration *encryptionConfiguration `json:"encryptionConfiguration"`
	// Validated and ignored: the local runtime keeps no versions.
	Publish            bool    `json:"publish"`
	VersionDescription *string `json:"versionDescription"`
}

// tag is a Tag of the API: both members are optional in the model, and
// only their lengths are constrained.
type tag struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// Limits of tags (the Tag shape, and the per-resource quota whose
// excess is TooManyTags).
const (
	maxTagKeyLen   = 128
	maxTagValueLen = 256
	maxTags        = 50
)

// validTags checks a tag list as AWS does: Coral's length constraints on
// every key (1 to 128 characters) and value (0 to 256), members named
// "tags.N.member.key" counting from 1 (tagMembers); then at most 50 tags
// for the resource, else TooManyTags naming it.
func validTags(resource string, tags []tag) error {
	errs := tagMembers(tags)
	if len(tags) > maxTags {
		errs = append(errs, tooManyTags(resource))
	}
	return checkAll(errs...)
}

// tagMembers checks the lengths of the keys and values of a tag list,
// as Coral does, one error per violated constraint. The characters AWS
// allows in tags (letters, digits, white space and _ . : / = + - @) are
// not checked: AWS documents the rule but not the error it answers.
func tagMembers(tags []tag) []error {
	var errs []error
	for i, t := range tags {
		errs = append(errs,
			lengthIn(fmt.Sprintf("tags.%d.member.key", i+1), t.Key, 1, maxTagKeyLen, false),
			lengthIn(fmt.Sprintf("tags.%d.member.value", i+1), t.Value, 0, maxTagValueLen, false))
	}
	return errs
}

// tooManyTags is the TooManyTags of a resource that would have more than
// 50 tags, naming it in resourceName as AWS does.
func tooManyTags(resource string) *Error {
	e := apiErrorf(ErrTypeTooManyTags, "Too many tags: a resource can have at most %d tags: '%s'", maxTags, resource)
	e.ResourceName = resource
	return e
}

// engineTags returns the tags of a request as the engine keeps them: an
// absent value is empty. A tag without a key (the model makes both
// members optional) names nothing to keep or list, and is left out.
func engineTags(tags []tag) []engine.Tag {
	out := make([]engine.Tag, 0, len(tags))
	for _, t := range tags {
		if t.Key != nil {
			out = append(out, engine.Tag{Key: *t.Key, Value: deref(t.Value)})
		}
	}
	return out
}

type createStateMachineOutput struct {
	StateMachineArn string `json:"stateMachineArn"`
	CreationDate    epoch  `json:"creationDate"`
}

// createStateMachine is idempotent like AWS's: the same name with the
// same definition, type and logging, tracing and encryption
// configurations returns the existing machine. A different role or
// different tags are ignored, as on AWS: the machine keeps those it was
// created with. AWS compares publish and versionDescription too; no
// versions are kept here, so they are not.
func (h *Handler) createStateMachine(ctx context.Context, in *createStateMachineInput) (any, error) {
	if err := checkAll(requiredPtr("name", in.Name), requiredPtr("definition", in.Definition), requiredPtr("roleArn", in.RoleArn),
		oneOf("type", in.Type, typeStandard, typeExpress), lengthIn("versionDescription", in.VersionDescription, 0, 256, true),
		validName("name", in.Name), validDefinition(in.Definition), validRoleArn(in.RoleArn),
		validLogging(in.LoggingConfiguration), validEncryption(in.EncryptionConfiguration),
		validTags(h.backend.StateMachineArn(deref(in.Name)), in.Tags), versionNeedsPublish(in.Publish, in.VersionDescription)); err != nil {
		return nil, err
	}
	typ := deref(in.Type)
	if typ == "" {
		typ = typeStandard
	}
	spec := engine.StateMachine{Name: *in.Name, Definition: *in.Definition, RoleArn: *in.RoleArn, Type: typ, Tags: engineTags(in.Tags),
		Config: machineConfig(in.LoggingConfiguration, in.TracingConfiguration, in.EncryptionConfiguration)}
	sm, err := h.backend.CreateStateMachine(ctx, spec)
	if errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		return h.existingStateMachine(ctx, spec, err)
	}
	if err != nil {
		// StateMachineDeleting names the machine by its ARN, as every
		// other operation's message does.
		return nil, toAPIError(err, h.backend.StateMachineArn(*in.Name))
	}
	return createStateMachineOutput{sm.Arn, epoch(sm.CreatedAt)}, nil
}

// existingStateMachine answers a CreateStateMachine of spec whose name is
// taken: the existing machine when it is identical, StateMachineAlreadyExists
// otherwise.
func (h *Handler) existingStateMachine(ctx context.Context, spec engine.StateMachine, createErr error) (any, error) {
	name, want := spec.Name, withDefaults(spec.Config)
	page := ""
	for {
		sms, next, err := h.backend.ListStateMachines(ctx, maxPageSize, page)
		if err != nil {
			return nil, toAPIError(err, "")
		}
		for _, sm := range sms {
			if sm.Name != name {
				continue
			}
			have := withDefaults(sm.Config)
			if sm.Definition == spec.Definition && smType(sm) == spec.Type && have.Logging == want.Logging && have.Tracing == want.Tracing &&
				have.Encryption == want.Encryption {
				return createStateMachineOutput{sm.Arn, epoch(sm.CreatedAt)}, nil
			}
			return nil, toAPIError(createErr, sm.Arn)
		}
		if next == "" {
			return nil, toAPIError(createErr, h.backend.StateMachineArn(name))
		}
		page = next
	}
}

// smType is the type of a stored machine (STANDARD when unset).
func smType(sm engine.StateMachine) string {
	if sm.Type == "" {
		return typeStandard
	}
	return sm.Type
}

// arnInput is the request of the operations that name one resource.
type arnInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	ExecutionArn    *string `json:"executionArn"`
	IncludedData    *string `json:"includedData"`
}

// validate checks the members every operation with an arnInput shares
// (op calls it before the operation).
func (in *arnInput) validate() error {
	return validIncludedData(in.IncludedData)
}

type describeStateMachineOutput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Definition      string `json:"definition"`
	RoleArn         string `json:"roleArn"`
	Type            string `json:"type"`
	CreationDate    epoch  `json:"creationDate"`
	configOutput
	RevisionID string `json:"revisionId,omitempty"`
	// VariableReferences are the variables each state reads
	// (asl.VariableReferences), left out when none does and with the
	// definition (includedData METADATA_ONLY).
	VariableReferences map[string][]string `json:"variableReferences,omitempty"`
}

// describeSM describes a state machine's latest revision. As on AWS, a
// machine never updated has no revision id.
func describeSM(sm engine.StateMachine) describeStateMachineOutput {
	status := sm.Status
	if status == "" {
		status = engine.StateMachineActive
	}
	out := describeStateMachineOutput{StateMachineArn: sm.Arn, Name: sm.Name, Status: status,
		Definition: sm.Definition, RoleArn: sm.RoleArn, Type: smType(sm), CreationDate: epoch(sm.CreatedAt),
		configOutput: configOf(sm.Config), RevisionID: sm.RevisionID}
	if sm.Revision <= 1 {
		out.RevisionID = ""
	}
	return out
}

// describeStateMachine describes a state machine; with includedData
// METADATA_ONLY the definition is "{}", as on AWS.
func (h *Handler) describeStateMachine(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return nil, err
	}
	sm, err := h.backend.DescribeStateMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, *in.StateMachineArn)
	}
	out := describeSM(sm)
	if deref(in.IncludedData) == includedMetadata {
		out.Definition = "{}"
	} else {
		out.VariableReferences = asl.VariableReferences(sm.Definition)
	}
	return out, nil
}

type pageInput struct {
	MaxResults int     `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
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
	if err := checkAll(validPageSize(in.MaxResults), validNextToken(in.NextToken, maxPageToken)); err != nil {
		return nil, err
	}
	scope := tokenScope("ListStateMachines")
	page, err := h.tokens.open(scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	sms, next, err := h.backend.ListStateMachines(ctx, in.MaxResults, page)
	if err != nil {
		return nil, toAPIError(err, "")
	}
	out := listStateMachinesOutput{StateMachines: make([]stateMachineListItem, 0, len(sms)), NextToken: h.tokens.seal(scope, next)}
	for _, sm := range sms {
		d := describeSM(sm)
		out.StateMachines = append(out.StateMachines, stateMachineListItem{d.StateMachineArn, d.Name, d.Type, d.CreationDate})
	}
	return out, nil
}

type updateStateMachineInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Definition      *string `json:"definition"`
	RoleArn         *string `json:"roleArn"`
	// Each kept when given, as in createStateMachineInput; an absent
	// one stays as it is.
	LoggingConfiguration    *loggingConfiguration    `json:"loggingConfiguration"`
	TracingConfiguration    *tracingConfiguration    `json:"tracingConfiguration"`
	EncryptionConfiguration *encryptionConfiguration `json:"encryptionConfiguration"`
	// Validated and ignored, as in createStateMachineInput.
	Publish            bool    `json:"publish"`
	VersionDescription *string `json:"versionDescription"`
}

type updateStateMachineOutput struct {
	UpdateDate epoch  `json:"updateDate"`
	RevisionID string `json:"revisionId,omitempty"`
}

func (h *Handler) updateStateMachine(ctx context.Context, in *updateStateMachineInput) (any, error) {
	if err := checkAll(validArn("stateMachineArn", in.StateMachineArn, arnResourceSM),
		lengthIn("versionDescription", in.VersionDescription, 0, 256, true)); err != nil {
		return nil, err
	}
	if mapLabelArn(*in.StateMachineArn) {
		// As the API reference says: a Distributed Map state's label
		// names no machine that could be updated.
		return nil, apiErrorf(ErrTypeValidationException, "Unsupported qualified state machine ARN: '%s'", *in.StateMachineArn)
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil &&
		in.EncryptionConfiguration == nil {
		return nil, apiErrorf(ErrTypeMissingRequiredParameter, "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	if err := checkAll(validDefinition(in.Definition), validRoleArn(in.RoleArn), validLogging(in.LoggingConfiguration),
		validEncryption(in.EncryptionConfiguration), versionNeedsPublish(in.Publish, in.VersionDescription)); err != nil {
		return nil, err
	}
	sm, err := h.backend.UpdateStateMachine(ctx, *in.StateMachineArn, engine.StateMachineUpdate{Definition: deref(in.Definition),
		RoleArn: deref(in.RoleArn), Config: machineConfig(in.LoggingConfiguration, in.TracingConfiguration, in.EncryptionConfiguration)})
	if err != nil {
		return nil, toAPIError(err, *in.StateMachineArn)
	}
	// As in describeSM: a machine never changed has no revision id.
	return updateStateMachineOutput{epoch(sm.UpdatedAt), describeSM(sm).RevisionID}, nil
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// mapLabelArn reports whether a (valid) state machine ARN is qualified by
// a Distributed Map state's label, "...:stateMachine:NAME/LABEL".
func mapLabelArn(arn string) bool {
	parts := strings.Split(arn, ":")
	return len(parts) > 6 && strings.Contains(parts[6], "/")
}

// deleteStateMachine starts the deletion of a state machine and answers
// at once, as AWS does: the machine is DELETING until its running
// executions have ended. The API model lists no StateMachineDoesNotExist
// for DeleteStateMachine: deleting an unknown machine succeeds. A
// qualified ARN (a Distributed Map's label, a version or an alias) is a
// ValidationException.
func (h *Handler) deleteStateMachine(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("stateMachineArn", in.StateMachineArn, arnResourceSM); err != nil {
		return nil, err
	}
	if parts := strings.Split(*in.StateMachineArn, ":"); len(parts) > 7 || mapLabelArn(*in.StateMachineArn) {
		return nil, apiErrorf(ErrTypeValidationException, "Unsupported qualified state machine ARN: '%s'", *in.StateMachineArn)
	}
	if err := h.backend.DeleteStateMachine(ctx, *in.StateMachineArn); err != nil {
		return nil, toAPIError(err, *in.StateMachineArn)
	}
	return struct{}{}, nil
}

type startExecutionInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
	// TraceHeader is validated; the engine does not keep it.
	TraceHeader string `json:"traceHeader"`
}

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
	StartDate    epoch  `json:"startDate"`
}

// validate checks a StartExecution or StartSyncExecution request.
func (in *startExecutionInput) validate() error {
	if err := checkAll(validArn("stateMachineArn", in.StateMachineArn, arnResourceSM), validName("name", in.Name),
		validTraceHeader(in.TraceHeader)); err != nil {
		return err
	}
	if mapLabelArn(*in.StateMachineArn) {
		// A Distributed Map state's label: no machine of its own to start.
		return apiErrorf(ErrTypeValidationException, "Unsupported qualified state machine ARN: '%s'", *in.StateMachineArn)
	}
	switch {
	case in.Input == nil:
		// Only an absent input defaults to {}: AWS refuses an empty one.
		in.Input = new(string)
		*in.Input = "{}"
	case *in.Input == "":
		return apiErrorf(ErrTypeInvalidExecutionInput, "Invalid State Machine Execution Input: 'Invalid execution input.'")
	}
	return validInput(*in.Input)
}

// start starts the execution of a validated request; an absent name
// gets a generated one.
func (h *Handler) start(ctx context.Context, in *startExecutionInput) (engine.Execution, error) {
	name := deref(in.Name)
	x, err := h.backend.StartExecution(ctx, *in.StateMachineArn, name, *in.Input)
	if err != nil {
		arn := *in.StateMachineArn
		if errors.Is(err, engine.ErrExecutionAlreadyExists) {
			arn = executionArnFor(*in.StateMachineArn, name)
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

// Express workflows are billed for at least 64 MB of memory, and for
// their duration rounded up to the next 100 ms.
const (
	billedMemoryMinMB  = 64
	billedDurationStep = 100 * time.Millisecond
)

// billing returns the billingDetails of a synchronous execution that ran
// for d: the least memory AWS bills, and d rounded up to 100 ms (at least
// 100 ms), as AWS reports even a near-instant run.
func billing(d time.Duration) *billingDetails {
	steps := max(1, (d+billedDurationStep-1)/billedDurationStep)
	return &billingDetails{BilledMemoryUsedInMB: billedMemoryMinMB,
		BilledDurationInMilliseconds: (steps * billedDurationStep).Milliseconds()}
}

type startSyncExecutionInput struct {
	startExecutionInput
	IncludedData *string `json:"includedData"`
}

// validate checks a StartSyncExecution request.
func (in *startSyncExecutionInput) validate() error {
	return checkAll(validIncludedData(in.IncludedData), in.startExecutionInput.validate())
}

type startSyncExecutionOutput struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	StartDate       epoch  `json:"startDate"`
	StopDate        epoch  `json:"stopDate"`
	Status          string `json:"status"`
	Error           string `json:"error,omitempty"`
	Cause           string `json:"cause,omitempty"`
	inOut
	BillingDetails *billingDetails `json:"billingDetails"`
}

// inOut is an execution's input and output in DescribeExecution and
// StartSyncExecution answers.
type inOut struct {
	Input         *string      `json:"input,omitempty"`
	InputDetails  *dataDetails `json:"inputDetails,omitempty"`
	Output        *string      `json:"output,omitempty"`
	OutputDetails *dataDetails `json:"outputDetails,omitempty"`
}

// dataOf returns x's input and output, none with includedData
// METADATA_ONLY.
func dataOf(x engine.Execution, includedData string) inOut {
	var d inOut
	if includedData == includedMetadata {
		return d
	}
	d.Input, d.InputDetails = &x.Input, &dataDetails{true}
	if x.HasOutput {
		d.Output, d.OutputDetails = &x.Output, &dataDetails{true}
	}
	return d
}

// startSyncExecution runs an execution of an EXPRESS state machine and
// answers when it has finished; STANDARD machines are refused, as on
// AWS. The sync status has no ABORTED: an execution stopped meanwhile is
// reported FAILED. includedData METADATA_ONLY leaves out the input and
// the output.
func (h *Handler) startSyncExecution(ctx context.Context, in *startSyncExecutionInput) (any, error) {
	sm, err := h.backend.DescribeStateMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, *in.StateMachineArn)
	}
	if smType(sm) != typeExpress {
		return nil, apiErrorf(ErrTypeStateMachineTypeNotSupported, "This operation is not supported by this type of state machine")
	}
	x, err := h.start(ctx, &in.startExecutionInput)
	if err != nil {
		return nil, err
	}
	x, err = h.backend.WaitExecution(ctx, x.Arn)
	if err != nil {
		return nil, toAPIError(err, x.Arn)
	}
	out := startSyncExecutionOutput{ExecutionArn: x.Arn, StateMachineArn: x.StateMachineArn, Name: x.Name,
		StartDate: epoch(x.StartDate), StopDate: epoch(x.StopDate), Status: string(x.Status),
		Error: x.Error, Cause: x.Cause,
		BillingDetails: billing(x.StopDate.Sub(x.StartDate))}
	if x.Status == engine.StatusAborted {
		out.Status = string(engine.StatusFailed)
	}
	out.inOut = dataOf(x, deref(in.IncludedData))
	return out, nil
}

// describeExecutionOutput is an execution's list item with its data,
// outcome and redrive status.
type describeExecutionOutput struct {
	executionListItem
	inOut
	Error               string `json:"error,omitempty"`
	Cause               string `json:"cause,omitempty"`
	RedriveStatus       string `json:"redriveStatus"`
	RedriveStatusReason string `json:"redriveStatusReason,omitempty"`
}

// Redrive statuses of DescribeExecution.
const (
	redriveNotRedrivable = "NOT_REDRIVABLE"
)

// redriveStatus returns DescribeExecution's redriveStatus and
// redriveStatusReason for an execution in status s. Executions here are
// never redriven (redriveCount 0). A RUNNING or SUCCEEDED execution is
// NOT_REDRIVABLE with AWS's reason. AWS answers REDRIVABLE for a FAILED,
// TIMED_OUT or ABORTED execution of a STANDARD machine (for 14 days),
// but the local runtime does not serve RedriveExecution: a client told
// REDRIVABLE would call it and get UnknownOperationException, so those
// are NOT_REDRIVABLE too, with a reason that says why.
func redriveStatus(s engine.ExecutionStatus) (status, reason string) {
	switch s {
	case engine.StatusRunning, engine.StatusSucceeded:
		return redriveNotRedrivable, fmt.Sprintf("Execution is %s and cannot be redriven", s)
	}
	return redriveNotRedrivable, "RedriveExecution is not supported by the local runtime"
}

// describeExecution describes an execution; with includedData
// METADATA_ONLY without its input and output.
func (h *Handler) describeExecution(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("executionArn", in.ExecutionArn, arnResourceExec); err != nil {
		return nil, err
	}
	x, err := h.backend.DescribeExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, *in.ExecutionArn)
	}
	out := describeExecutionOutput{executionListItem: listItem(x), Error: x.Error, Cause: x.Cause}
	out.RedriveStatus, out.RedriveStatusReason = redriveStatus(x.Status)
	out.inOut = dataOf(x, deref(in.IncludedData))
	return out, nil
}

type stopExecutionInput struct {
	ExecutionArn *string `json:"executionArn"`
	Error        *string `json:"error"`
	Cause        *string `json:"cause"`
}

type stopExecutionOutput struct {
	StopDate epoch `json:"stopDate"`
}

// stopExecution aborts a running execution. Stopping an execution that
// has already finished changes nothing and answers its stop date.
func (h *Handler) stopExecution(ctx context.Context, in *stopExecutionInput) (any, error) {
	if err := checkAll(validArn("executionArn", in.ExecutionArn, arnResourceExec),
		lengthIn("error", in.Error, 0, maxErrorLen, true), lengthIn("cause", in.Cause, 0, maxCauseLen, true)); err != nil {
		return nil, err
	}
	x, err := h.backend.StopExecution(ctx, *in.ExecutionArn, deref(in.Error), deref(in.Cause))
	if errors.Is(err, engine.ErrExecutionNotRunning) {
		x, err = h.backend.DescribeExecution(ctx, *in.ExecutionArn)
	}
	if err != nil {
		return nil, toAPIError(err, *in.ExecutionArn)
	}
	return stopExecutionOutput{epoch(x.StopDate)}, nil
}

type getExecutionHistoryInput struct {
	ExecutionArn         *string `json:"executionArn"`
	MaxResults           int     `json:"maxResults"`
	NextToken            *string `json:"nextToken"`
	ReverseOrder         bool    `json:"reverseOrder"`
	IncludeExecutionData *bool   `json:"includeExecutionData"`
}

type getExecutionHistoryOutput struct {
	Events    []json.RawMessage `json:"events"`
	NextToken string            `json:"nextToken,omitempty"`
}

func (h *Handler) getExecutionHistory(ctx context.Context, in *getExecutionHistoryInput) (any, error) {
	if err := checkAll(validArn("executionArn", in.ExecutionArn, arnResourceExec), validPageSize(in.MaxResults),
		validNextToken(in.NextToken, maxPageToken)); err != nil {
		return nil, err
	}
	scope := tokenScope("GetExecutionHistory", *in.ExecutionArn, strconv.FormatBool(in.ReverseOrder))
	page, err := h.tokens.open(scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	evs, next, err := h.backend.GetExecutionHistory(ctx, *in.ExecutionArn,
		engine.HistoryInput{MaxResults: in.MaxResults, NextToken: page, ReverseOrder: in.ReverseOrder})
	if err != nil {
		return nil, toAPIError(err, *in.ExecutionArn)
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := getExecutionHistoryOutput{Events: make([]json.RawMessage, 0, len(evs)), NextToken: h.tokens.seal(scope, next)}
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
	StateMachineArn *string `json:"stateMachineArn"`
	MapRunArn       *string `json:"mapRunArn"`
	StatusFilter    *string `json:"statusFilter"`
	RedriveFilter   *string `json:"redriveFilter"`
	MaxResults      int     `json:"maxResults"`
	NextToken       *string `json:"nextToken"`
}

// executionListItem is what ListExecutions says of an execution, and
// the first part of DescribeExecution's answer.
type executionListItem struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	StartDate       epoch  `json:"startDate"`
	StopDate        epoch  `json:"stopDate,omitzero"`
	RedriveCount    int    `json:"redriveCount"` // always 0: executions are never redriven
}

func listItem(x engine.Execution) executionListItem {
	return executionListItem{ExecutionArn: x.Arn, StateMachineArn: x.StateMachineArn, Name: x.Name,
		Status: string(x.Status), StartDate: epoch(x.StartDate), StopDate: epoch(x.StopDate)}
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

// listExecutions lists the executions of a state machine, newest first.
// No execution is ever redriven here: redriveFilter REDRIVEN lists none,
// NOT_REDRIVEN all. PENDING_REDRIVE needs a Map Run ARN, as on AWS. The
// request names either a state machine or a Map Run, not both; no Map
// Run exists locally (Distributed Map states run inline), so a Map Run
// ARN is ResourceNotFound.
func (h *Handler) listExecutions(ctx context.Context, in *listExecutionsInput) (any, error) {
	switch {
	case in.StateMachineArn == nil && in.MapRunArn == nil:
		return nil, apiErrorf(ErrTypeValidationException, "Must specify either a stateMachineArn or a mapRunArn")
	case in.StateMachineArn != nil && in.MapRunArn != nil:
		return nil, apiErrorf(ErrTypeValidationException, "Specify either a stateMachineArn or a mapRunArn, not both")
	}
	field, arn, resource := "stateMachineArn", in.StateMachineArn, arnResourceSM
	if in.MapRunArn != nil {
		field, arn, resource = "mapRunArn", in.MapRunArn, arnResourceMapRun
	}
	if err := checkAll(validArn(field, arn, resource), validPageSize(in.MaxResults),
		validStatus(in.StatusFilter), oneOf("redriveFilter", in.RedriveFilter, redriveFilterRedriven, redriveFilterNotRedriven),
		validNextToken(in.NextToken, maxListExecutionsToken)); err != nil {
		return nil, err
	}
	if in.MapRunArn != nil {
		return nil, apiErrorf(ErrTypeResourceNotFound, "Resource not found: '%s'", *in.MapRunArn)
	}
	status, redrive := deref(in.StatusFilter), deref(in.RedriveFilter)
	if status == statusPendingRedrive {
		return nil, apiErrorf(ErrTypeValidationException, "The statusFilter PENDING_REDRIVE can only be used with a mapRunArn")
	}
	scope := tokenScope("ListExecutions", *in.StateMachineArn, status, redrive)
	page, err := h.tokens.open(scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	xs, next, err := h.backend.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: *in.StateMachineArn,
		Status: engine.ExecutionStatus(status), MaxResults: in.MaxResults, NextToken: page})
	if err != nil {
		return nil, toAPIError(err, *in.StateMachineArn)
	}
	if redrive == redriveFilterRedriven {
		xs, next = nil, ""
	}
	out := listExecutionsOutput{Executions: make([]executionListItem, 0, len(xs)), NextToken: h.tokens.seal(scope, next)}
	for _, x := range xs {
		out.Executions = append(out.Executions, listItem(x))
	}
	return out, nil
}

type describeStateMachineForExecutionOutput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Definition      string `json:"definition"`
	RoleArn         string `json:"roleArn"`
	UpdateDate      epoch  `json:"updateDate"`
	configOutput
	RevisionID         string              `json:"revisionId,omitempty"`
	VariableReferences map[string][]string `json:"variableReferences,omitempty"` // as DescribeStateMachine's
}

// describeStateMachineForExecution describes the state machine revision
// an execution runs, which is the one it started on. The revision id of
// a machine's first revision is absent ("null" on AWS); with includedData
// METADATA_ONLY the definition is "{}", as for DescribeStateMachine. The
// logging, tracing and encryption configurations are those of that
// revision.
func (h *Handler) describeStateMachineForExecution(ctx context.Context, in *arnInput) (any, error) {
	if err := validArn("executionArn", in.ExecutionArn, arnResourceExec); err != nil {
		return nil, err
	}
	sm, err := h.backend.StateMachineForExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, *in.ExecutionArn)
	}
	out := describeStateMachineForExecutionOutput{StateMachineArn: sm.Arn, Name: sm.Name, Definition: sm.Definition,
		RoleArn: sm.RoleArn, UpdateDate: epoch(sm.UpdatedAt), configOutput: configOf(sm.Config), RevisionID: sm.RevisionID}
	if sm.Revision <= 1 {
		out.RevisionID = ""
	}
	if deref(in.IncludedData) == includedMetadata {
		out.Definition = "{}"
	} else {
		out.VariableReferences = asl.VariableReferences(sm.Definition)
	}
	return out, nil
}
