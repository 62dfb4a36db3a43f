package main

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
)

// AuthMode selects how callers authenticate to the REST API.
type AuthMode string

const (
	// AuthIAM requires SigV4-signed requests (AWS_IAM) on every method. The default.
	AuthIAM AuthMode = "iam"
	// AuthAPIKey requires an x-api-key header on every method, with a usage plan.
	AuthAPIKey AuthMode = "apiKey"
)

// Config holds the deploy-time options of the stack. They come from CDK context
// (cdk.json, or `-c key=value` on the command line); see docs/deploy.md.
type Config struct {
	// StackName is the CloudFormation stack name. Context key: stackName
	// (default "Stepmon").
	StackName string
	// RepoRoot is the repository root holding lambdas/ and statemachine.asl.json,
	// relative to infra/ or absolute. Context key: repoRoot (default "..").
	RepoRoot string
	// Auth selects the API authentication. Context key: auth (iam or apiKey).
	Auth AuthMode
	// AllowPrivateTargets lets the check and alert functions call every
	// address, loopback and link-local included: for LocalStack, where the
	// job APIs run beside the functions. On AWS AllowedTargetPrefixes is
	// the option. Context key: allowPrivateTargets.
	AllowPrivateTargets bool
	// AllowedTargetPrefixes are private address prefixes (CIDR) that HTTP
	// checks and webhook alerts may reach, e.g. the subnets of a VPC the
	// functions are attached to; loopback and link-local stay refused.
	// Context key: allowedTargetPrefixes, comma-separated.
	AllowedTargetPrefixes []string
	// VPCSubnetIDs attach the check and alert functions to a VPC, with a
	// network interface in each of these subnets. Context key:
	// vpcSubnetIds, comma-separated; with vpcSecurityGroupIds.
	VPCSubnetIDs []string
	// VPCSecurityGroupIDs are the security groups of those interfaces.
	// Context key: vpcSecurityGroupIds, comma-separated.
	VPCSecurityGroupIDs []string
	// AllowDirectSMS grants the alert function sns:Publish on "*", which direct
	// SMS to a phone number needs. Context key: allowDirectSms.
	AllowDirectSMS bool
	// GitHubTokenSecretARN is the complete ARN of a Secrets Manager secret
	// holding a GitHub token. Context key: githubTokenSecretArn.
	GitHubTokenSecretARN string
	// GitHubAPIURL is the base URL of the GitHub REST API the check
	// function calls, for GitHub Enterprise Server
	// (https://HOST/api/v3/); "" means api.github.com. Context key:
	// githubApiUrl.
	GitHubAPIURL string
	// WebhookSecretARN is the complete ARN of a Secrets Manager secret holding
	// the key webhook alerts are signed with. Context key: webhookSecretArn.
	WebhookSecretARN string
	// AlertTopicARNs are SNS topics, besides the stack's own, that monitors may
	// name as their alert target ({"alert":{"topicArn":...}}). Context key:
	// alertTopicArns, comma-separated.
	AlertTopicARNs []string
	// TwilioSecretARN is the complete ARN of a Secrets Manager secret holding
	// Twilio credentials. Context key: twilioSecretArn.
	TwilioSecretARN string
	// DestroyData makes the table, log groups and key go away with the stack
	// instead of being retained. Context key: destroyData.
	DestroyData bool
	// APIGatewayCloudWatchRole makes the stack create a role for API Gateway
	// to write logs and set it as the account's API Gateway CloudWatch Logs
	// role (AWS::ApiGateway::Account), which access logging needs and which
	// is missing in a fresh account and region. Context key:
	// apiGatewayCloudWatchRole.
	APIGatewayCloudWatchRole bool
	// StateMachineLogLevel is the level the state machine logs at: ERROR
	// (failed, timed-out and aborted tasks and executions), FATAL, or ALL
	// (every history event, about 9 per poll), for debugging. Context key:
	// stateMachineLogLevel (default ERROR); see docs/deploy.md for the cost.
	StateMachineLogLevel LogLevel
	// KeepPreviousListIndex keeps the list index of earlier versions,
	// byCreated (projection ALL), beside byCreatedV2, and has the status
	// function list through it: the first of the two deploys that upgrade
	// a stack deployed before byCreatedV2 (docs/deploy.md). Context key:
	// keepPreviousListIndex.
	KeepPreviousListIndex bool
	// CheckReservedConcurrency, when not 0, reserves that many concurrent
	// executions for the check function, which is also the most it runs
	// at once, so that checks cannot take the concurrency the start,
	// alert and status functions need. Context key:
	// checkReservedConcurrency (default none).
	CheckReservedConcurrency int
	// MinPollingIntervalSeconds, when not 0, is the shortest polling
	// interval the API accepts, at start and in a setInterval event; 0
	// keeps the API's own minimum of 1 second. A poll is three state
	// transitions, which a STANDARD workflow bills and which count
	// against the account's state-transition quota, so the floor bounds
	// what each monitor a caller starts may cost (docs/deploy.md).
	// Context key: minPollingIntervalSeconds (default none).
	MinPollingIntervalSeconds int
}

