package stepmon

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

type stateDef struct {
	Type        string                  `json:"Type"`
	Next        string                  `json:"Next"`
	End         bool                    `json:"End"`
	Default     string                  `json:"Default"`
	Choices     []json.RawMessage       `json:"Choices"`
	Catch       []struct{ Next string } `json:"Catch"`
	Resource    string                  `json:"Resource"`
	SecondsPath string                  `json:"SecondsPath"`
}

type machineDef struct {
	StartAt string              `json:"StartAt"`
	States  map[string]stateDef `json:"States"`
}

func parse(t *testing.T) machineDef {
	t.Helper()
	var m machineDef
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	return m
}

// successors returns the states a state can move to.
func successors(t *testing.T, s stateDef) []string {
	t.Helper()
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	for _, c := range s.Choices {
		var rule struct{ Next string }
		if err := json.Unmarshal(c, &rule); err != nil {
			t.Fatal(err)
		}
		out = append(out, rule.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

func TestDefinitionStructure(t *testing.T) {
	m := parse(t)
	if _, ok := m.States[m.StartAt]; !ok {
		t.Fatalf("StartAt %q is not a state", m.StartAt)
	}
	reached := map[string]bool{}
	queue := []string{m.StartAt}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if reached[name] {
			continue
		}
		reached[name] = true
		s, ok := m.States[name]
		if !ok {
			t.Errorf("a transition names state %q, which does not exist", name)
			continue
		}
		terminal := s.Type == "Succeed" || s.Type == "Fail"
		if !terminal && s.Type != "Choice" && s.Next == "" && !s.End {
			t.Errorf("state %q has neither Next nor End", name)
		}
		queue = append(queue, successors(t, s)...)
	}
	for name := range m.States {
		if !reached[name] {
			t.Errorf("state %q is unreachable", name)
		}
	}
}

// A poll costs three state transitions: Check, Evaluate, Wait.
func TestPollLoopIsThreeTransitions(t *testing.T) {
	m := parse(t)
	path := []string{"Check"}
	for cur := m.States["Check"].Next; cur != "Check"; {
		path = append(path, cur)
		s := m.States[cur]
		switch s.Type {
		case "Choice":
			cur = s.Default
		default:
			cur = s.Next
		}
		if len(path) > 10 {
			t.Fatalf("the poll loop does not return to Check: %v", path)
		}
	}
	if want := []string{"Check", "Evaluate", "Wait"}; !slices.Equal(path, want) {
		t.Errorf("poll loop = %v, want %v", path, want)
	}
	if got := m.States["Wait"].SecondsPath; got != "$.check.waitSeconds" {
		t.Errorf("Wait.SecondsPath = %q", got)
	}
}

func TestSubstitutions(t *testing.T) {
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(Definition, -1) {
		names[m[1]] = true
	}
	want := []string{AlertFunctionPlaceholder, CheckFunctionPlaceholder, StatusFunctionPlaceholder}
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("placeholders = %v, want %v", got, want)
	}
	out := Substitute(Definition, map[string]string{
		CheckFunctionPlaceholder:  "arn:check",
		AlertFunctionPlaceholder:  "arn:alert",
		StatusFunctionPlaceholder: "arn:status",
	})
	if strings.Contains(out, "${") {
		t.Errorf("placeholders left after Substitute")
	}
	if !json.Valid([]byte(out)) {
		t.Errorf("substituted definition is not JSON")
	}
}

// retrier is one entry of a Task state's Retry; a field the definition leaves
// out is zero.
type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
	MaxDelaySeconds int      `json:"MaxDelaySeconds"`
	JitterStrategy  string   `json:"JitterStrategy"`
}

// retriers returns the Retry of state name.
func retriers(t *testing.T, name string) []retrier {
	t.Helper()
	var m struct {
		States map[string]struct {
			Retry []retrier `json:"Retry"`
		} `json:"States"`
	}
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	s, ok := m.States[name]
	if !ok {
		t.Fatalf("no state %q", name)
	}
	return s.Retry
}

// matching returns the retrier that handles the error name: the first whose
// ErrorEquals names it or States.ALL, as Step Functions picks it.
func matching(rs []retrier, name string) (retrier, bool) {
	for _, r := range rs {
		if slices.Contains(r.ErrorEquals, name) || slices.Contains(r.ErrorEquals, "States.ALL") {
			return r, true
		}
	}
	return retrier{}, false
}

