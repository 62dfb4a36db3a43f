package lambdas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/internal/testtool"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

// rieTool is the Lambda Runtime Interface Emulator's command, the tool of
// the module in rieModule, built by the test.
const rieTool = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// rieModule is the directory, under lambdas/, of the module that pins the
// emulator: a module of its own, so that stepmon's go.mod holds neither
// the emulator's requirements nor the newer Go it needs.
const rieModule = "testdata/rie"

// The four bootstraps, built as make lambdas builds them (for this
// machine), run under AWS's Runtime Interface Emulator, which serves them
// the Lambda Runtime API as Lambda does, with the environment the stack
// gives each (infra/functions.go), against moto_server. Each is invoked
// as API Gateway and Step Functions invoke it; the function errors it
// reports through the runtime carry the errorType that
// internal/lambdainvoke reports in-process for the same failure, and that
// the state machine's Retry and Catch match.
func TestBootstrapsUnderRuntimeEmulator(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs the functions on Linux only, not on %s", runtime.GOOS)
	}
	begin := time.Now()
	root := testtool.Root(t)
	dir := t.TempDir()
	rie := buildRIE(t, root, dir)
	boots := buildBootstraps(t, root, dir)
	t.Logf("built the emulator and the four bootstraps in %v", time.Since(begin).Round(time.Millisecond))

	db := lambdatest.NewDynamoDB(t)
	fx := newFixture(t, db)

	// The stack's default deployment refuses loopback targets; one deployed
	// with -c allowPrivateTargets=true accepts them.
	deployed := func(name string, allowPrivate bool) *function {
		return newFunction(t, rie, boots[name], fx.env(t, name, allowPrivate))
	}
	start, startPrivate := deployed("start", false), deployed("start", true)
	check, checkPrivate := deployed("check", false), deployed("check", true)
	alert, status := deployed("alert", false), deployed("status", false)

	target := fx.jobs.URL + "/jobs/42"
	startBody := func(id string) string {
		return `{"instanceId":"` + id + `","target":{"type":"http","url":"` + target + `","doneValues":["Completed"]},` +
			`"pollingIntervalSeconds":30,"timeoutSeconds":3600,"alert":{"topicArn":"` + fx.topicArn + `"}}`
	}

	t.Run("start refuses a loopback target", func(t *testing.T) {
		resp := apiRequest(t, start, http.MethodPost, "/monitors", "", startBody("job-refused"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "target.url") {
			t.Fatalf("POST /monitors: %d %s, want 400 naming target.url", resp.StatusCode, resp.Body)
		}
	})

	// Monitors of the job, through the deployment that allows it: one to
	// check there, one to check on the default deployment, one whose
	// alert fails.
	executions := map[string]*sfn.DescribeExecutionOutput{}
	t.Run("start", func(t *testing.T) {
		for _, id := range []string{"job-42", "job-42-refused", "job-42-unsent"} {
			resp := apiRequest(t, startPrivate, http.MethodPost, "/monitors", "", startBody(id))
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("POST /monitors: %d %s, want 202", resp.StatusCode, resp.Body)
			}
			e := fx.execution(t, id)
			if e.Status != "RUNNING" {
				t.Errorf("execution %s is %s, want RUNNING", aws.ToString(e.ExecutionArn), e.Status)
			}
			executions[id] = e
		}
	})
	if len(executions) != 3 {
		t.FailNow()
	}

	t.Run("status of a started monitor", func(t *testing.T) {
		resp := apiRequest(t, status, http.MethodGet, "/monitors/{id}", "job-42", "")
		var rec monitor.Record
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(resp.Body), &rec) != nil ||
			rec.RuntimeStatus != monitor.RuntimePending || rec.ExecutionArn != aws.ToString(executions["job-42"].ExecutionArn) {
			t.Fatalf("GET /monitors/job-42: %d %s, want 202 with the Pending record and its execution", resp.StatusCode, resp.Body)
		}
	})

	// What the state machine's Check state passes: the execution's input
	// as the state, and the context object's fields.
	checkInput := func(id string) []byte {
		e := executions[id]
		return mustJSON(t, map[string]any{"state": json.RawMessage(aws.ToString(e.Input)), "executionArn": aws.ToString(e.ExecutionArn),
			"retryCount": 0, "executionStartTime": e.StartDate.UTC().Format(time.RFC3339Nano)})
	}

	t.Run("check refused", func(t *testing.T) {
		before := fx.jobRequests()
		var s monitor.State
		invokeOK(t, check, checkInput("job-42-refused"), &s)
		out := s.Check.Output
		if !s.Check.Done || out == nil || out.FinalStatus != monitor.StatusFailed ||
			!strings.Contains(out.Detail, "refused 127.0.0.1: loopback address") ||
			!strings.Contains(out.Detail, "this deployment does not allow private targets") {
			t.Fatalf("check of a loopback target on the default deployment: %+v, want the monitor Failed with the egress guard's refusal", s.Check)
		}
		if n := fx.jobRequests() - before; n != 0 {
			t.Errorf("the target got %d requests, want none", n)
		}
	})

	// A check due 90 s ago: the function writes how late it came as an
	// embedded-metric line of its log, before it checks.
	t.Run("check lateness metric", func(t *testing.T) {
		var in map[string]any
		if err := json.Unmarshal(checkInput("job-42-refused"), &in); err != nil {
			t.Fatal(err)
		}
		in["state"].(map[string]any)["check"] = map[string]any{"nextCheckAt": monitor.FormatTimestamp(time.Now().Add(-90 * time.Second))}
		check.invoke(t, mustJSON(t, in))
		var line map[string]any
		// The function's output reaches the buffer through a pipe.
		for deadline := time.Now().Add(5 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, l := range strings.Split(check.output.String(), "\n") {
				if i := strings.Index(l, `{"CheckLateness":`); i >= 0 && json.Unmarshal([]byte(l[i:]), &line) == nil {
					break
				}
			}
		}
		late, _ := line["CheckLateness"].(float64)
		if late < 85_000 || late > 120_000 || !strings.Contains(fmt.Sprint(line["_aws"]), "Stepmon/test") {
			t.Errorf("metric line %v, want CheckLateness of about 90,000 ms in Stepmon/test", line)
		}
	})

	var checked monitor.State
	t.Run("check", func(t *testing.T) {
		before := fx.jobRequests()
		var s monitor.State
		raw := invokeOK(t, checkPrivate, checkInput("job-42"), &s)
		if !s.Check.ConditionMet || s.Check.Status != monitor.StatusCompleted || s.Check.CheckCount != 1 {
			t.Fatalf("check of a completed job with an alert: %s, want conditionMet and status Completed after one check", raw)
		}
		if n := fx.jobRequests() - before; n != 1 {
			t.Errorf("the target got %d requests, want 1", n)
		}
		checked = s
	})

	t.Run("alert", func(t *testing.T) {
		if checked.InstanceID == "" {
			t.Fatal("no checked state to alert on: the check subtest failed")
		}
		var s monitor.State
		invokeOK(t, alert, mustJSON(t, map[string]any{"state": checked, "executionArn": aws.ToString(executions["job-42"].ExecutionArn)}), &s)
		if out := s.Check.Output; out == nil || out.FinalStatus != monitor.StatusCompleted || out.AlertStatus != string(monitor.AlertSent) {
			t.Errorf("alert: %+v, want the monitor finished Completed with its alert sent", s.Check)
		}
		got := fx.notifications.List()
		if len(got) != 1 || !strings.Contains(fmt.Sprint(got[0]["Message"]), "job-42") {
			t.Fatalf("notifications of topic %s: %v, want one about job-42", fx.topicArn, got)
		}
	})

	t.Run("status", func(t *testing.T) {
		resp := apiRequest(t, status, http.MethodGet, "/monitors/{id}", "job-42", "")
		var rec monitor.Record
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &rec) != nil ||
			rec.InstanceID != "job-42" || rec.RuntimeStatus != monitor.RuntimeCompleted || rec.Output == nil {
			t.Fatalf("GET /monitors/job-42: %d %s, want 200 with the Completed record", resp.StatusCode, resp.Body)
		}
	})

	t.Run("function errors", func(t *testing.T) {
		testFunctionErrors(t, fx, rie, boots, map[string]*function{"check": check, "alert": alert, "status": status},
			checkInput("job-42"), executions["job-42-unsent"])
	})

	// A setting the function cannot read stops it at start-up
	// (lambdaenv.Main): the runtime reports the process's exit.
	t.Run("start-up failure", func(t *testing.T) {
		env := fx.env(t, "check", false)
		env["ALLOW_PRIVATE_TARGETS"] = "perhaps"
		f := newFunction(t, rie, boots["check"], env)
		f.label += " (ALLOW_PRIVATE_TARGETS=perhaps)"
		status, body := f.invoke(t, []byte(`{"state":{}}`))
		if status != http.StatusBadGateway {
			t.Errorf("invoke: %d %s, want 502, the emulator's answer when the runtime exits at init", status, body)
		}
		// The emulator may answer before the function's output has
		// passed through it: the record is waited for.
		logged := func() bool {
			for line := range strings.Lines(f.output.String()) {
				var rec struct{ Level, Msg, Err string }
				if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "ERROR" && rec.Msg == "check: start-up failed" &&
					strings.Contains(rec.Err, "ALLOW_PRIVATE_TARGETS") {
					return true
				}
			}
			return false
		}
		for deadline := time.Now().Add(10 * time.Second); !logged() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if !logged() {
			t.Errorf("output:\n%s\nwant the function's ERROR record \"check: start-up failed\" naming ALLOW_PRIVATE_TARGETS", f.output.String())
		}
	})

}