// LogLevel is a Step Functions logging level the stack accepts.
type LogLevel string

const (
	// LogAll logs every history event of every execution.
	LogAll LogLevel = "ALL"
	// LogError logs failures only. The default.
	LogError LogLevel = "ERROR"
	// LogFatal logs only executions that failed, timed out or were aborted.
	LogFatal LogLevel = "FATAL"
)

// Context keys read by ConfigFromContext.
const (
	ctxStackName            = "stackName"
	ctxRepoRoot             = "repoRoot"
	ctxAuth                 = "auth"
	ctxAllowPrivateTargets  = "allowPrivateTargets"
	ctxAllowedPrefixes      = "allowedTargetPrefixes"
	ctxVPCSubnetIDs         = "vpcSubnetIds"
	ctxVPCSecurityGroupIDs  = "vpcSecurityGroupIds"
	ctxAllowDirectSMS       = "allowDirectSms"
	ctxGitHubTokenSecretARN = "githubTokenSecretArn"
	ctxGitHubAPIURL         = "githubApiUrl"
	ctxTwilioSecretARN      = "twilioSecretArn"
	ctxWebhookSecretARN     = "webhookSecretArn"
	ctxAlertTopicARNs       = "alertTopicArns"
	ctxDestroyData          = "destroyData"
	ctxAPIGatewayCWRole     = "apiGatewayCloudWatchRole"
	ctxStateMachineLogLevel = "stateMachineLogLevel"
	ctxKeepPreviousIndex    = "keepPreviousListIndex"
	ctxCheckConcurrency     = "checkReservedConcurrency"
	ctxMinPollingInterval   = "minPollingIntervalSeconds"
)

// ConfigFromContext reads the stack options from the CDK context of node and
// validates them.
func ConfigFromContext(node constructs.Node) (Config, error) {
	get := func(key string) (string, error) {
		v := node.TryGetContext(&key)
		switch v := v.(type) {
		case nil:
			return "", nil
		case string:
			return strings.TrimSpace(v), nil
		case bool:
			return strconv.FormatBool(v), nil
		default:
			return "", fmt.Errorf("context %s: want a string or boolean, got %T", key, v)
		}
	}
	var errs []string
	str := func(key string) string {
		v, err := get(key)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return v
	}
	boolean := func(key string) bool {
		v := str(key)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("context %s: want true or false, got %q", key, v))
		}
		return b
	}

	// count reads a whole number of at least 1, given as a string (-c
	// key=N) or a JSON number (cdk.json); 0 when the key is not set.
	count := func(key string) int {
		var n float64
		switch v := node.TryGetContext(&key).(type) {
		case nil:
			return 0
		case float64:
			n = v
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				n = -1
			} else {
				n = f
			}
		default:
			n = -1
		}
		if n < 1 || n != math.Trunc(n) || n > math.MaxInt32 {
			errs = append(errs, fmt.Sprintf("context %s: want a whole number from 1, got %v", key, node.TryGetContext(&key)))
			return 0
		}
		return int(n)
	}

	cfg := Config{
		StackName:                str(ctxStackName),
		RepoRoot:                 str(ctxRepoRoot),
		Auth:                     AuthMode(str(ctxAuth)),
		AllowPrivateTargets:      boolean(ctxAllowPrivateTargets),
		AllowDirectSMS:           boolean(ctxAllowDirectSMS),
		GitHubTokenSecretARN:     str(ctxGitHubTokenSecretARN),
		GitHubAPIURL:             str(ctxGitHubAPIURL),
		TwilioSecretARN:          str(ctxTwilioSecretARN),
		WebhookSecretARN:         str(ctxWebhookSecretARN),
		DestroyData:              boolean(ctxDestroyData),
		APIGatewayCloudWatchRole: boolean(ctxAPIGatewayCWRole),
		StateMachineLogLevel:     LogLevel(strings.ToUpper(str(ctxStateMachineLogLevel))),
		KeepPreviousListIndex:    boolean(ctxKeepPreviousIndex),
		CheckReservedConcurrency: count(ctxCheckConcurrency),

		MinPollingIntervalSeconds: count(ctxMinPollingInterval),
	}
	cfg.AllowedTargetPrefixes = list(str(ctxAllowedPrefixes))
	cfg.VPCSubnetIDs = list(str(ctxVPCSubnetIDs))
	cfg.VPCSecurityGroupIDs = list(str(ctxVPCSecurityGroupIDs))
	for _, arn := range strings.Split(str(ctxAlertTopicARNs), ",") {
		if arn = strings.TrimSpace(arn); arn != "" {
			cfg.AlertTopicARNs = append(cfg.AlertTopicARNs, arn)
		}
	}
	if cfg.StackName == "" {
		cfg.StackName = DefaultStackName
	}
	if cfg.RepoRoot == "" {
		cfg.RepoRoot = ".."
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthIAM
	}
	if cfg.StateMachineLogLevel == "" {
		cfg.StateMachineLogLevel = LogError
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("infra: invalid context: %s", strings.Join(errs, "; "))
	}
	return cfg, nil
}

