package sfnapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// Limits AWS enforces on requests (the API model's constraints).
const (
	maxNameLen        = 80
	maxArnLen         = 256
	maxInputBytes     = engine.MaxInput
	maxDefinition     = asl.MaxDefinitionLength
	maxPageSize       = 1000
	maxErrorLen       = 256
	maxCauseLen       = 32768
	maxTraceHeaderLen = 256
	// maxPageToken bounds nextToken (PageToken); ListExecutions takes
	// longer ones (ListExecutionsPageToken).
	maxPageToken           = 1024
	maxListExecutionsToken = 3096
	arnPrefixStates        = "arn:aws:states:"
	arnResourceSM          = "stateMachine"
	arnResourceExec        = "execution"
	arnResourceMapRun      = "mapRun"
)

// Enum values of the API model.
const (
	typeStandard = "STANDARD"
	typeExpress  = "EXPRESS"

	includedAll      = "ALL_DATA"
	includedMetadata = "METADATA_ONLY"

	statusPendingRedrive = "PENDING_REDRIVE"

	redriveFilterRedriven    = "REDRIVEN"
	redriveFilterNotRedriven = "NOT_REDRIVEN"
)

// constraintf reports a violated model constraint the way Coral
// validation does.
func constraintf(format string, args ...any) error {
	return constraintsError([]string{fmt.Sprintf(format, args...)})
}

// constraintsError reports violated model constraints the way Coral
// validation does: "1 validation error detected: A", "2 validation
// errors detected: A; B".
func constraintsError(constraints []string) *Error {
	msg := "1 validation error detected: " + constraints[0]
	if len(constraints) > 1 {
		msg = fmt.Sprintf("%d validation errors detected: %s", len(constraints), strings.Join(constraints, "; "))
	}
	return &Error{Type: ErrTypeValidationException, Message: msg, constraints: constraints}
}