// maxBackoff is the longest a retrier waits in all, before FULL jitter draws
// each wait between 0 and this bound.
func (r retrier) maxBackoff() float64 {
	total, d := 0.0, float64(r.IntervalSeconds)
	for range r.MaxAttempts {
		wait := d
		if r.MaxDelaySeconds > 0 && wait > float64(r.MaxDelaySeconds) {
			wait = float64(r.MaxDelaySeconds)
		}
		total += wait
		d *= r.BackoffRate
	}
	return total
}

// TestLambdaTaskRetries: the check, alert and failure-recording tasks ride
// out Lambda's own failures and throttling instead of failing the monitor
// (Catch → RecordFailure → Fail). Lambda service errors get the retrier
// CDK's LambdaInvoke adds (2 s, 6 attempts, rate 2); throttling, which lasts
// as long as the account's concurrency is used up, gets its own, longer
// budget, so that it neither fails monitors at once nor uses up the retries
// of real errors. All three wait up to an hour in all (full jitter: about
// half that on average), so that sustained throttling makes checks late
// and delays alerts and failure records instead of failing or dropping
// them; a check's retries count towards the generation's history budget
// (TestAlertRetriesKeepHistoryBudget). Every retrier of a Lambda task
// draws its waits with FULL jitter, so that monitors throttled together do
// not come back together.
func TestLambdaTaskRetries(t *testing.T) {
	service := retrier{IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: "FULL"}
	throttled := retrier{IntervalSeconds: 2, MaxAttempts: 18, BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: "FULL"}
	for _, state := range []string{"Check", "Alert", "RecordFailure"} {
		t.Run(state, func(t *testing.T) {
			want := map[string]retrier{
				"Lambda.ServiceException":                service,
				"Lambda.AWSLambdaException":              service,
				"Lambda.SdkClientException":              service,
				"Lambda.ClientExecutionTimeoutException": service,
				"Lambda.TooManyRequestsException":        throttled,
			}
			rs := retriers(t, state)
			for name, w := range want {
				got, ok := matching(rs, name)
				if !ok {
					t.Errorf("%s is not retried", name)
					continue
				}
				got.ErrorEquals = nil
				if state == "RecordFailure" && name != "Lambda.TooManyRequestsException" {
					// Its States.ALL retrier handles the rest.
					continue
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%s: retrier %+v, want %+v", name, got, w)
				}
			}
			for _, r := range rs {
				if r.JitterStrategy != "FULL" {
					t.Errorf("retrier %v: JitterStrategy = %q, want FULL", r.ErrorEquals, r.JitterStrategy)
				}
			}
		})
	}
}

// lambdaNotReady are the errors of Lambda's Invoke that say the function
// cannot run yet but will: an idle function made inactive, whose first
// invocation fails while Lambda makes it active again (in a VPC, recreating
// its network interfaces), and EC2's throttling or failures while it does.
var lambdaNotReady = []string{
	"Lambda.ResourceNotReadyException",
	"Lambda.ENINotReadyException",
	"Lambda.EC2ThrottledException",
	"Lambda.EC2UnexpectedException",
	"Lambda.ENILimitReachedException",
	"Lambda.SubnetIPAddressLimitReachedException",
}

// minNotReadyBackoff is the least a retrier of lambdaNotReady waits in
// all before jitter (about half of it on average): a function's way from
// Pending back to Active takes up to a few minutes.
const minNotReadyBackoff = 480

// TestLambdaNotReadyRetries: the check, alert and failure-recording tasks
// wait for a function that Lambda is making active again, instead of
// failing the monitor (an alert function idle for weeks is the one that
// becomes inactive), each on a retrier of its own that waits minutes, not
// the seconds of RecordFailure's States.ALL.
func TestLambdaNotReadyRetries(t *testing.T) {
	for _, state := range []string{"Check", "Alert", "RecordFailure"} {
		t.Run(state, func(t *testing.T) {
			for _, name := range lambdaNotReady {
				r, ok := matching(retriers(t, state), name)
				if !ok || !slices.Contains(r.ErrorEquals, name) {
					t.Errorf("%s is not retried by a retrier that names it (matched by %v)", name, r.ErrorEquals)
					continue
				}
				if got := r.maxBackoff(); got < minNotReadyBackoff {
					t.Errorf("%s: retries wait up to %v s in all, want at least %v s", name, got, minNotReadyBackoff)
				}
				if r.JitterStrategy != "FULL" {
					t.Errorf("%s: JitterStrategy = %q, want FULL", name, r.JitterStrategy)
				}
			}
		})
	}
}