// Validate reports the first problem with c, if any.
func (c Config) Validate() error {
	if !stackNameRE.MatchString(c.StackName) {
		return fmt.Errorf("context %s: want letters, digits and hyphens, starting with a letter, at most 64, got %q", ctxStackName, c.StackName)
	}
	switch c.Auth {
	case AuthIAM, AuthAPIKey:
	default:
		return fmt.Errorf("context %s: want %q or %q, got %q", ctxAuth, AuthIAM, AuthAPIKey, c.Auth)
	}
	switch c.StateMachineLogLevel {
	case LogAll, LogError, LogFatal:
	default:
		return fmt.Errorf("context %s: want %q, %q or %q, got %q", ctxStateMachineLogLevel, LogError, LogAll, LogFatal, c.StateMachineLogLevel)
	}
	for _, s := range []struct{ key, arn string }{
		{ctxGitHubTokenSecretARN, c.GitHubTokenSecretARN},
		{ctxTwilioSecretARN, c.TwilioSecretARN},
		{ctxWebhookSecretARN, c.WebhookSecretARN},
	} {
		if key, arn := s.key, s.arn; arn != "" && !isSecretARN(arn) {
			return fmt.Errorf("context %s: want the complete ARN of a Secrets Manager secret (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX), got %q", key, arn)
		}
	}
	if len(c.AllowedTargetPrefixes) > 0 && c.AllowPrivateTargets {
		return fmt.Errorf("context %s: not with %s, which lets every address through (for LocalStack); give one or the other", ctxAllowedPrefixes, ctxAllowPrivateTargets)
	}
	for _, p := range c.AllowedTargetPrefixes {
		if err := checkAllowedPrefix(p); err != nil {
			return fmt.Errorf("context %s: %w", ctxAllowedPrefixes, err)
		}
	}
	if err := c.validateVPC(); err != nil {
		return err
	}
	if c.GitHubAPIURL != "" && !isHTTPSBaseURL(c.GitHubAPIURL) {
		return fmt.Errorf("context %s: want an https URL without credentials, query or fragment (GitHub Enterprise Server: https://HOST/api/v3/), got %q", ctxGitHubAPIURL, c.GitHubAPIURL)
	}
	if c.CheckReservedConcurrency < 0 {
		return fmt.Errorf("context %s: want a whole number from 1, got %d", ctxCheckConcurrency, c.CheckReservedConcurrency)
	}
	if n := c.MinPollingIntervalSeconds; n < 0 || n > maxPollingInterval {
		return fmt.Errorf("context %s: want a whole number of seconds from 1 to %d, got %d", ctxMinPollingInterval, maxPollingInterval, n)
	}
	for _, arn := range c.AlertTopicARNs {
		if !topicARNRE.MatchString(arn) {
			return fmt.Errorf("context %s: want comma-separated SNS topic ARNs (arn:PARTITION:sns:REGION:ACCOUNT:NAME), got %q", ctxAlertTopicARNs, arn)
		}
	}
	return nil
}

