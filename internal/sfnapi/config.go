package sfnapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/stepmon/stepmon/internal/engine"
)

// The logging, tracing and encryption configurations of a state machine:
// CreateStateMachine and UpdateStateMachine validate them, the machine
// keeps them with each revision (engine.StateMachineConfig, the JSON text
// of the objects below as DescribeStateMachine answers them), and
// DescribeStateMachine and DescribeStateMachineForExecution report them.
// Nothing is logged to CloudWatch, traced or encrypted locally.

// Log levels (LoggingConfiguration.level).
const (
	logLevelAll   = "ALL"
	logLevelError = "ERROR"
	logLevelFatal = "FATAL"
	logLevelOff   = "OFF"
)

// The configurations a machine that never set one answers, as AWS does:
// a machine created without an encryption configuration is encrypted
// with an AWS owned key, and says so.
const (
	defaultLogging    = `{"level":"OFF","includeExecutionData":false}`
	defaultTracing    = `{"enabled":false}`
	defaultEncryption = `{"type":"AWS_OWNED_KEY"}`
)

// loggingConfiguration is a LoggingConfiguration, as requests carry it
// and as it is kept and answered: an absent level is OFF, an absent
// includeExecutionData false, and absent destinations are left out.
type loggingConfiguration struct {
	Level                *string          `json:"level"`
	IncludeExecutionData bool             `json:"includeExecutionData"`
	Destinations         []logDestination `json:"destinations,omitempty"`
}

// logDestination is a LogDestination: a CloudWatch Logs log group.
type logDestination struct {
	CloudWatchLogsLogGroup *cloudWatchLogsLogGroup `json:"cloudWatchLogsLogGroup,omitempty"`
}

type cloudWatchLogsLogGroup struct {
	LogGroupArn *string `json:"logGroupArn,omitempty"`
}

// tracingConfiguration is a TracingConfiguration (X-Ray).
type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