// TestThrottleRetryBudget: every retrier of Lambda throttling, in every
// state, waits at most monitor.MaxThrottleRetrySeconds in all before jitter
// (the figure docs/deploy.md, docs/checks-and-alerts.md and the
// sustained-throttling alarm give), and uses that budget: one more attempt
// would pass it.
func TestThrottleRetryBudget(t *testing.T) {
	var m struct {
		States map[string]struct {
			Retry []retrier `json:"Retry"`
		} `json:"States"`
	}
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	const budget = monitor.MaxThrottleRetrySeconds
	found := 0
	for name, s := range m.States {
		for _, r := range s.Retry {
			if !slices.Contains(r.ErrorEquals, "Lambda.TooManyRequestsException") {
				continue
			}
			found++
			if got := r.maxBackoff(); got > budget {
				t.Errorf("%s: throttling's retries wait up to %v s in all, want at most %v s", name, got, budget)
			}
			more := r
			more.MaxAttempts++
			if got := more.maxBackoff(); got <= budget {
				t.Errorf("%s: %d attempts wait up to %v s in all, still within %v s: the budget is not used", name, more.MaxAttempts, got, budget)
			}
		}
	}
	if found == 0 {
		t.Fatal("no retrier handles Lambda.TooManyRequestsException")
	}
}

// minStoreOutageBackoff is the least the check's and the failure
// record's retries of a TransientError wait in all before jitter (about
// half of it on average). The functions return one when the table (or
// another service they need) does not answer: a check that came due
// during a store outage of a few minutes, or tens of them, must wait it
// out, not fail its monitor after a minute, and RecordFailure, which
// needs the table too, must not give up sooner.
const minStoreOutageBackoff = 30 * 60

// TestStoreOutageRetries: the Check and RecordFailure states retry a
// TransientError on a retrier of its own that waits at least
// minStoreOutageBackoff in all and at most monitor.MaxThrottleRetrySeconds
// (as throttling does), with full jitter, so that the monitors a store
// outage held back do not all come back in the same second.
func TestStoreOutageRetries(t *testing.T) {
	for _, state := range []string{"Check", "RecordFailure"} {
		r, ok := matching(retriers(t, state), "TransientError")
		switch {
		case !ok || !slices.Equal(r.ErrorEquals, []string{"TransientError"}):
			t.Errorf("%s: TransientError is not retried by a retrier of its own (matched by %v)", state, r.ErrorEquals)
		case r.maxBackoff() < minStoreOutageBackoff || r.maxBackoff() > monitor.MaxThrottleRetrySeconds:
			t.Errorf("%s: TransientError's retries wait up to %v s in all, want %v to %v s", state, r.maxBackoff(), minStoreOutageBackoff, monitor.MaxThrottleRetrySeconds)
		case r.JitterStrategy != "FULL":
			t.Errorf("%s: JitterStrategy = %q, want FULL", state, r.JitterStrategy)
		}
	}
}

// TestStoreOutageRetryTimeDocumented: the time the pages for users and
// operators give a failing status write before its monitor fails (a full
// disk locally, a DynamoDB outage on AWS) is the Check state's
// TransientError retrier's, in whole minutes, and none gives another.
func TestStoreOutageRetryTimeDocumented(t *testing.T) {
	r, _ := matching(retriers(t, "Check"), "TransientError")
	want := fmt.Sprintf("about %d minutes", int(r.maxBackoff()/60))
	stale := regexp.MustCompile(`(about|a minute or) two minutes`)
	for _, f := range []string{"README.md", "docs/local.md", "docs/dashboard.md", "docs/checks-and-alerts.md",
		"docs/operations.md", "internal/dashboard/static/app.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not say the check's status write is retried for %s", f, want)
		}
		if m := stale.Find(b); m != nil && strings.Contains(string(b), "status write") {
			t.Errorf("%s says %q beside the status write's retries; the definition retries for %s", f, m, want)
		}
	}
}