// maxPollingInterval is the longest polling interval the API accepts, a
// day: monitor.MaxIntervalSeconds, which a test of that package holds
// this to (infra is a module of its own).
const maxPollingInterval = 86400

// topicARNRE matches an SNS topic ARN, without wildcards.
var topicARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// stackNameRE leaves room for the "-monitor" suffix of the state machine name
// within CloudFormation's 128 and the log group path.
var stackNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

// secretARNRE matches a complete Secrets Manager secret ARN: a region's
// shape, a 12-digit account, and a name of the characters Secrets Manager
// allows followed by the six-character suffix it appends. Wildcards (* and
// ?) are not among them: the ARN is granted as it is, and a wildcard would
// grant every secret it matches.
var secretARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$`)

// isSecretARN reports whether arn is a complete Secrets Manager secret ARN,
// including the six-character suffix Secrets Manager appends to the name,
// without wildcards.
func isSecretARN(arn string) bool {
	return secretARNRE.MatchString(arn)
}

// isHTTPSBaseURL reports whether s is an absolute https URL with a host
// and nothing a base URL cannot carry: credentials (the function's
// environment is no place for them), a query or a fragment.
func isHTTPSBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && !strings.Contains(s, "#")
}

// neverAllowed are the ranges an allowed target prefix may not overlap:
// the function's own host (the Lambda Runtime API), link-local addresses
// with the metadata services, and the IPv6 forms of IPv4 addresses. The
// functions refuse the same list at start-up (internal/egress.CheckAllow);
// refusing it here fails the deploy instead.
var neverAllowed = []struct {
	prefix netip.Prefix
	name   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this host\" (0.0.0.0/8)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (169.254.0.0/16, the metadata services)"},
	{netip.MustParsePrefix("::/96"), "loopback and unspecified (::/96)"},
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped addresses (::ffff:0:0/96)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated addresses (::ffff:0:0:0/96)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 addresses (64:ff9b::/96)"},
	{netip.MustParsePrefix("2002::/16"), "6to4 addresses (2002::/16)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local (fe80::/10)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the metadata service (fd00:ec2::254)"},
}

// checkAllowedPrefix reports why s cannot be an allowed target prefix: not
// a CIDR network address, or overlapping a range that stays refused.
func checkAllowedPrefix(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Masked() != p {
		return fmt.Errorf("want comma-separated CIDR network addresses (10.1.0.0/16), got %q", s)
	}
	for _, n := range neverAllowed {
		if p.Overlaps(n.prefix) {
			return fmt.Errorf("%s overlaps %s, which stays refused", s, n.name)
		}
	}
	return nil
}

// Lambda's limits on a function's VPC configuration.
const (
	maxVPCSubnets        = 16
	maxVPCSecurityGroups = 5
)

var (
	subnetIDRE        = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	securityGroupIDRE = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// validateVPC reports a problem with the VPC options: subnets and security
// groups are given together, as ids, within Lambda's limits.
func (c Config) validateVPC() error {
	if len(c.VPCSubnetIDs) == 0 && len(c.VPCSecurityGroupIDs) == 0 {
		return nil
	}
	for _, o := range []struct {
		key   string
		ids   []string
		re    *regexp.Regexp
		max   int
		shape string
	}{
		{ctxVPCSubnetIDs, c.VPCSubnetIDs, subnetIDRE, maxVPCSubnets, "subnet-0123456789abcdef0"},
		{ctxVPCSecurityGroupIDs, c.VPCSecurityGroupIDs, securityGroupIDRE, maxVPCSecurityGroups, "sg-0123456789abcdef0"},
	} {
		if len(o.ids) == 0 {
			return fmt.Errorf("context %s: want comma-separated ids (%s) with %s and %s", o.key, o.shape, ctxVPCSubnetIDs, ctxVPCSecurityGroupIDs)
		}
		if len(o.ids) > o.max {
			return fmt.Errorf("context %s: want at most %d ids, got %d", o.key, o.max, len(o.ids))
		}
		for _, id := range o.ids {
			if !o.re.MatchString(id) {
				return fmt.Errorf("context %s: want comma-separated ids (%s), got %q", o.key, o.shape, id)
			}
		}
	}
	return nil
}

// list splits a comma-separated context value, leaving out empty items.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