// testFunctionErrors fails functions through the runtime and compares
// what the runtime reports with what lambdainvoke reports for the same
// failure in-process, and with the state machine's Retry and Catch; the
// alert's failure is then recorded as RecordFailure records it, through
// the status function. validCheck is a check's payload; unsent is the
// execution of a monitor whose alert fails.
func testFunctionErrors(t *testing.T, fx *fixture, rie string, boots map[string]string, fns map[string]*function, validCheck []byte, unsent *sfn.DescribeExecutionOutput) {
	machine := fx.machine(t)
	// The check function of a deployment whose DynamoDB does not answer:
	// the check's store calls fail as when the table is unreachable.
	closed := closedEndpoint(t)
	env := fx.env(t, "check", false)
	env["AWS_ENDPOINT_URL"] = closed
	unreachable := newFunction(t, rie, boots["check"], env)
	unreachable.label += " (DynamoDB unreachable)"

	inProcess := lambdainvoke.NewRegistry()
	t.Cleanup(func() { inProcess.Close(context.Background(), time.Second) })
	topics, err := monitor.NewTopicAllowList(fx.topicArn)
	if err != nil {
		t.Fatal(err)
	}
	// The check and alert tasks as the functions build them, over the
	// same table and topic (or the same closed port), in-process.
	register := func(name string, endpoint string, handler func(*monitor.Tasks) any) {
		c := motoserver.Config(endpoint)
		inProcess.Register(name, handler(&monitor.Tasks{
			Store:       dynamostore.New(dynamodb.NewFromConfig(c), lambdatest.TableName),
			Senders:     map[string]monitor.Sender{monitor.ChannelSNS: alerts.NewSNS(sns.NewFromConfig(c), alerts.SNSOptions{})},
			Clock:       monitor.SystemClock,
			AlertTopics: topics,
		}))
	}
	register("check", fx.endpoint, func(tasks *monitor.Tasks) any { return tasks.Check })
	register("check-unreachable", closed, func(tasks *monitor.Tasks) any { return tasks.Check })
	register("alert", fx.endpoint, func(tasks *monitor.Tasks) any { return tasks.Alert })

	// A monitor whose topic the deployment no longer allows when its
	// alert is due (its operator took it off alertTopicArns).
	var unsentState monitor.State
	if err := json.Unmarshal([]byte(aws.ToString(unsent.Input)), &unsentState); err != nil {
		t.Fatal(err)
	}
	unsentState.Spec.Alert = &monitor.Alert{TopicArn: "arn:aws:sns:" + motoserver.Region + ":" + motoserver.AccountID + ":elsewhere"}
	unsentState.Check = monitor.CheckResult{CheckCount: 1, Status: monitor.StatusCompleted, ConditionMet: true}

	for _, tc := range []struct {
		name      string
		fn        *function
		inProcess string // the function's name in inProcess
		state     string // the state that invokes it
		payload   []byte
		want      string // errorType
		retried   bool   // by a Retry that names want
	}{
		{"state without an instance id", fns["check"], "check", "Check", []byte(`{"state":{}}`), "PermanentError", false},
		{"payload that is not a task", fns["check"], "check", "Check", []byte(`["not","a","task"]`), "UnmarshalTypeError", false},
		{"table unreachable", unreachable, "check-unreachable", "Check", validCheck, "TransientError", true},
		{"topic not allowed", fns["alert"], "alert", "Alert",
			mustJSON(t, map[string]any{"state": unsentState, "executionArn": aws.ToString(unsent.ExecutionArn)}), "PermanentError", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.fn.invoke(t, tc.payload)
			var got struct {
				ErrorType    string `json:"errorType"`
				ErrorMessage string `json:"errorMessage"`
			}
			if err := json.Unmarshal(body, &got); err != nil || got.ErrorType == "" {
				t.Fatalf("%s through the runtime: %d %s, want a function error", tc.fn.label, status, body)
			}
			_, err := inProcess.Invoke(t.Context(), tc.inProcess, tc.payload)
			var fe *lambdainvoke.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("in-process: err = %v, want a *lambdainvoke.FunctionError", err)
			}
			if got.ErrorType != fe.ErrorType || got.ErrorType != tc.want {
				t.Errorf("errorType through the runtime %q, in-process %q, want both %q", got.ErrorType, fe.ErrorType, tc.want)
			}
			// A transient failure's message names the endpoint and the
			// request, which differ.
			if tc.want != "TransientError" && got.ErrorMessage != fe.ErrorMessage {
				t.Errorf("errorMessage through the runtime %q, in-process %q, want them equal", got.ErrorMessage, fe.ErrorMessage)
			}

			task, ok := machine.States[tc.state].(*asl.TaskState)
			if !ok {
				t.Fatalf("statemachine.asl.json has no Task state %s", tc.state)
			}
			var retrier *asl.Retrier
			for _, r := range task.Retry {
				if r.Matches(got.ErrorType) {
					retrier = r
					break
				}
			}
			switch {
			case tc.retried && (retrier == nil || !slices.Contains(retrier.ErrorEquals, got.ErrorType)):
				t.Errorf("%s's Retry does not name %s", tc.state, got.ErrorType)
			case !tc.retried && retrier != nil:
				t.Errorf("%s retries %s (%v), want it caught at once", tc.state, got.ErrorType, retrier.ErrorEquals)
			}
			if len(task.Catch) == 0 || !task.Catch[0].Matches(got.ErrorType) || task.Catch[0].Next != "RecordFailure" {
				t.Fatalf("%s's first Catch does not send %s to RecordFailure", tc.state, got.ErrorType)
			}
			if tc.fn != fns["alert"] {
				return
			}
			// RecordFailure's payload: the caught error as Step Functions
			// puts it at $.error, the answer's body as its Cause.
			var rec apigw.RecordResult
			invokeOK(t, fns["status"], mustJSON(t, map[string]any{"action": apigw.ActionRecordFailure,
				"instanceId": unsentState.InstanceID, "startedAt": unsentState.StartedAt, "executionArn": aws.ToString(unsent.ExecutionArn),
				"error": map[string]string{"Error": got.ErrorType, "Cause": string(body)}}), &rec)
			resp := apiRequest(t, fns["status"], http.MethodGet, "/monitors/{id}", unsentState.InstanceID, "")
			var record monitor.Record
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &record) != nil ||
				record.RuntimeStatus != monitor.RuntimeFailed || record.Output == nil || !strings.Contains(record.Output.Detail, tc.want) {
				t.Errorf("GET /monitors/%s after RecordFailure: %d %s, want 200, Failed, naming %s", unsentState.InstanceID, resp.StatusCode, resp.Body, tc.want)
			}
		})
	}
}

