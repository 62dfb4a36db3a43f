package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/jsonpos"
)

// Limits on what a start request may ask for. They are checked by
// ParseStartRequest and documented in docs/api.md.
const (
	MaxBodyBytes           = 16 << 10 // a start request body
	MaxInstanceIDLen       = 64       // leaves room for the "-g{runTag}-g{n}" generation suffix within Step Functions' 80
	MinIntervalSeconds     = 1
	MaxIntervalSeconds     = 24 * 60 * 60
	MaxTimeoutSeconds      = 365 * 24 * 60 * 60 // a STANDARD execution's lifetime; generations continue as new well before (MaxGenerationAge)
	MaxURLLen              = 2048
	MaxHeaders             = 20
	MaxHeaderValueLen      = 4096 // characters of a header value
	MaxStatusPathLen       = 256  // characters of an HTTP target's statusPath
	MaxValues              = 60   // done, failed and running values of an HTTP target together, defaults included
	MaxCompleteAfterChecks = 1000
	MaxBackoffMultiplier   = 10
	MaxMessageTemplateLen  = 1024
	MaxRequestTimeout      = 60 // seconds, one HTTP check
)

// A GitHub check reads at most GitHubMaxPages pages of GitHubPageSize open
// issues and pull requests, so it can count no more open issues than
// MaxMinOpenIssues, the largest threshold a start accepts.
const (
	GitHubPageSize   = 100 // GitHub's largest per_page
	GitHubMaxPages   = 100
	MaxMinOpenIssues = GitHubMaxPages * GitHubPageSize
)

// Defaults applied when a request leaves a value out.
const (
	DefaultIntervalSeconds      = 60
	DefaultTimeoutSeconds       = 60 * 60
	DefaultMinOpenIssues        = 3 // seed 000: three open issues is too many
	DefaultCompleteAfterChecks  = 4 // seed 002: the simulated job completes on its 4th check
	SeedJobIntervalSeconds      = 5
	SeedJobTimeoutSeconds       = 30
	DefaultHTTPRequestTimeout   = 10
	DefaultHTTPStatusPath       = "$.status"
	DefaultHTTPMethod           = "GET"
	defaultGitHubInterval       = 60
	defaultGitHubTimeoutSeconds = 60 * 60
)

// Target types.
const (
	TargetGitHub    = "github"
	TargetHTTP      = "http"
	TargetSimulated = "simulated"
)

// Job statuses a check can observe. A GitHub target reports StatusRunning
// until the threshold is reached.
const (
	StatusRunning   = "Running"
	StatusCompleted = "Completed"
	StatusFailed    = "Failed"
	StatusUnknown   = "Unknown" // the target answered something we could not read
	StatusError     = "Error"   // the check could not reach the target this time
)

// Spec is a validated monitor definition: what to check, how often, for how
// long, and whom to tell. It is the execution input's "spec" and the status
// record's "input".
type Spec struct {
	// JobID names the monitored job in the custom status; the instance id
	// when the request names none.
	JobID                  string   `json:"jobId"`
	Target                 Target   `json:"target"`
	PollingIntervalSeconds int      `json:"pollingIntervalSeconds"`
	Backoff                *Backoff `json:"backoff,omitempty"`
	TimeoutSeconds         int      `json:"timeoutSeconds"`
	Alert                  *Alert   `json:"alert,omitempty"`
}

// Target is what a monitor checks. Type selects which of the other fields
// apply.
type Target struct {
	Type string `json:"type"`

	// github: alert when the repository has at least MinOpenIssues open
	// issues (pull requests are not counted).
	Repo          string `json:"repo,omitempty"`
	MinOpenIssues int    `json:"minOpenIssues,omitempty"`

	// http: GET (or Method) URL, read StatusPath from the JSON answer and
	// compare it with DoneValues / FailedValues / RunningValues.
	URL                   string            `json:"url,omitempty"`
	Method                string            `json:"method,omitempty"`
	Headers               map[string]string `json:"headers,omitempty"`
	StatusPath            string            `json:"statusPath,omitempty"`
	DoneValues            []string          `json:"doneValues,omitempty"`
	FailedValues          []string          `json:"failedValues,omitempty"`
	RunningValues         []string          `json:"runningValues,omitempty"`
	RequestTimeoutSeconds int               `json:"requestTimeoutSeconds,omitempty"`

	// simulated: Running until check CompleteAfterChecks, then Outcome
	// (Completed or Failed).
	CompleteAfterChecks int    `json:"completeAfterChecks,omitempty"`
	Outcome             string `json:"outcome,omitempty"`
}