// TestAlertRetriesKeepHistoryBudget: the check's, the alert's and the
// failure record's long throttling budgets still end an execution far
// below Step Functions' 25,000 history events. The worst case: a generation just short of its
// budget (monitor.GenerationEventBudget), a last check retried all its
// retriers allow that meets the condition, an alert run 1 +
// monitor.AlertTransientRetries times (the retries by its Wait), each
// retried as often as its retriers allow, the last failing, and
// RecordFailure retried all its own.
func TestAlertRetriesKeepHistoryBudget(t *testing.T) {
	retries := func(state string) int {
		n := 0
		for _, r := range retriers(t, state) {
			n += r.MaxAttempts
		}
		return n
	}
	const task = 5   // TaskStateEntered, TaskScheduled, TaskStarted, the outcome, TaskStateExited
	const choice = 2 // ChoiceStateEntered, ChoiceStateExited
	const wait = 2   // WaitStateEntered, WaitStateExited
	runs := 1 + monitor.AlertTransientRetries
	events := 1 + // ExecutionStarted
		monitor.GenerationEventBudget - 1 + // the generation's checks, just short of the budget
		task + monitor.EventsPerRetry*retries("Check") + // the last check
		choice + // Evaluate
		runs*(task+monitor.EventsPerRetry*retries("Alert")) +
		(runs-1)*(choice+wait) + // AlertOutcome and AlertRetryWait between the runs
		task + monitor.EventsPerRetry*retries("RecordFailure") +
		2 // Failed, ExecutionFailed
	if limit := monitor.GenerationEventBudget + 1500; events > limit {
		t.Errorf("an execution whose alert and failure record use all their retries has about %d history events, want at most %d (far below 25,000)", events, limit)
	}
	t.Logf("at most about %d history events", events)
}

// TestContinueAsNewRetries: the rollover's StartExecution draws on the
// account's StartExecution rate, which every state machine of the account
// shares, and a monitor may run for a year; a throttled rollover waits up
// to about 4 minutes in all (full jitter waits a random part of each
// interval) before the monitor fails: its retrier catches every failure
// of the start, and a lasting one (a permission) should not wait an hour
// to show. Retrying is safe: the name and the
// input of the new execution are the same on every attempt (see
// TestContinueAsNewIsDeterministic), so a retry of a start that went
// through is the same request, which Step Functions answers with the
// running execution.
func TestContinueAsNewRetries(t *testing.T) {
	rs := retriers(t, "ContinueAsNew")
	want := retrier{ErrorEquals: []string{"States.TaskFailed"}, IntervalSeconds: 2, MaxAttempts: 8, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: "FULL"}
	if len(rs) != 1 || !reflect.DeepEqual(rs[0], want) {
		t.Fatalf("ContinueAsNew Retry = %+v, want [%+v]", rs, want)
	}
	if got := rs[0].maxBackoff(); got < 240 {
		t.Errorf("ContinueAsNew's retries wait at most %v s in all, want up to 4 minutes or more", got)
	}
}

