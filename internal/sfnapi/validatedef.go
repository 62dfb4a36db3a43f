package sfnapi

import (
	"context"
	"errors"

	"github.com/stepmon/stepmon/internal/asl"
)

// Enum values and limits of ValidateStateMachineDefinition.
const (
	severityError   = "ERROR"
	severityWarning = "WARNING"
	resultOK        = "OK"
	resultFail      = "FAIL"
	// maxDiagnostics is the default and largest maxResults.
	maxDiagnostics = 100
)

// validateStateMachineDefinitionInput is ValidateStateMachineDefinition's
// request.
type validateStateMachineDefinitionInput struct {
	Definition *string `json:"definition"`
	Type       *string `json:"type"`
	Severity   *string `json:"severity"`
	MaxResults int     `json:"maxResults"`
}

func (in *validateStateMachineDefinitionInput) validate() error {
	var maxResults error
	switch {
	case in.MaxResults < 0:
		maxResults = constraintf("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0", in.MaxResults)
	case in.MaxResults > maxDiagnostics:
		maxResults = constraintf("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", in.MaxResults, maxDiagnostics)
	}
	// A definition that is not JSON is a diagnostic, not an
	// InvalidDefinition error: only its length is checked here.
	return checkAll(requiredPtr("definition", in.Definition), lengthIn("definition", in.Definition, 1, maxDefinition, true),
		oneOf("type", in.Type, typeStandard, typeExpress), oneOf("severity", in.Severity, severityError, severityWarning), maxResults)
}

type validateStateMachineDefinitionOutput struct {
	Result      string       `json:"result"`
	Diagnostics []diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

// diagnostic is a ValidateStateMachineDefinitionDiagnostic. Location is
// a JSON pointer into the definition, absent for a problem of the whole
// definition.
type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// validateStateMachineDefinition checks a definition as
// CreateStateMachine would (for an EXPRESS type, also the integrations
// an EXPRESS machine cannot use) and lists the problems as ERROR
// diagnostics; the validator has no warnings.
func (h *Handler) validateStateMachineDefinition(_ context.Context, in *validateStateMachineDefinitionInput) (any, error) {
	limit := in.MaxResults
	if limit == 0 {
		limit = maxDiagnostics
	}
	out := validateStateMachineDefinitionOutput{Result: resultOK, Diagnostics: []diagnostic{}}
	for _, ve := range definitionProblems(*in.Definition, deref(in.Type)) {
		out.Result = resultFail
		if len(out.Diagnostics) == limit {
			out.Truncated = true
			break
		}
		code, text := ve.Code()
		out.Diagnostics = append(out.Diagnostics, diagnostic{Severity: severityError, Code: code, Message: text, Location: ve.Path})
	}
	return out, nil
}

// definitionProblems lists what CreateStateMachine would refuse in a
// definition of the type (STANDARD when empty); nil when there is none.
func definitionProblems(definition, typ string) asl.ValidationErrors {
	m, err := asl.Parse([]byte(definition))
	var errs asl.ValidationErrors
	if errors.As(err, &errs) {
		return errs
	}
	if err != nil { // Parse reports ValidationErrors only
		return asl.ValidationErrors{{Message: err.Error()}}
	}
	if typ == typeExpress {
		return expressProblems(m)
	}
	return nil
}