// Backoff grows the polling interval after every check that does not
// finish the monitor (Running, Unknown and Error alike): interval ×
// Multiplier, rounded up to a whole second and capped at MaxIntervalSeconds
// (see Spec.NextInterval). Both fields are required.
type Backoff struct {
	Multiplier         float64 `json:"multiplier"`
	MaxIntervalSeconds int     `json:"maxIntervalSeconds"`
}

// Alert says whom to tell when a monitor's condition is met. Exactly one of
// Phone, TopicArn and WebhookURL is set.
type Alert struct {
	Phone      string `json:"phone,omitempty"`      // E.164; SMS through SNS or Twilio
	Channel    string `json:"channel,omitempty"`    // for Phone: "sns" (default on AWS) or "twilio"
	TopicArn   string `json:"topicArn,omitempty"`   // SNS topic
	WebhookURL string `json:"webhookUrl,omitempty"` // JSON POST, Slack-compatible
	// Message is a text/template over AlertData; a default names the
	// monitor, the target and what was observed.
	Message string `json:"message,omitempty"`
}

// Alert channels.
const (
	ChannelSNS     = "sns"
	ChannelTwilio  = "twilio"
	ChannelWebhook = "webhook"
)

// ChannelOf returns the channel that delivers a: "webhook", "sns" (topic or
// SMS) or "twilio".
func (a Alert) ChannelOf() string {
	switch {
	case a.WebhookURL != "":
		return ChannelWebhook
	case a.Phone != "" && a.Channel == ChannelTwilio:
		return ChannelTwilio
	default:
		return ChannelSNS
	}
}

// StartRequest is a parsed, validated start request.
type StartRequest struct {
	// InstanceID is the caller's id, or "" to have one generated.
	InstanceID string
	Spec       Spec
	// Shape names the request shape that was recognised: "native",
	// "seed-github" or "seed-job".
	Shape string
}

var (
	instanceIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	phoneRe      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	repoRe       = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	topicArnRe   = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	jobIDRe      = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)
)

// generationSuffixRe matches the "-g{n}" suffix of the execution names of
// continue-as-new generations ("{instanceId}-g{runTag}-g{n}", before run
// tags "{instanceId}-g{n}").
var generationSuffixRe = regexp.MustCompile(`-g[0-9]+$`)

// nativeRequest is the documented request shape.
type nativeRequest struct {
	InstanceID             *string  `json:"instanceId"`
	JobID                  *string  `json:"jobId"`
	Target                 *Target  `json:"target"`
	PollingIntervalSeconds *int     `json:"pollingIntervalSeconds"`
	Backoff                *Backoff `json:"backoff"`
	TimeoutSeconds         *int     `json:"timeoutSeconds"`
	Alert                  *Alert   `json:"alert"`
}

// seedGitHubRequest is seed 000's shape: a GitHub open-issues monitor with
// an SMS alert.
type seedGitHubRequest struct {
	Repo  string `json:"repo"`
	Phone string `json:"phone"`
}

// seedJobRequest is seed 002's shape: a monitor of the simulated job.
type seedJobRequest struct {
	JobID                  string `json:"job_id"`
	PollingIntervalSeconds *int   `json:"polling_interval_seconds"`
	TimeoutSeconds         *int   `json:"timeout_seconds"`
}

// ParseStartRequest reads a start request body in any of the accepted
// shapes, applies defaults and validates it. Every problem is reported at
// once in a KindInvalid *Error's Fields; an over-long body is KindTooLarge.
func ParseStartRequest(body []byte) (StartRequest, error) {
	return parseStartRequest(body, nil)
}

// parseStartRequest is ParseStartRequest with more problems: those that
// more, when not nil, finds in the request once it is normalized, listed
// with the others in input order.
func parseStartRequest(body []byte, more func(StartRequest) []FieldError) (StartRequest, error) {
	const op = "start"
	if len(body) > MaxBodyBytes {
		return StartRequest{}, Errorf(KindTooLarge, op, "request body is %d bytes; the limit is %d", len(body), MaxBodyBytes)
	}
	orig := body
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return StartRequest{}, Errorf(KindInvalid, op, "request body is empty; send a JSON object such as {\"target\":{\"type\":\"simulated\"}}")
	}
	if err := notUTF8(op, body); err != nil {
		// encoding/json would take each bad byte for U+FFFD, and the
		// monitor would keep text its sender never wrote.
		return StartRequest{}, err
	}
	var keys map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&keys); err != nil {
		skip := len(orig) - len(bytes.TrimLeftFunc(orig, unicode.IsSpace))
		return StartRequest{}, &Error{Kind: KindInvalid, Op: op, Message: "request body is not a JSON object: " + jsonProblem(orig, skip, err)}
	}
	// Decoder.More is false before a stray '}' or ']': compare offsets.
	if dec.InputOffset() != int64(len(body)) {
		return StartRequest{}, Errorf(KindInvalid, op, "invalid request: trailing data after the JSON object")
	}
	if keys == nil { // null decodes into a map without an error
		return StartRequest{}, Errorf(KindInvalid, op, "request body is not a JSON object: it is null")
	}
	_, hasTarget := keys["target"]
	_, hasRepo := keys["repo"]
	_, hasJob := keys["job_id"]
	switch {
	case hasTarget:
		return parseNative(body, more)
	case hasRepo:
		return parseSeedGitHub(body, more)
	case hasJob:
		return parseSeedJob(body, more)
	default:
		if parse := parserOfKeys(keys); parse != nil {
			return parse(body, more)
		}
		return StartRequest{}, Errorf(KindInvalid, op, "unrecognised request: send {\"target\":{...}} (see docs/api.md), {\"repo\":\"owner/name\",\"phone\":\"+1...\"} or {\"job_id\":\"...\"}")
	}
}