// TestContinueAsNewIsDeterministic: every value of the StartExecution
// request comes from the state's input, the execution's id or the state
// machine's id, never from something that changes between attempts (the
// time, a retry count, a UUID).
func TestContinueAsNewIsDeterministic(t *testing.T) {
	var m struct {
		States map[string]struct {
			Parameters map[string]any `json:"Parameters"`
		} `json:"States"`
	}
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	allowed := regexp.MustCompile(`^(\$\.[A-Za-z.]+|\$\$\.Execution\.Id|\$\$\.StateMachine\.Id|States\.Format\('[^']*'(, \$\.[A-Za-z.]+)*\))$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && strings.HasSuffix(k, ".$") {
					if !allowed.MatchString(s) {
						t.Errorf("%s.%s = %q: not the state input, the execution or the state machine", path, k, s)
					}
					continue
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		}
	}
	params := m.States["ContinueAsNew"].Parameters
	if params == nil {
		t.Fatal("ContinueAsNew has no Parameters")
	}
	walk("Parameters", params)
}

// payload is the Payload of the Parameters of state in the definition.
func payload(t *testing.T, state string) map[string]any {
	t.Helper()
	var m struct {
		States map[string]struct {
			Parameters struct {
				Payload map[string]any `json:"Payload"`
			} `json:"Parameters"`
		} `json:"States"`
	}
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	return m.States[state].Parameters.Payload
}

// TestCheckPassesRetryCount: the check task tells the function how often
// it was retried, since retries add history events that the rollover
// decision counts (monitor.GenerationEventBudget), and when its execution
// started, whose age the rollover bounds (monitor.MaxGenerationAge).
func TestCheckPassesRetryCount(t *testing.T) {
	for field, want := range map[string]string{"retryCount.$": "$$.State.RetryCount", "executionStartTime.$": "$$.Execution.StartTime"} {
		if got := payload(t, "Check")[field]; got != want {
			t.Errorf(`Check Payload %q = %v, want %q`, field, got, want)
		}
	}
	// The rollover's check names the next execution: ContinueAsNew takes
	// the name from it.
	var c struct {
		States map[string]struct {
			Parameters map[string]any `json:"Parameters"`
		} `json:"States"`
	}
	if err := json.Unmarshal([]byte(Definition), &c); err != nil {
		t.Fatal(err)
	}
	if got := c.States["ContinueAsNew"].Parameters["Name.$"]; got != "$.check.nextExecutionName" {
		t.Errorf(`ContinueAsNew "Name.$" = %v, want "$.check.nextExecutionName"`, got)
	}
}

// TestAlertRetryBudgetMatchesTheAlertTask: a definition from before the
// alert's retries by a Wait retried a caller's failing webhook with the
// Alert state's Retry for TransientError, and the alert task, for
// executions still running such a definition, ends the monitor Failed on
// the run that finds monitor.AlertTransientRetries runs' claims before
// its own; the current definition keeps that Retry, for the deployment's
// transient failures, with the same number of retries, so that both
// kinds of failure are retried alike. The task is not passed
// $$.State.RetryCount, which counts throttling retries too.
func TestAlertRetryBudgetMatchesTheAlertTask(t *testing.T) {
	if got, ok := payload(t, "Alert")["retryCount.$"]; ok {
		t.Errorf(`Alert Payload "retryCount.$" = %v, want none`, got)
	}
	r, ok := matching(retriers(t, "Alert"), "TransientError")
	if !ok {
		t.Fatal("Alert does not retry TransientError")
	}
	if r.MaxAttempts != monitor.AlertTransientRetries {
		t.Errorf("Alert retries TransientError %d times, monitor.AlertTransientRetries = %d", r.MaxAttempts, monitor.AlertTransientRetries)
	}
}

// TestAlertRetriesByWait: the alert task is told that the state machine
// retries a caller's failing destination by a Wait (retryByWait), and the
// definition does: after Alert, a Choice goes to a Wait that reads
// State.AlertRetry's waitSeconds and back to Alert when the task set it,
// to Finish otherwise.
func TestAlertRetriesByWait(t *testing.T) {
	if got := payload(t, "Alert")["retryByWait"]; got != true {
		t.Errorf(`Alert Payload "retryByWait" = %v, want true`, got)
	}
	var m struct {
		States map[string]struct {
			Type        string
			Next        string
			Default     string
			SecondsPath string
			Choices     []struct {
				Variable  string
				IsPresent *bool
				Next      string
			}
		}
	}
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatal(err)
	}
	alert, outcome, wait := m.States["Alert"], m.States["AlertOutcome"], m.States["AlertRetryWait"]
	if alert.Next != "AlertOutcome" {
		t.Errorf("Alert's Next = %q, want AlertOutcome", alert.Next)
	}
	if outcome.Type != "Choice" || outcome.Default != "Finish" || len(outcome.Choices) != 1 ||
		outcome.Choices[0].Variable != "$.alertRetry" || outcome.Choices[0].IsPresent == nil || !*outcome.Choices[0].IsPresent ||
		outcome.Choices[0].Next != "AlertRetryWait" {
		t.Errorf("AlertOutcome = %+v, want a Choice of AlertRetryWait when $.alertRetry is present, Finish otherwise", outcome)
	}
	if wait.Type != "Wait" || wait.SecondsPath != "$.alertRetry.waitSeconds" || wait.Next != "Alert" {
		t.Errorf("AlertRetryWait = %+v, want a Wait of $.alertRetry.waitSeconds back to Alert", wait)
	}
	// The task's answer names them as the definition reads them.
	b, err := json.Marshal(monitor.State{AlertRetry: &monitor.AlertRetry{Retries: 1, WaitSeconds: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"alertRetry":{"retries":1,"waitSeconds":7}`) {
		t.Errorf("a state with an AlertRetry encodes as %s", b)
	}
}