// requiredPtr reports a member that is absent (nil); an empty string is
// present and left to the length checks.
func requiredPtr(field string, value *string) error {
	if value == nil {
		return constraintf("Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return nil
}

// lengthIn checks that a member, when present, has between lo and hi
// characters; sensitive members are reported without their value.
func lengthIn(field string, value *string, lo, hi int, sensitive bool) error {
	if value == nil {
		return nil
	}
	n := utf8.RuneCountInString(*value)
	var c string
	switch {
	case n < lo:
		c = fmt.Sprintf("Member must have length greater than or equal to %d", lo)
	case n > hi:
		c = fmt.Sprintf("Member must have length less than or equal to %d", hi)
	default:
		return nil
	}
	if sensitive {
		return constraintf("Value at '%s' failed to satisfy constraint: %s", field, c)
	}
	return constraintf("Value '%s' at '%s' failed to satisfy constraint: %s", *value, field, c)
}

// oneOf checks an enum member that is absent when nil: present, even an
// empty value must be one of allowed, as AWS's validation has it.
func oneOf(field string, value *string, allowed ...string) error {
	if value == nil {
		return nil
	}
	for _, a := range allowed {
		if *value == a {
			return nil
		}
	}
	return constraintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		*value, field, strings.Join(allowed, ", "))
}

// versionNeedsPublish refuses a versionDescription without publish, as
// AWS does: the description belongs to the version that publish makes.
func versionNeedsPublish(publish bool, description *string) error {
	if description != nil && !publish {
		return apiErrorf(ErrTypeValidationException, "Version description can only be set when publish is true")
	}
	return nil
}

// validName checks a state machine or execution name as AWS does
// (engine.ValidName): 1 to 80 characters, no whitespace, brackets,
// wildcards, control characters or URL-reserved punctuation. A nil name
// is absent and valid here.
func validName(field string, name *string) error {
	if err := lengthIn(field, name, 1, maxNameLen, false); err != nil || name == nil {
		return err
	}
	if !engine.ValidName(*name) {
		return apiErrorf(ErrTypeInvalidName, "Invalid Name: '%s'", *name)
	}
	return nil
}

// validArn checks that a required ARN member names a Step Functions
// resource of the given type (stateMachine or execution; an ":express:"
// ARN is not an execution's, as on AWS). As in Coral validation, an
// absent (nil) member is null and an empty one too short.
func validArn(field string, member *string, resource string) error {
	if err := requiredPtr(field, member); err != nil {
		return err
	}
	if err := lengthIn(field, member, 1, maxArnLen, false); err != nil {
		return err
	}
	arn := *member
	if !strings.HasPrefix(arn, arnPrefixStates) {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Invalid ARN prefix: %s'", arn)
	}
	parts := strings.Split(arn, ":")
	// arn:aws:states:region:account:type:name[:...]
	if len(parts) < 7 || parts[3] == "" || parts[4] == "" || parts[6] == "" {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	// An EXPRESS execution's ARN (":express:") is no execution ARN: AWS
	// answers InvalidArn for it in every operation that takes one.
	if typ := parts[5]; typ != resource {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", parts[5])
	}
	if resource == arnResourceExec && len(parts) < 8 {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Execution name missing: %s'", arn)
	}
	return nil
}

// roleArnRE is the shape of an IAM role ARN:
// arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
var roleArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)

// validRoleArn checks a roleArn member (nil: absent, and valid here).
func validRoleArn(arn *string) error {
	if err := lengthIn("roleArn", arn, 1, maxArnLen, false); err != nil || arn == nil {
		return err
	}
	if !roleArnRE.MatchString(*arn) {
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: 'Invalid role ARN: %s'", *arn)
	}
	return nil
}

// validPageSize checks maxResults (0 means the default).
func validPageSize(n int) error {
	if n < 0 {
		return constraintf("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0", n)
	}
	if n > maxPageSize {
		return constraintf("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", n)
	}
	return nil
}

// validInput checks an execution input: JSON text of at most 256 KiB.
func validInput(input string) error {
	if len(input) > maxInputBytes {
		return constraintf("Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", maxInputBytes)
	}
	if !json.Valid([]byte(input)) {
		return apiErrorf(ErrTypeInvalidExecutionInput, "Invalid State Machine Execution Input: 'input is not valid JSON%s'", tooDeep(input))
	}
	return nil
}

// validTraceHeader checks an X-Ray trace header: ASCII, at most 256
// characters.
func validTraceHeader(h string) error {
	if err := lengthIn("traceHeader", &h, 0, maxTraceHeaderLen, false); err != nil {
		return err
	}
	for _, r := range h {
		if r > unicode.MaxASCII {
			return constraintf("Value '%s' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{ASCII}*", h)
		}
	}
	return nil
}

// validDefinition checks the size and that the definition is JSON; the
// Backend checks the rest. A nil definition is absent and valid here.
func validDefinition(def *string) error {
	if err := lengthIn("definition", def, 1, maxDefinition, true); err != nil || def == nil {
		return err
	}
	if !json.Valid([]byte(*def)) {
		return apiErrorf(ErrTypeInvalidDefinition, "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition is not valid JSON%s'", tooDeep(*def))
	}
	return nil
}

// tooDeep returns what to add to the message of a text that is not
// valid JSON when it nests arrays and objects deeper than asl.MaxJSONDepth
// (the decoder's reason, which "not valid JSON" alone does not tell),
// else "".
func tooDeep(text string) string {
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > asl.MaxJSONDepth {
				return fmt.Sprintf(": nested too deeply (limit %d)", asl.MaxJSONDepth)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return ""
}

// validStatus checks a statusFilter; the values are listed in the order
// AWS's message lists them.
func validStatus(s *string) error {
	return oneOf("statusFilter", s, string(engine.StatusSucceeded), string(engine.StatusTimedOut), statusPendingRedrive,
		string(engine.StatusAborted), string(engine.StatusFailed), string(engine.StatusRunning))
}

// validIncludedData checks an includedData member.
func validIncludedData(s *string) error {
	return oneOf("includedData", s, includedAll, includedMetadata)
}

// validNextToken checks the length of a nextToken member; whether the
// token is one this server issued for the request is checked when it is
// opened (see tokenSigner).
func validNextToken(tok *string, max int) error {
	return lengthIn("nextToken", tok, 1, max, false)
}

// checkAll returns the outcome of a request's checks: every violated model
// constraint (constraintf) at once, "N validation errors detected: A; B",
// as Coral validation reports them before the service looks at the
// request; without one, the first other error; nil when all passed.
func checkAll(errs ...error) error {
	var constraints []string
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if e, ok := err.(*Error); ok && len(e.constraints) > 0 {
			constraints = append(constraints, e.constraints...)
			continue
		}
		if first == nil {
			first = err
		}
	}
	if len(constraints) == 0 {
		return first
	}
	return constraintsError(constraints)
}