// jsonProblem turns the encoding/json error of decoding body[skip:], a
// body that is not one well-formed JSON object, into a message for the
// caller, a syntax error placed by line and column in body.
func jsonProblem(body []byte, skip int, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		switch te.Value {
		case "array", "object":
			return "it is an " + te.Value
		case "bool":
			return "it is true or false"
		}
		return "it is a " + te.Value // a string, a number
	}
	if msg, ok := jsonpos.Describe(body, skip, err); ok {
		return msg
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func parseNative(body []byte, more func(StartRequest) []FieldError) (StartRequest, error) {
	var r nativeRequest
	d := decodeStrict(body, &r)
	spec := Spec{Backoff: r.Backoff, Alert: r.Alert,
		PollingIntervalSeconds: DefaultIntervalSeconds, TimeoutSeconds: DefaultTimeoutSeconds}
	if r.Target != nil {
		spec.Target = *r.Target
	}
	if r.PollingIntervalSeconds != nil {
		spec.PollingIntervalSeconds = *r.PollingIntervalSeconds
	}
	if r.TimeoutSeconds != nil {
		spec.TimeoutSeconds = *r.TimeoutSeconds
	}
	req := StartRequest{Spec: spec, Shape: "native"}
	var v validator
	// An id or a job id given as "" is given and too short; left out (or
	// null) it is generated or defaulted.
	if r.InstanceID != nil {
		req.InstanceID = *r.InstanceID
		v.check(req.InstanceID != "", "instanceId", instanceIDProblem)
	}
	if r.JobID != nil {
		req.Spec.JobID = *r.JobID
		v.check(req.Spec.JobID != "", "jobId", jobIDProblem)
	}
	v.fields = append(v.fields, fieldsOf(req.normalizeAndValidate(r.Target == nil && !d.bad["target"], d.isGiven))...)
	v.fields = append(v.fields, moreProblems(more, req)...)
	return req, d.merge("start", v.err())
}

// moreProblems returns what more finds in req; none when more is nil.
func moreProblems(more func(StartRequest) []FieldError, req StartRequest) []FieldError {
	if more == nil {
		return nil
	}
	return more(req)
}

func parseSeedGitHub(body []byte, more func(StartRequest) []FieldError) (StartRequest, error) {
	var r seedGitHubRequest
	d := decodeStrict(body, &r)
	spec := Spec{
		Target:                 Target{Type: TargetGitHub, Repo: r.Repo, MinOpenIssues: DefaultMinOpenIssues},
		PollingIntervalSeconds: defaultGitHubInterval,
		TimeoutSeconds:         defaultGitHubTimeoutSeconds,
	}
	if r.Phone != "" {
		spec.Alert = &Alert{Phone: r.Phone}
	}
	req := StartRequest{Spec: spec, Shape: "seed-github"}
	if !d.isGiven("repo") {
		// In place of the problem validation has with an empty repo.
		d.add("repo", "is required: owner/name, e.g. octocat/hello-world", true)
	}
	var v validator
	v.fields = append(fieldsOf(req.normalizeAndValidate(false, nil)), moreProblems(more, req)...)
	return req, d.merge("start", v.err())
}

func parseSeedJob(body []byte, more func(StartRequest) []FieldError) (StartRequest, error) {
	var r seedJobRequest
	d := decodeStrict(body, &r)
	spec := Spec{
		JobID:                  r.JobID,
		Target:                 Target{Type: TargetSimulated, CompleteAfterChecks: DefaultCompleteAfterChecks, Outcome: StatusCompleted},
		PollingIntervalSeconds: SeedJobIntervalSeconds,
		TimeoutSeconds:         SeedJobTimeoutSeconds,
	}
	if r.PollingIntervalSeconds != nil {
		spec.PollingIntervalSeconds = *r.PollingIntervalSeconds
	}
	if r.TimeoutSeconds != nil {
		spec.TimeoutSeconds = *r.TimeoutSeconds
	}
	req := StartRequest{Spec: spec, Shape: "seed-job"}
	var v validator
	switch {
	case !d.isGiven("job_id"):
		v.add("job_id", "is required")
	case r.JobID == "":
		// Given, and too short: as the native shape's jobId.
		v.add("job_id", jobIDProblem)
	}
	v.fields = append(v.fields, fieldsOf(req.normalizeAndValidate(false, nil))...)
	v.fields = append(v.fields, moreProblems(more, req)...)
	return req, d.merge("start", v.err())
}

// fieldsOf returns the field problems of err, a validator's error or nil.
func fieldsOf(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems shared by the checks of several fields.
var (
	instanceIDProblem = fmt.Sprintf("must be 1 to %d letters, digits, '-' or '_'", MaxInstanceIDLen)
	jobIDProblem      = "must be 1 to 128 letters, digits or . _ : / -"
	intervalProblem   = fmt.Sprintf("must be between %d and %d seconds", MinIntervalSeconds, MaxIntervalSeconds)
)

// givenAs is the end of the problem of a text field given as s, which
// shows it: ", not \"bad id!\"".
func givenAs(s string) string {
	return fmt.Sprintf(", not %q", TruncateBytes(s, 80))
}

// validInterval reports whether secs is a valid polling interval.
func validInterval(secs int) bool {
	return secs >= MinIntervalSeconds && secs <= MaxIntervalSeconds
}

// normalizeAndValidate fills defaults that depend on the target type and
// collects every problem with the request. given reports whether the body
// gave a field (by its path) a value: only a field left out takes its
// default, so that one given as 0 or "" is validated as it is. nil means
// the body named none of the target's and alert's fields.
func (r *StartRequest) normalizeAndValidate(missingTarget bool, given func(field string) bool) error {
	if given == nil {
		given = func(string) bool { return false }
	}
	var v validator
	if r.InstanceID != "" {
		if ValidInstanceID(r.InstanceID) {
			v.check(!HasGenerationSuffix(r.InstanceID), "instanceId", generationSuffixProblem)
		} else {
			v.add("instanceId", instanceIDProblem+givenAs(r.InstanceID))
		}
	}
	if r.Spec.JobID != "" {
		v.check(jobIDRe.MatchString(r.Spec.JobID), fieldName(r.Shape, "jobId"), jobIDProblem+givenAs(r.Spec.JobID))
	}
	if missingTarget {
		v.add("target", "is required: an object whose type is "+targetTypeList)
	} else {
		r.Spec.Target.normalize(given)
		r.Spec.Target.validate(&v, r.Shape, given)
	}
	v.check(validInterval(r.Spec.PollingIntervalSeconds), fieldName(r.Shape, "pollingIntervalSeconds"), intervalProblem)
	v.check(r.Spec.TimeoutSeconds >= 1 && r.Spec.TimeoutSeconds <= MaxTimeoutSeconds,
		fieldName(r.Shape, "timeoutSeconds"), fmt.Sprintf("must be between 1 and %d seconds (one year)", MaxTimeoutSeconds))
	if b := r.Spec.Backoff; b != nil {
		// Neither field has a default: a backoff names both.
		if given("backoff.multiplier") {
			v.check(b.Multiplier >= 1 && b.Multiplier <= MaxBackoffMultiplier, "backoff.multiplier",
				fmt.Sprintf("must be between 1 and %d", MaxBackoffMultiplier))
		} else {
			v.add("backoff.multiplier", fmt.Sprintf("is required: the factor, 1 to %d, that multiplies the wait after each check", MaxBackoffMultiplier))
		}
		if given("backoff.maxIntervalSeconds") {
			// The interval is named with its value: a body that left it
			// out has the default, which it never wrote.
			v.check(b.MaxIntervalSeconds >= r.Spec.PollingIntervalSeconds && b.MaxIntervalSeconds <= MaxIntervalSeconds,
				"backoff.maxIntervalSeconds", fmt.Sprintf("must be between %s (%d) and %d",
					fieldName(r.Shape, "pollingIntervalSeconds"), r.Spec.PollingIntervalSeconds, MaxIntervalSeconds))
		} else {
			v.add("backoff.maxIntervalSeconds", fmt.Sprintf("is required: the longest wait, pollingIntervalSeconds to %d seconds", MaxIntervalSeconds))
		}
	}
	if a := r.Spec.Alert; a != nil {
		a.validate(&v, r.Shape)
		v.check(a.Channel != "" || !given("alert.channel"), "alert.channel", channelProblem)
		v.check(a.Message != "" || !given("alert.message"), "alert.message", "must not be empty: leave it out for the default message")
	}
	if r.Spec.Target.Type == TargetGitHub && r.Spec.Alert == nil && r.Shape == "native" {
		v.add("alert", "is required for a github target: it says whom to tell when the threshold is reached")
	}
	return v.err()
}

// generationSuffixProblem says why an instance id may not end in "-g{n}".
const generationSuffixProblem = "must not end in -g followed by digits (such as -g1): " +
	"the executions that continue a monitor are named {instanceId}-g{runTag}-g{n}, so such an id could take another monitor's name"

// HasGenerationSuffix reports whether id ends in "-g" and digits, the
// suffix of continue-as-new execution names. A new monitor may not take
// such an id: monitor "abc" continues as execution "abc-g402913-g1" (or,
// started before run tags, "abc-g1"), which a monitor named so would
// already hold, and an id "abc-g402913" would make that name read as its
// own (see ExecutionName).
func HasGenerationSuffix(id string) bool { return generationSuffixRe.MatchString(id) }

// fieldName spells a field the way the request shape spelled it.
func fieldName(shape, native string) string {
	if shape != "seed-job" {
		return native
	}
	switch native {
	case "pollingIntervalSeconds":
		return "polling_interval_seconds"
	case "timeoutSeconds":
		return "timeout_seconds"
	case "jobId":
		return "job_id"
	}
	return native
}

// channelProblem is the problem with an alert.channel out of range.
const channelProblem = "must be sns or twilio, and only with phone"

// normalize fills the defaults of the fields that the body left out (see
// normalizeAndValidate for given).
func (t *Target) normalize(given func(field string) bool) {
	absent := func(name string) bool { return !given("target." + name) }
	switch t.Type {
	case TargetHTTP:
		if t.Method == "" && absent("method") {
			t.Method = DefaultHTTPMethod
		}
		t.Method = strings.ToUpper(t.Method)
		if t.StatusPath == "" && absent("statusPath") {
			t.StatusPath = DefaultHTTPStatusPath
		}
		if len(t.DoneValues) == 0 && absent("doneValues") {
			t.DoneValues = []string{StatusCompleted}
		}
		if len(t.FailedValues) == 0 && absent("failedValues") {
			t.FailedValues = []string{StatusFailed}
		}
		if t.RequestTimeoutSeconds == 0 && absent("requestTimeoutSeconds") {
			t.RequestTimeoutSeconds = DefaultHTTPRequestTimeout
		}
	case TargetSimulated:
		if t.CompleteAfterChecks == 0 && absent("completeAfterChecks") {
			t.CompleteAfterChecks = DefaultCompleteAfterChecks
		}
		if t.Outcome == "" && absent("outcome") {
			t.Outcome = StatusCompleted
		}
	case TargetGitHub:
		if t.MinOpenIssues == 0 && absent("minOpenIssues") {
			t.MinOpenIssues = DefaultMinOpenIssues
		}
	}
}

// targetFields lists the fields of each target type besides type, as
// the body spells them. It is the one list of the target types: a new
// type added here is checked for fields of the others, and they for its.
var targetFields = map[string][]string{
	TargetGitHub:    {"repo", "minOpenIssues"},
	TargetHTTP:      {"url", "method", "headers", "statusPath", "doneValues", "failedValues", "runningValues", "requestTimeoutSeconds"},
	TargetSimulated: {"completeAfterChecks", "outcome"},
}

// targetTypes are the keys of targetFields, sorted so that problems are
// reported in the same order every time.
var targetTypes = slices.Sorted(maps.Keys(targetFields))

// TargetTypes returns the target types a start accepts, sorted: each
// needs a Checker in Tasks.Checkers wherever monitors run (the check
// function's main, the local runtime), whose tests compare them.
func TargetTypes() []string { return slices.Clone(targetTypes) }

// Channels returns the alert channels ChannelOf returns, sorted: each
// needs a Sender in Tasks.Senders wherever alerts are sent (the alert
// function's main, with Twilio configured; the local runtime), whose
// tests compare them.
func Channels() []string { return []string{ChannelSNS, ChannelTwilio, ChannelWebhook} }

// targetTypeList names the target types in a sentence: "github, http or
// simulated".
var targetTypeList = listed(targetTypes, "or")

// listed names items in a sentence, the last two joined by conj: "a",
// "a and b", "a, b and c"; "" for none.
func listed(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

// otherTargetFields reports each field that the body gives (see
// normalizeAndValidate for given) but a target of type typ does not take:
// a field of another type that typ does not have too.
func otherTargetFields(v *validator, typ string, given func(field string) bool) {
	article := "a"
	if strings.ContainsRune("aeiou", rune(typ[0])) || typ == TargetHTTP {
		article = "an"
	}
	own := targetFields[typ]
	takes := "which takes no other field"
	if len(own) > 0 {
		takes = "which takes only " + listed(own, "and")
	}
	reported := map[string]bool{} // a field other types share, once
	for _, other := range targetTypes {
		if other == typ {
			continue
		}
		for _, f := range targetFields[other] {
			if slices.Contains(own, f) || reported[f] || !given("target."+f) {
				continue
			}
			reported[f] = true
			v.add("target."+f, fmt.Sprintf("does not apply to %s %s target, %s", article, typ, takes))
		}
	}
}

// valuesProblem says why the done, failed and running values of an HTTP
// target are too many, or "" when they are not.
func (t *Target) valuesProblem(given func(field string) bool) string {
	done, failed, running := len(t.DoneValues), len(t.FailedValues), len(t.RunningValues)
	if done+failed+running <= MaxValues {
		return ""
	}
	var defaults []string
	for _, f := range []string{"doneValues", "failedValues"} {
		if !given("target." + f) {
			defaults = append(defaults, f)
		}
	}
	p := fmt.Sprintf("must be shorter: doneValues, failedValues and runningValues may have at most %d values together, and they have %d + %d + %d = %d",
		MaxValues, done, failed, running, done+failed+running)
	if len(defaults) > 0 {
		p += ", counting the default " + strings.Join(defaults, " and ")
	}
	return p
}

// overlappingValues reports a value in two of an HTTP target's lists as
// the check compares them (strings.EqualFold, numbers by StatusNumber),
// where the first list would win unseen: a failed job would end Completed.
func (t *Target) overlappingValues(v *validator) {
	lists := []struct {
		name   string
		values []string
	}{{"doneValues", t.DoneValues}, {"failedValues", t.FailedValues}, {"runningValues", t.RunningValues}}
	seen := map[string]string{} // folded value → the list it is in
	for _, l := range lists {
		for _, val := range l.values {
			key, how := foldKey(val), "values compare ignoring case"
			// A canonical number is "0" or has a lower-case e; foldKey
			// leaves no lower-case e, and only "0" folds to "0".
			if n, ok := StatusNumber(val); ok {
				key, how = n, "numbers compare by value"
			}
			if other, ok := seen[key]; ok && other != l.name {
				v.add("target."+l.name, fmt.Sprintf("%q is in %s too (%s)", val, other, how))
				continue
			}
			seen[key] = l.name
		}
	}
}

// foldKey returns the same text for two strings that strings.EqualFold
// finds equal: each rune replaced by the smallest of its simple case
// folding orbit (k, K and the Kelvin sign are all K).
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// longestValues is the path of the longest of an HTTP target's value
// lists, the first of equals.
func (t *Target) longestValues() string {
	field, n := "target.doneValues", len(t.DoneValues)
	if len(t.FailedValues) > n {
		field, n = "target.failedValues", len(t.FailedValues)
	}
	if len(t.RunningValues) > n {
		field = "target.runningValues"
	}
	return field
}

func (t *Target) validate(v *validator, shape string, given func(field string) bool) {
	repoField := "target.repo"
	if shape == "seed-github" {
		repoField = "repo"
	}
	if _, known := targetFields[t.Type]; known {
		otherTargetFields(v, t.Type, given)
	}
	switch t.Type {
	case TargetGitHub:
		switch _, name, _ := strings.Cut(t.Repo, "/"); {
		case !repoRe.MatchString(t.Repo):
			v.add(repoField, "must be owner/name, e.g. octocat/hello-world")
		case name == "." || name == "..":
			// The path segment would not name the repository: the
			// check refuses it.
			v.add(repoField, "must be owner/name, e.g. octocat/hello-world; . and .. are not repository names")
		}
		v.check(t.MinOpenIssues >= 1 && t.MinOpenIssues <= MaxMinOpenIssues, "target.minOpenIssues",
			fmt.Sprintf("must be between 1 and %d: a check reads at most %d pages of %d open issues and pull requests",
				MaxMinOpenIssues, GitHubMaxPages, GitHubPageSize))
	case TargetHTTP:
		if p := urlProblem(t.URL); p != "" {
			v.add("target.url", p)
		}
		// The status is read from the answer's body, which a HEAD answer
		// does not have: such a monitor would report Unknown until it
		// timed out.
		switch t.Method {
		case "GET", "POST":
		case "HEAD":
			v.check(false, "target.method", "must be GET or POST: HEAD answers have no body to read the job's status from")
		default:
			v.check(false, "target.method", "must be GET or POST")
		}
		v.check(len(t.Headers) <= MaxHeaders, "target.headers", fmt.Sprintf("must have at most %d entries", MaxHeaders))
		// Header names ignore case: two that differ only in case would
		// be one header, whose value depends on the order of a map.
		sameHeader := map[string][]string{}
		for name := range t.Headers {
			sameHeader[strings.ToLower(name)] = append(sameHeader[strings.ToLower(name)], name)
		}
		for name, val := range t.Headers {
			switch {
			case !headerNameRe.MatchString(name):
				v.add("target.headers."+name, "is not a valid header name")
			case clientHeaders[strings.ToLower(name)] != "":
				v.add("target.headers."+name, clientHeaders[strings.ToLower(name)])
			case strings.ContainsAny(val, "\r\n"):
				v.add("target.headers."+name, "must be a single line")
			case strings.ContainsFunc(val, isHeaderCTL):
				// net/http refuses to send such a value: every check
				// would fail without a request.
				v.add("target.headers."+name, "must not contain control characters other than tab")
			case utf8.RuneCountInString(val) > MaxHeaderValueLen:
				v.add("target.headers."+name, fmt.Sprintf("must be at most %d characters", MaxHeaderValueLen))
			}
			others := slices.DeleteFunc(slices.Sorted(slices.Values(sameHeader[strings.ToLower(name)])), func(o string) bool { return o == name })
			if len(others) > 0 {
				v.add("target.headers."+name, fmt.Sprintf("names the same header as %s (header names ignore case)", strings.Join(others, " and ")))
			}
		}
		switch {
		case !strings.HasPrefix(t.StatusPath, "$"):
			v.add("target.statusPath", "must be a JSONPath starting with $, e.g. $.status")
		case utf8.RuneCountInString(t.StatusPath) > MaxStatusPathLen:
			v.add("target.statusPath", fmt.Sprintf("must be at most %d characters", MaxStatusPathLen))
		case strings.ContainsFunc(t.StatusPath, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			v.add("target.statusPath", "must not contain whitespace or control characters")
		default:
			if _, err := ParseStatusPath(t.StatusPath); err != nil {
				v.add("target.statusPath", "is not a supported JSONPath: "+err.Error())
			}
		}
		v.check(len(t.DoneValues) > 0, "target.doneValues", `must list at least one value; leave it out for the default ["Completed"]`)
		v.check(len(t.FailedValues) > 0, "target.failedValues", `must list at least one value; leave it out for the default ["Failed"]`)
		if p := t.valuesProblem(given); p != "" {
			v.add(t.longestValues(), p)
		}
		t.overlappingValues(v)
		v.check(t.RequestTimeoutSeconds >= 1 && t.RequestTimeoutSeconds <= MaxRequestTimeout, "target.requestTimeoutSeconds",
			fmt.Sprintf("must be between 1 and %d", MaxRequestTimeout))
	case TargetSimulated:
		v.check(t.CompleteAfterChecks >= 1 && t.CompleteAfterChecks <= MaxCompleteAfterChecks, "target.completeAfterChecks",
			fmt.Sprintf("must be between 1 and %d", MaxCompleteAfterChecks))
		v.check(t.Outcome == StatusCompleted || t.Outcome == StatusFailed, "target.outcome", "must be Completed or Failed")
	case "":
		v.add("target.type", "is required: "+targetTypeList)
	default:
		v.add("target.type", fmt.Sprintf("must be %s, not %q", targetTypeList, t.Type))
	}
}

func (a *Alert) validate(v *validator, shape string) {
	set := 0
	for _, s := range []string{a.Phone, a.TopicArn, a.WebhookURL} {
		if s != "" {
			set++
		}
	}
	phoneField := "alert.phone"
	if shape == "seed-github" {
		phoneField = "phone"
	}
	v.check(set == 1, "alert", "must have exactly one of phone, topicArn and webhookUrl")
	if a.Phone != "" {
		v.check(phoneRe.MatchString(a.Phone), phoneField, "must be an E.164 number such as +14255550100")
	}
	if a.TopicArn != "" {
		v.check(topicArnRe.MatchString(a.TopicArn), "alert.topicArn", "must be an SNS topic ARN")
	}
	if a.WebhookURL != "" {
		if p := urlProblem(a.WebhookURL); p != "" {
			v.add("alert.webhookUrl", p)
		}
	}
	v.check(a.Channel == "" || ((a.Channel == ChannelSNS || a.Channel == ChannelTwilio) && a.Phone != ""), "alert.channel", channelProblem)
	tooLong := utf8.RuneCountInString(a.Message) > MaxMessageTemplateLen
	v.check(!tooLong, "alert.message", fmt.Sprintf("must be at most %d characters", MaxMessageTemplateLen))
	if a.Message != "" && !tooLong {
		if tmpl, err := parseMessageTemplate(a.Message); err != nil {
			v.add("alert.message", "is not a valid template: "+err.Error())
		} else if err := sampleRun(tmpl); errors.Is(err, errMessageTooLong) {
			v.add("alert.message", fmt.Sprintf("renders to more than %d bytes", MaxMessageBytes))
		} else if errors.Is(err, errPrintfDirective) {
			v.add("alert.message", "is not a valid template: "+directiveError(err).Error())
		} else if errors.Is(err, errTemplateFails) {
			v.add("alert.message", err.Error())
		} else if err != nil {
			// A field the alert data does not have (a typo) would
			// otherwise show only at alert time, as the default message.
			v.add("alert.message", templateFieldProblem(err))
		}
	}
}

// clientHeaders are the headers, by lower-case name, that an HTTP target
// may not set, with the problem: net/http writes them itself from the
// request (Host from the URL, the framing headers from the body,
// Accept-Encoding as the answers it decompresses), or over HTTP/2 refuses
// the request or drops them, so a target would never get the value given
// or the check could not read the answer.
var clientHeaders = func() map[string]string {
	m := map[string]string{
		"host": "cannot be set: the request's host is target.url's",
		// Given, it stops net/http decompressing the answer, and the
		// check would read gzip as an answer that is not JSON.
		"accept-encoding": "cannot be set: the check asks for gzip itself and decompresses the answer",
	}
	for _, h := range []string{"content-length", "transfer-encoding", "trailer", "connection", "keep-alive", "proxy-connection", "te", "upgrade"} {
		m[h] = "cannot be set: the HTTP client writes it itself, or refuses it"
	}
	return m
}()

// isHeaderCTL reports whether r is a control character that a header
// value may not carry: those below space but tab, and DEL, as net/http
// sees them.
func isHeaderCTL(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }

// urlProblem returns what is wrong with s as a target's or a webhook's
// URL, or "".
func urlProblem(s string) string {
	if utf8.RuneCountInString(s) > MaxURLLen {
		return fmt.Sprintf("must be at most %d characters", MaxURLLen)
	}
	u, err := url.Parse(s)
	switch {
	case s == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		// u.Host is ":8080" for "http://:8080/": a port names no host.
		return "must be an absolute http or https URL"
	case u.User != nil:
		return "must not carry a user name or password: send credentials in headers"
	case !validPort(u.Port()):
		return "must have a port between 1 and 65535"
	case nonCanonicalIPv4(u.Hostname()):
		return "must write an IPv4 host as four decimal numbers (such as 192.0.2.1)"
	}
	return ""
}

// nonCanonicalIPv4 reports whether host is one of the other spellings of
// an IPv4 address that URL parsers and inet_aton accept (2130706433,
// 127.1, 0x7f.0.0.1, 0177.0.0.1, 127.0.0.1.): a host whose last label is
// a number, as the WHATWG URL standard tells an IPv4 host, that is not
// four decimal numbers. Go's resolver looks such a host up as a name, so
// that every check of it would fail to resolve; no DNS name ends in a
// numeric label.
func nonCanonicalIPv4(host string) bool {
	if strings.Contains(host, ":") { // an IPv6 literal
		return false
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := labels[len(labels)-1]
	numeric := last != "" && strings.Trim(last, "0123456789") == ""
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") && strings.Trim(l[2:], "0123456789abcdef") == "" {
		numeric = true
	}
	if !numeric {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err != nil || !a.Is4()
}

// validPort reports whether a URL's port, "" when it names none, can be
// connected to. url.Parse checks only that it is digits.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// validator collects field problems.
type validator struct{ fields []FieldError }

func (v *validator) add(field, problem string) {
	v.fields = append(v.fields, FieldError{Field: field, Problem: problem})
}

func (v *validator) check(ok bool, field, problem string) {
	if !ok {
		v.add(field, problem)
	}
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: "start", Message: "invalid request", Fields: v.fields}
}

// ExpiresAt returns when a monitor started at start with spec s expires:
// TimeoutSeconds after start, rounded up to a whole second, so that the
// monitor never gets less time than its timeout asks for. The start
// handler of both runtimes (API.Start) computes it once, and the
// execution input carries it.
func (s Spec) ExpiresAt(start time.Time) time.Time {
	end := start.UTC().Add(time.Duration(s.TimeoutSeconds) * time.Second)
	if whole := end.Truncate(time.Second); whole.Before(end) {
		return whole.Add(time.Second)
	}
	return end
}
