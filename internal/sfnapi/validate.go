package sfnapi

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/engine"
)

// Limits AWS enforces on requests.
const (
	maxNameLen       = 80
	maxInputBytes    = 256 * 1024
	maxDefinition    = 1024 * 1024
	maxPageSize      = 1000
	maxErrorLen      = 256
	maxCauseLen      = 32768
	arnPrefixStates  = "arn:aws:states:"
	arnResourceSM    = "stateMachine"
	arnResourceExec  = "execution"
	arnResourceExprs = "express"
)

// required reports a missing member the way Coral validation does.
func required(field, value string) error {
	if value == "" {
		return apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return nil
}

// validName checks a state machine or execution name: 1 to 80
// characters, none of them whitespace, brackets, wildcards, control
// characters or one of " # % \ ^ | ~ ` $ & , ; : /.
func validName(field, name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > maxNameLen {
		return apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 80", name, field)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return apiErrorf(ErrTypeInvalidName, "Invalid Name: '%s'", name)
		}
	}
	return nil
}

// validArn checks that arn names a Step Functions resource of the given
// type (stateMachine or execution; express executions are executions).
func validArn(field, arn, resource string) error {
	if err := required(field, arn); err != nil {
		return err
	}
	if !strings.HasPrefix(arn, arnPrefixStates) {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Invalid ARN prefix: %s'", arn)
	}
	parts := strings.Split(arn, ":")
	// arn:aws:states:region:account:type:name[:...]
	if len(parts) < 7 || parts[3] == "" || parts[4] == "" || parts[6] == "" {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	typ := parts[5]
	if typ == arnResourceExprs {
		typ = arnResourceExec
	}
	if typ != resource {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", parts[5])
	}
	if resource == arnResourceExec && len(parts) < 8 {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Execution name missing: %s'", arn)
	}
	return nil
}

// validPageSize checks maxResults (0 means the default).
func validPageSize(n int) error {
	if n < 0 || n > maxPageSize {
		return apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", n)
	}
	return nil
}

// validInput checks an execution input: JSON text of at most 256 KiB.
func validInput(input string) error {
	if len(input) > maxInputBytes {
		return apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144")
	}
	if !json.Valid([]byte(input)) {
		return apiErrorf(ErrTypeInvalidExecutionInput, "Invalid State Machine Execution Input: 'input is not valid JSON'")
	}
	return nil
}

// validDefinition checks the size and that the definition is JSON; the
// Backend checks the rest.
func validDefinition(def string) error {
	if err := required("definition", def); err != nil {
		return err
	}
	if len(def) > maxDefinition {
		return apiErrorf(ErrTypeValidationException,
			"1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to 1048576")
	}
	if !json.Valid([]byte(def)) {
		return apiErrorf(ErrTypeInvalidDefinition, "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition is not valid JSON'")
	}
	return nil
}

// validStatus checks a statusFilter.
func validStatus(s string) error {
	switch engine.ExecutionStatus(s) {
	case "", engine.StatusRunning, engine.StatusSucceeded, engine.StatusFailed, engine.StatusTimedOut, engine.StatusAborted, "PENDING_REDRIVE":
		return nil
	}
	return apiErrorf(ErrTypeValidationException,
		"1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", s)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