// fixture holds what the functions find on moto_server and the servers
// they reach.
type fixture struct {
	endpoint      string
	cfg           aws.Config
	store         *dynamostore.Store
	smArn         string
	definition    string
	topicArn      string
	notifications *motoserver.Notifications
	jobs          *httptest.Server
	jobMu         sync.Mutex
	jobCount      int
}

// newFixture creates on moto what the stack creates besides the table:
// the state machine, with the definition the stack deploys, and the
// alert topic, with an HTTP subscription that collects its messages; and
// starts a job API on loopback whose job 42 has completed.
func newFixture(t *testing.T, db *lambdatest.DynamoDB) *fixture {
	t.Helper()
	ctx := t.Context()
	cfg := motoserver.Config(db.Endpoint)
	fx := &fixture{endpoint: db.Endpoint, cfg: cfg, store: db.Store()}
	fnArn := func(name string) string {
		return "arn:aws:lambda:" + motoserver.Region + ":" + motoserver.AccountID + ":function:stepmon-" + name
	}
	fx.definition = stepmon.Substitute(stepmon.Definition, map[string]string{
		stepmon.CheckFunctionPlaceholder:  fnArn("check"),
		stepmon.AlertFunctionPlaceholder:  fnArn("alert"),
		stepmon.StatusFunctionPlaceholder: fnArn("status"),
	})
	sm, err := sfn.NewFromConfig(cfg).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("stepmon-monitor"),
		Definition: aws.String(fx.definition),
		RoleArn:    aws.String("arn:aws:iam::" + motoserver.AccountID + ":role/stepmon-states"),
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.smArn = aws.ToString(sm.StateMachineArn)

	fx.topicArn, fx.notifications = motoserver.SubscribedTopic(t, sns.NewFromConfig(cfg), "stepmon-alerts")

	fx.jobs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fx.jobMu.Lock()
		fx.jobCount++
		fx.jobMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"42","status":"Completed"}`)
	}))
	t.Cleanup(fx.jobs.Close)
	return fx
}

// jobRequests is how many requests the job API has had.
func (fx *fixture) jobRequests() int {
	fx.jobMu.Lock()
	defer fx.jobMu.Unlock()
	return fx.jobCount
}

// machine is the state machine's definition as deployed.
func (fx *fixture) machine(t *testing.T) *asl.Machine {
	t.Helper()
	m, err := asl.Parse([]byte(fx.definition))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// execution returns the execution that the start of the monitor id
// started on moto: the one its record names.
func (fx *fixture) execution(t *testing.T, id string) *sfn.DescribeExecutionOutput {
	t.Helper()
	rec, err := fx.store.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("the record of %s: %v", id, err)
	}
	out, err := sfn.NewFromConfig(fx.cfg).DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(rec.ExecutionArn)})
	if err != nil {
		t.Fatalf("the execution of %s, %q: %v", id, rec.ExecutionArn, err)
	}
	return out
}

// env is the environment of the function name: what infra/functions.go
// gives it in the stack's default deployment (or, with allowPrivate, one
// deployed with -c allowPrivateTargets=true), its values those of the
// resources on moto, and what Lambda adds: the function's name, timeout
// and memory, the region and the role's credentials (moto's), with
// AWS_ENDPOINT_URL pointing the SDK at moto.
func (fx *fixture) env(t *testing.T, name string, allowPrivate bool) map[string]string {
	t.Helper()
	private := strconv.FormatBool(allowPrivate)
	values := testtool.InfraValues(t)
	fnEnv := map[string]map[string]string{
		"start": {"TABLE_NAME": lambdatest.TableName, "STATE_MACHINE_ARN": fx.smArn, "ALERT_TOPIC_ARN": fx.topicArn,
			"ALLOW_PRIVATE_TARGETS": private, "SMS_CHANNELS": "none"},
		"check":  {"TABLE_NAME": lambdatest.TableName, "ALLOW_PRIVATE_TARGETS": private, "METRICS_NAMESPACE": "Stepmon/test"},
		"alert":  {"TABLE_NAME": lambdatest.TableName, "ALERT_TOPIC_ARN": fx.topicArn, "ALLOW_PRIVATE_TARGETS": private},
		"status": {"TABLE_NAME": lambdatest.TableName, "STATE_MACHINE_ARN": fx.smArn, "LIST_INDEX": stringValue(t, values, "IndexName")},
	}[name]
	if want, got := infraEnvNames(t)[name], slices.Sorted(maps.Keys(fnEnv)); !slices.Equal(got, want) {
		t.Fatalf("the test gives the %s function %q, infra/functions.go %q", name, got, want)
	}
	env := maps.Clone(fnEnv)
	maps.Copy(env, map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "stepmon-" + name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     intValue(t, values, strings.ToUpper(name[:1])+name[1:]+"TimeoutSeconds"),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      motoserver.Region,
		"AWS_DEFAULT_REGION":              motoserver.Region,
		"AWS_ACCESS_KEY_ID":               "test",
		"AWS_SECRET_ACCESS_KEY":           "test",
		"AWS_SESSION_TOKEN":               "test",
		"AWS_ENDPOINT_URL":                fx.endpoint,
		"AWS_EC2_METADATA_DISABLED":       "true",
	})
	return env
}

// infraEnvNames reads infra/functions.go's functionEnvironments: the names
// of the environment variables each function has in the default
// deployment (envNamesOf).
func infraEnvNames(t *testing.T) map[string][]string {
	t.Helper()
	return envNamesOf(t, filepath.Join(testtool.Root(t), "infra", "functions.go"), nil)
}

// envNamesOf reads functionEnvironments in the Go source src (the file
// path when src is nil): the names its maps are declared with, the ones
// an assignment to a map's key adds, the ones maps.Copy adds and the
// ones env() adds to all; names set under an if depend on an option that
// the default deployment does not set.
func envNamesOf(t *testing.T, path string, src any) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var body *ast.BlockStmt
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "functionEnvironments" {
			body = fd.Body
		}
	}
	if body == nil {
		t.Fatalf("%s: no functionEnvironments", path)
	}
	keys := func(cl *ast.CompositeLit) []string {
		var out []string
		for _, e := range cl.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
		return out
	}
	vars := map[string][]string{} // the names each map variable holds
	var all []string
	out := map[string][]string{}
	for _, st := range body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if len(st.Lhs) != 1 || len(st.Rhs) != 1 {
				continue
			}
			if ix, ok := st.Lhs[0].(*ast.IndexExpr); ok { // m["NAME"] = v
				m, ok1 := ix.X.(*ast.Ident)
				lit, ok2 := ix.Index.(*ast.BasicLit)
				if ok1 && ok2 && lit.Kind == token.STRING {
					name, _ := strconv.Unquote(lit.Value)
					vars[m.Name] = append(vars[m.Name], name)
				}
				continue
			}
			id, ok := st.Lhs[0].(*ast.Ident)
			if !ok {
				continue
			}
			switch rhs := st.Rhs[0].(type) {
			case *ast.CompositeLit:
				vars[id.Name] = keys(rhs)
			case *ast.FuncLit:
				ast.Inspect(rhs.Body, func(n ast.Node) bool {
					if r, ok := n.(*ast.RangeStmt); ok {
						if x, ok := r.X.(*ast.Ident); ok {
							all = append(all, vars[x.Name]...)
						}
					}
					return true
				})
			}
		case *ast.ExprStmt:
			call, ok := st.X.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				continue
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Copy" {
				dst, ok1 := call.Args[0].(*ast.Ident)
				src, ok2 := call.Args[1].(*ast.Ident)
				if ok1 && ok2 {
					vars[dst.Name] = append(vars[dst.Name], vars[src.Name]...)
				}
			}
		case *ast.ReturnStmt:
			cl, ok := st.Results[0].(*ast.CompositeLit)
			if !ok {
				continue
			}
			for _, e := range cl.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				fn, ok1 := kv.Key.(*ast.Ident)
				call, ok2 := kv.Value.(*ast.CallExpr)
				if !ok1 || !ok2 || len(call.Args) != 1 {
					continue
				}
				if arg, ok := call.Args[0].(*ast.Ident); ok {
					names := append(slices.Clone(all), vars[arg.Name]...)
					slices.Sort(names)
					out[fn.Name] = slices.Compact(names)
				}
			}
		}
	}
	if len(out) != 4 || len(all) == 0 {
		t.Fatalf("%s: functionEnvironments gives %v, and %q to all: the test no longer reads it", path, out, all)
	}
	return out
}

// TestEnvNamesOf: every form functionEnvironments gives a function a
// variable in is read, and a name set under an if is not.
func TestEnvNamesOf(t *testing.T) {
	const src = `package infra