// logGroupArnRE is the shape of a CloudWatch Logs log group ARN with the
// ":*" qualifier AWS requires: arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*,
// the name made of letters, digits and _ - . / #.
var logGroupArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[\w.\-/#]+:\*$`)

// validLogging checks a loggingConfiguration (nil: absent) as AWS does:
// Coral's constraints first (a known level, log group ARNs of 1 to 256
// characters at "loggingConfiguration.destinations.N.member..."), then
// InvalidLoggingConfiguration for more than one destination, for none
// with a level other than OFF, and for a destination of such a level that
// is not a log group ARN qualified with ":*". The destination of level
// OFF is kept unchecked, as nothing is logged to it. Whether the log
// group exists is not checked: no CloudWatch Logs is reached locally.
func validLogging(c *loggingConfiguration) error {
	if c == nil {
		return nil
	}
	const f = "loggingConfiguration."
	errs := []error{oneOf(f+"level", c.Level, logLevelAll, logLevelError, logLevelFatal, logLevelOff)}
	for i, d := range c.Destinations {
		if lg := d.CloudWatchLogsLogGroup; lg != nil {
			errs = append(errs, lengthIn(fmt.Sprintf("%sdestinations.%d.member.cloudWatchLogsLogGroup.logGroupArn", f, i+1),
				lg.LogGroupArn, 1, maxArnLen, false))
		}
	}
	logs := c.Level != nil && *c.Level != logLevelOff
	switch {
	case len(c.Destinations) > 1 || logs && len(c.Destinations) == 0:
		errs = append(errs, apiErrorf(ErrTypeInvalidLoggingConfiguration, "Invalid Logging Configuration: Must specify exactly one Log Destination."))
	case logs:
		var arn string
		if lg := c.Destinations[0].CloudWatchLogsLogGroup; lg != nil {
			arn = deref(lg.LogGroupArn)
		}
		switch {
		case logGroupArnRE.MatchString(arn):
		case !strings.HasSuffix(arn, ":*") && logGroupArnRE.MatchString(arn+":*"):
			errs = append(errs, apiErrorf(ErrTypeInvalidLoggingConfiguration, "Invalid Logging Configuration: Log Group ARN must be provided with '*' qualifier."))
		default:
			errs = append(errs, apiErrorf(ErrTypeInvalidLoggingConfiguration,
				"Invalid Logging Configuration: '%s' is not a CloudWatch Logs log group ARN.", arn))
		}
	}
	return checkAll(errs...)
}

// Encryption types (EncryptionConfiguration.type).
const (
	encryptionAWSOwned        = "AWS_OWNED_KEY"
	encryptionCustomerManaged = "CUSTOMER_MANAGED_KMS_KEY"
)

// encryptionConfiguration is an EncryptionConfiguration as requests
// carry it, and as it is kept and answered (absent members left out).
type encryptionConfiguration struct {
	Type                         *string `json:"type"`
	KmsKeyID                     *string `json:"kmsKeyId,omitempty"`
	KmsDataKeyReusePeriodSeconds *int    `json:"kmsDataKeyReusePeriodSeconds,omitempty"`
}

// Limits of EncryptionConfiguration's members in the API model.
const (
	maxKmsKeyIDLen    = 2048
	minKmsReusePeriod = 60
	maxKmsReusePeriod = 900
)

// validEncryption checks an encryptionConfiguration (nil: absent) as AWS
// documents it: Coral's constraints first (type required and one of
// AWS_OWNED_KEY and CUSTOMER_MANAGED_KMS_KEY, kmsKeyId of 1 to 2048
// characters, kmsDataKeyReusePeriodSeconds from 60 to 900), then
// InvalidEncryptionConfiguration for a customer managed key without a
// kmsKeyId. Whether the KMS key exists and may be used is not checked:
// no KMS is reached locally.
func validEncryption(c *encryptionConfiguration) error {
	if c == nil {
		return nil
	}
	const f = "encryptionConfiguration."
	errs := []error{requiredPtr(f+"type", c.Type), oneOf(f+"type", c.Type, encryptionAWSOwned, encryptionCustomerManaged),
		lengthIn(f+"kmsKeyId", c.KmsKeyID, 1, maxKmsKeyIDLen, false)}
	if p := c.KmsDataKeyReusePeriodSeconds; p != nil && *p < minKmsReusePeriod {
		errs = append(errs, constraintf("Value '%d' at '%skmsDataKeyReusePeriodSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", *p, f, minKmsReusePeriod))
	} else if p != nil && *p > maxKmsReusePeriod {
		errs = append(errs, constraintf("Value '%d' at '%skmsDataKeyReusePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", *p, f, maxKmsReusePeriod))
	}
	if deref(c.Type) == encryptionCustomerManaged && c.KmsKeyID == nil {
		errs = append(errs, apiErrorf(ErrTypeInvalidEncryptionConfiguration,
			"Invalid Encryption Configuration: kmsKeyId must be specified when type is %s", encryptionCustomerManaged))
	}
	return checkAll(errs...)
}

// machineConfig returns the configurations of a validated request as the
// engine keeps them: each the JSON text DescribeStateMachine answers, ""
// for an absent one (unchanged by an update, the default for a new
// machine). A logging configuration without a level is OFF.
func machineConfig(logging *loggingConfiguration, tracing *tracingConfiguration, encryption *encryptionConfiguration) engine.StateMachineConfig {
	var c engine.StateMachineConfig
	if logging != nil {
		l := *logging
		if l.Level == nil {
			l.Level = new(string)
			*l.Level = logLevelOff
		}
		c.Logging = configJSON(l)
	}
	if tracing != nil {
		c.Tracing = configJSON(*tracing)
	}
	if encryption != nil {
		c.Encryption = configJSON(*encryption)
	}
	return c
}

// configJSON encodes a configuration. These structs of strings, numbers
// and booleans always encode.
func configJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// withDefaults returns c with the configurations never set made the
// defaults AWS answers for them.
func withDefaults(c engine.StateMachineConfig) engine.StateMachineConfig {
	if c.Logging == "" {
		c.Logging = defaultLogging
	}
	if c.Tracing == "" {
		c.Tracing = defaultTracing
	}
	if c.Encryption == "" {
		c.Encryption = defaultEncryption
	}
	return c
}

// configOutput is the part of DescribeStateMachine's and
// DescribeStateMachineForExecution's answers that a machine's
// configuration makes: its logging, tracing and encryption
// configurations, the defaults when never set.
type configOutput struct {
	LoggingConfiguration    json.RawMessage `json:"loggingConfiguration"`
	TracingConfiguration    json.RawMessage `json:"tracingConfiguration"`
	EncryptionConfiguration json.RawMessage `json:"encryptionConfiguration"`
}

// configOf returns the configOutput of a machine's configuration.
func configOf(c engine.StateMachineConfig) configOutput {
	c = withDefaults(c)
	return configOutput{json.RawMessage(c.Logging), json.RawMessage(c.Tracing), json.RawMessage(c.Encryption)}
}