func functionEnvironments() functionEnvs {
	tableEnv := map[string]*string{"TABLE_NAME": nil}
	env := func(extra map[string]*string) map[string]*string {
		for k, v := range tableEnv {
			_, _ = k, v
		}
		return nil
	}
	shared := map[string]*string{"SHARED": nil}
	startEnv := map[string]*string{"A": nil}
	maps.Copy(startEnv, shared)
	alertEnv := map[string]*string{}
	alertEnv["SET_BY_KEY"] = nil
	if option {
		alertEnv["UNDER_AN_IF"] = nil
	}
	statusEnv := map[string]*string{}
	return functionEnvs{start: env(startEnv), check: env(shared), alert: env(alertEnv), status: env(statusEnv)}
}`
	got := envNamesOf(t, "functions.go", src)
	want := map[string][]string{
		"start":  {"A", "SHARED", "TABLE_NAME"},
		"check":  {"SHARED", "TABLE_NAME"},
		"alert":  {"SET_BY_KEY", "TABLE_NAME"},
		"status": {"TABLE_NAME"},
	}
	for fn, names := range want {
		if !slices.Equal(got[fn], names) {
			t.Errorf("%s: %q, want %q", fn, got[fn], names)
		}
	}
}

// stringValue is the string constant name of infra/stack.go.
func stringValue(t *testing.T, values map[string]ast.Expr, name string) string {
	t.Helper()
	s, err := strconv.Unquote(literal(t, values, name, token.STRING, "a string"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// intValue is the integer constant name of infra/stack.go, as written.
func intValue(t *testing.T, values map[string]ast.Expr, name string) string {
	t.Helper()
	return literal(t, values, name, token.INT, "an integer")
}

// literal is the constant name of infra/stack.go as written, a literal of
// kind (what says it).
func literal(t *testing.T, values map[string]ast.Expr, name string, kind token.Token, what string) string {
	t.Helper()
	lit, ok := values[name].(*ast.BasicLit)
	if !ok || lit.Kind != kind {
		t.Fatalf("infra/stack.go: %s is not %s literal", name, what)
	}
	return lit.Value
}

// buildRIE builds the emulator into dir, from the tool requirement of
// rieModule.
func buildRIE(t *testing.T, root, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.Command("go", "build", "-o", out, rieTool)
	cmd.Dir = filepath.Join(root, "lambdas", filepath.FromSlash(rieModule))
	if b, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(b, []byte("requires go >=")) {
			// The emulator needs a newer Go than stepmon does, and
			// GOTOOLCHAIN=local forbids fetching it.
			testtool.Missing(t, fmt.Sprintf("the Lambda Runtime Interface Emulator (%s) needs a newer Go: install it, or let Go fetch it (GOTOOLCHAIN=auto)\n%s", rieModule, b))
		}
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return out
}

// buildBootstraps builds the functions of the Makefile's LAMBDAS as make
// lambdas does (LAMBDA_ENV, LAMBDA_FLAGS), for this machine instead of
// linux/arm64, each into dir/NAME/bootstrap, which it returns by name.
func buildBootstraps(t *testing.T, root, dir string) map[string]string {
	t.Helper()
	mk := testtool.MakeVars(t, filepath.Join(root, "Makefile"))
	names := strings.Fields(mk["LAMBDAS"])
	flags := testtool.ShellWords(mk["LAMBDA_FLAGS"])
	env := testtool.ShellWords(mk["LAMBDA_ENV"])
	if len(names) != 4 || len(flags) == 0 || len(env) == 0 {
		t.Fatalf("Makefile: LAMBDAS %q, LAMBDA_FLAGS %q, LAMBDA_ENV %q: the test no longer reads them", names, flags, env)
	}
	env = slices.DeleteFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "GOOS=") || strings.HasPrefix(kv, "GOARCH=")
	})
	env = append(env, "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	bin := filepath.Join(dir, "bin") + string(filepath.Separator)
	args := append([]string{"build", "-o", bin}, flags...)
	for _, n := range names {
		args = append(args, "./lambdas/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	boots := map[string]string{}
	for _, n := range names {
		path := filepath.Join(dir, n, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(bin, n), path); err != nil {
			t.Fatal(err)
		}
		boots[n] = path
	}
	return boots
}

// function is one bootstrap to run under its own emulator, which starts
// at its first invocation, as Lambda starts an execution environment for
// the first invocation of a function.
type function struct {
	owner     *testing.T // the test that stops it
	label     string
	rie       string
	bootstrap string
	env       map[string]string
	size      int64 // the bootstrap's, in bytes

	url       string        // the emulator's invocations endpoint, once started
	port      string        // of url
	pid       int           // the emulator's
	exited    chan struct{} // closed when the emulator has exited
	started   time.Time
	coldStart time.Duration // from started to the first answer
	output    *testtool.SyncBuffer
}

// newFunction returns the function that runs bootstrap under the emulator
// rie with exactly env, stopped when t ends, which then logs the
// bootstrap's size and the cold start.
func newFunction(t *testing.T, rie, bootstrap string, env map[string]string) *function {
	t.Helper()
	fi, err := os.Stat(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	f := &function{owner: t, label: env["AWS_LAMBDA_FUNCTION_NAME"], rie: rie, bootstrap: bootstrap, env: env, size: fi.Size(),
		output: new(testtool.SyncBuffer)}
	if env["ALLOW_PRIVATE_TARGETS"] == "true" {
		f.label += " (allowPrivateTargets)"
	}
	t.Cleanup(func() {
		if f.url == "" {
			return
		}
		t.Logf("%s: bootstrap %.1f MiB, cold start %v (from starting the emulator to the first answer)",
			f.label, float64(f.size)/(1<<20), f.coldStart.Round(time.Millisecond))
		if t.Failed() {
			t.Logf("%s: emulator and function output:\n%s", f.label, f.output.String())
		}
	})
	return f
}

// start starts the emulator on two free loopback ports (its invocations
// and the Runtime API), and stops it, and the bootstrap, when f's owner
// ends.
func (f *function) start(t *testing.T) {
	t.Helper()
	addr, api := testtool.FreeAddr(t), testtool.FreeAddr(t)
	cmd := exec.Command(f.rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, f.bootstrap)
	cmd.Dir = filepath.Dir(f.bootstrap)
	for _, k := range slices.Sorted(maps.Keys(f.env)) {
		cmd.Env = append(cmd.Env, k+"="+f.env[k])
	}
	cmd.Stdout, cmd.Stderr = f.output, f.output
	ownProcessGroup(cmd)
	f.url = "http://" + addr + "/2015-03-31/functions/function/invocations"
	_, f.port, _ = net.SplitHostPort(addr)
	f.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	f.pid, f.exited = cmd.Process.Pid, exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	f.owner.Cleanup(func() {
		// The emulator runs the bootstrap in a process group of its own,
		// which it ends at SIGTERM; one it leaves is killed here.
		children := childrenOf(cmd.Process.Pid)
		testtool.StopGroup(cmd.Process.Pid, exited, 5*time.Second)
		for _, pid := range children {
			if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && bytes.HasPrefix(cmdline, []byte(f.bootstrap)) {
				killProcessGroup(pid)
			}
		}
	})
}

// childrenOf returns the pids of the children of pid's threads.
func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, path := range tasks {
		b, _ := os.ReadFile(path)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// invoke posts payload to the function, as Lambda's Invoke API is called
// with it, and returns the emulator's answer. The first call starts the
// emulator, waits until it listens, and records the cold start.
func (f *function) invoke(t *testing.T, payload []byte) (int, []byte) {
	t.Helper()
	if f.url == "" {
		f.listen(t)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Post(f.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v\n%s", f.label, err, f.output.String())
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("invoke %s: %v", f.label, err)
	}
	if f.coldStart == 0 {
		f.coldStart = time.Since(f.started)
	}
	return resp.StatusCode, body
}

// listen starts the emulator and waits until it listens on its address.
// An emulator that exits first, whose port another process took between
// testtool.FreeAddr and its start, is started again on other ports.
func (f *function) listen(t *testing.T) {
	t.Helper()
	for range 3 {
		f.start(t)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-f.exited:
			case <-time.After(2 * time.Millisecond):
				if listening(f.pid, f.port) {
					return
				}
				continue
			}
			break
		}
	}
	t.Fatalf("%s: the emulator did not listen\n%s", f.label, f.output.String())
}

// listening reports whether the process pid has a socket listening on
// the loopback port, as /proc shows its descriptors and the sockets of
// its network namespace.
func listening(pid int, port string) bool {
	n, err := strconv.Atoi(port)
	if err != nil {
		return false
	}
	tcp, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/tcp")
	if err != nil {
		return false
	}
	local := fmt.Sprintf("0100007F:%04X", n) // 127.0.0.1, in the kernel's byte order
	for line := range strings.Lines(string(tcp)) {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(line)
		if len(fields) < 10 || fields[1] != local || fields[3] != "0A" { // 0A: LISTEN
			continue
		}
		fds, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && target == "socket:["+fields[9]+"]" {
				return true
			}
		}
	}
	return false
}

// invokeOK invokes f and decodes its result into out, failing t on a
// function error. It returns the result.
func invokeOK(t *testing.T, f *function, payload []byte, out any) []byte {
	t.Helper()
	status, body := f.invoke(t, payload)
	var fe struct{ ErrorType string }
	if status != http.StatusOK || (json.Unmarshal(body, &fe) == nil && fe.ErrorType != "") {
		t.Fatalf("invoke %s: %d %s, want a result", f.label, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("invoke %s: %s: %v", f.label, body, err)
	}
	return body
}

// apiRequest invokes f with the API Gateway REST API proxy event of a
// request for the resource (/monitors/{id}, with id) and returns the
// function's answer.
func apiRequest(t *testing.T, f *function, method, resource, id, body string) events.APIGatewayProxyResponse {
	t.Helper()
	path := strings.Replace(resource, "{id}", id, 1)
	var params map[string]string
	if id != "" {
		params = map[string]string{"id": id}
	}
	headers := map[string]string{"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "Content-Type": "application/json"}
	req := events.APIGatewayProxyRequest{
		Resource: resource, Path: path, HTTPMethod: method, Headers: headers, PathParameters: params, Body: body,
		MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", ResourcePath: resource, HTTPMethod: method,
			Path: "/v1" + path, RequestID: "req-" + strconv.FormatInt(time.Now().UnixNano(), 36), DomainName: headers["Host"]},
	}
	for k, v := range headers {
		req.MultiValueHeaders[k] = []string{v}
	}
	var resp events.APIGatewayProxyResponse
	invokeOK(t, f, mustJSON(t, req), &resp)
	return resp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// closedEndpoint is the URL of a loopback port that nothing listens on.
func closedEndpoint(t *testing.T) string {
	return "http://" + testtool.FreeAddr(t)
}
