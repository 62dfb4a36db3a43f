package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

const fixtureArn = "arn:aws:states:eu-west-1:123456789012:execution:stepmon-monitor:"

// newFunctionEnv starts monitor my-job-123 whose execution ARN is the one
// the fixtures name.
func newFunctionEnv(t *testing.T) (*env, *Function) {
	t.Helper()
	e := newEnv(t)
	e.start(t, `{"instanceId":"my-job-123","target":{"type":"simulated"}}`)
	if _, err := e.store.RecordCheck(t.Context(), "my-job-123", monitor.CheckUpdate{
		ExecutionArn: fixtureArn + "my-job-123", At: t0,
		CustomStatus: monitor.CustomStatus{JobID: "my-job-123", Status: monitor.StatusRunning, CheckCount: 2, LastCheckTime: t0},
	}); err != nil {
		t.Fatal(err)
	}
	return e, NewFunction(e.h)
}

// invoke calls f through aws-lambda-go's JSON handler, as the Lambda
// runtime and stepmon serve do, and returns the JSON answer.
func invoke(t *testing.T, f *Function, payload []byte) ([]byte, error) {
	t.Helper()
	return lambda.NewHandler(f.Invoke).Invoke(t.Context(), payload)
}

func TestInvokeAPIGatewayRequest(t *testing.T) {
	_, f := newFunctionEnv(t)
	out, err := invoke(t, f, fixture(t, "get-execute-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || !strings.Contains(resp.Body, `"instanceId":"my-job-123"`) {
		t.Errorf("response = %+v", resp)
	}
}

func TestInvokeStatusChange(t *testing.T) {
	e, f := newFunctionEnv(t)
	out, err := invoke(t, f, fixture(t, "eventbridge-aborted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"recorded":true}` {
		t.Errorf("answer = %s", out)
	}
	rec, err := e.store.Get(t.Context(), "my-job-123")
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output.FinalStatus != monitor.FinalTerminated ||
		rec.Output.ChecksPerformed != 2 || rec.Output.MonitoringDurationSeconds != 120 ||
		rec.Output.Detail != "the execution was stopped outside the monitor API: Stopped: stopped from the console" {
		t.Errorf("record = %s, output %+v", rec.RuntimeStatus, rec.Output)
	}
	// Redelivery changes nothing.
	out, err = invoke(t, f, fixture(t, "eventbridge-aborted.json"))
	if err != nil || string(out) != `{"recorded":false}` {
		t.Errorf("redelivery = %s, %v", out, err)
	}
}

func TestInvokeStatusChangeByName(t *testing.T) {
	e, f := newFunctionEnv(t)
	// Generation 2 runs and has recorded no check yet; its input was too
	// large for the event, so only the name tells the monitor.
	out, err := invoke(t, f, fixture(t, "eventbridge-timed-out-no-input.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"recorded":true}` {
		t.Errorf("answer = %s", out)
	}
	rec, _ := e.store.Get(t.Context(), "my-job-123")
	if rec.RuntimeStatus != monitor.RuntimeFailed || rec.Output.FinalStatus != monitor.FinalTimeout ||
		!rec.LastUpdatedTime.Equal(time.UnixMilli(1767369845000).UTC()) {
		t.Errorf("record = %s at %s, output %+v", rec.RuntimeStatus, rec.LastUpdatedTime, rec.Output)
	}
}

func TestInvokeRecordFailure(t *testing.T) {
	e, f := newFunctionEnv(t)
	out, err := invoke(t, f, fixture(t, "record-failure.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"recorded":true}` {
		t.Errorf("answer = %s", out)
	}
	rec, _ := e.store.Get(t.Context(), "my-job-123")
	want := `the workflow failed: PermanentError: internal error (the cause is in the service's log)`
	if rec.RuntimeStatus != monitor.RuntimeFailed || rec.Output.FinalStatus != monitor.FinalFailed || rec.Output.Detail != want {
		t.Errorf("record = %s, output %+v", rec.RuntimeStatus, rec.Output)
	}
}

// A task's error text is for operators: for a store failure it is the
// whole SDK error, with the table, the request id and the function's role
// and session. What API callers read of the failure (the output's detail,
// GET /monitors/{id}) names the error only, as the API answers any
// internal error; the status function logs the cause it records.
func TestInvokeRecordFailureKeepsTheCauseFromCallers(t *testing.T) {
	e, f := newFunctionEnv(t)
	var logged strings.Builder
	e.h.API.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	const sdkErr = "check my-job-123: consume events: dynamostore: consume events my-job-123: DynamoDB request failed: " +
		"operation error DynamoDB: GetItem, https response error StatusCode: 400, RequestID: FQ4IEX9DREQ, " +
		"api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/stepmon-CheckFunctionRole/stepmon-CheckFunction " +
		"is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/stepmon-Monitors"
	cause, err := json.Marshal(lambdaerr.Response{ErrorMessage: sdkErr, ErrorType: "PermanentError"})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(map[string]any{"action": ActionRecordFailure, "instanceId": "my-job-123", "startedAt": t0,
		"executionArn": fixtureArn + "my-job-123", "error": map[string]string{"Error": "PermanentError", "Cause": string(cause)}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := invoke(t, f, payload); err != nil || string(out) != `{"recorded":true}` {
		t.Fatalf("recordFailure = %s, %v", out, err)
	}
	resp := e.do(t, local("GET", "/monitors/my-job-123", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("GET = %d %s", resp.StatusCode, resp.Body)
	}
	for _, secret := range []string{"RequestID", "FQ4IEX9DREQ", "assumed-role", "stepmon-Monitors", "123456789012:table", "dynamostore"} {
		if strings.Contains(resp.Body, secret) {
			t.Errorf("GET body holds %q: %s", secret, resp.Body)
		}
	}
	if want := `"the workflow failed: PermanentError: internal error (the cause is in the service's log)"`; !strings.Contains(resp.Body, want) {
		t.Errorf("GET body = %s, want the detail %s", resp.Body, want)
	}
	if !strings.Contains(logged.String(), "FQ4IEX9DREQ") || !strings.Contains(logged.String(), "stepmon-CheckFunctionRole") {
		t.Errorf("log = %q, want the cause whole", logged.String())
	}
}

// TestInvokeEndOfAnEarlierMonitor: the RecordFailure payload and the
// status change event's input carry the monitor's start; an execution of
// an earlier monitor of the id (purged, and the id started again) that
// started within the clock skew of the record is told by it, and its
// end leaves the record alone. Without the start (an earlier definition's
// payload, an input too large for the event) the skew rule applies.
func TestInvokeEndOfAnEarlierMonitor(t *testing.T) {
	const started = `"startedAt": "2026-01-02T15:04:05Z"`    // t0, the record's
	const earlier = `"startedAt": "2026-01-02T15:03:55Z"`    // 10 s before
	const inInput = `\"startedAt\":\"2026-01-02T15:04:05Z\"` // in the event's input
	for _, tc := range []struct {
		name, fixture, old, new string
		wantRecorded            bool
	}{
		{"RecordFailure of the monitor", "record-failure.json", "", "", true},
		{"RecordFailure of an earlier monitor", "record-failure.json", started, earlier, false},
		{"RecordFailure without the start", "record-failure.json", started + ",", "", true},
		{"status change of the monitor", "eventbridge-aborted.json", "", "", true},
		{"status change of an earlier monitor", "eventbridge-aborted.json", inInput, `\"startedAt\":\"2026-01-02T15:03:55Z\"`, false},
		{"status change with a malformed start", "eventbridge-aborted.json", inInput, `\"startedAt\":5`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, f := newFunctionEnv(t)
			payload := string(fixture(t, tc.fixture))
			if tc.old != "" {
				if !strings.Contains(payload, tc.old) {
					t.Fatalf("%s does not hold %s", tc.fixture, tc.old)
				}
				payload = strings.Replace(payload, tc.old, tc.new, 1)
			}
			out, err := invoke(t, f, []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"recorded":%t}`, tc.wantRecorded); string(out) != want {
				t.Errorf("answer = %s, want %s", out, want)
			}
			rec, err := e.store.Get(t.Context(), "my-job-123")
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.RuntimeStatus.Final(); got != tc.wantRecorded {
				t.Errorf("record %s, output %+v; want finished %t", rec.RuntimeStatus, rec.Output, tc.wantRecorded)
			}
		})
	}
}

// TestInvokeNamesTheMonitorByAValidID: a status change event whose input
// names no valid instance id (an execution started by hand, say)
// is taken for the monitor that the execution's name tells, as when the
// input was too large for the event, not for a record of that bogus id. A
// RecordFailure payload must name both the monitor and the execution: the
// state machine always sends both, so a payload without them is refused
// and records nothing, rather than guessing the monitor from the ARN.
func TestInvokeNamesTheMonitorByAValidID(t *testing.T) {
	const inInput = `\"instanceId\":\"my-job-123\"` // in the event's input
	const inPayload = `"instanceId": "my-job-123",`
	for _, tc := range []struct {
		name, fixture, old, new string
		want                    string // the answer, or in the PermanentError's message
		wantRecorded            bool
	}{
		{"status change whose input names ../x", "eventbridge-aborted.json", inInput, `\"instanceId\":\"../x\"`, `{"recorded":true}`, true},
		{"status change whose input names a b", "eventbridge-aborted.json", inInput, `\"instanceId\":\"a b\"`, `{"recorded":true}`, true},
		{"RecordFailure without instanceId", "record-failure.json", inPayload, "", "instanceId and executionArn are required", false},
		{"RecordFailure with an empty instanceId", "record-failure.json", inPayload, `"instanceId": "",`, "instanceId and executionArn are required", false},
		{"RecordFailure without executionArn", "record-failure.json", `"executionArn":`, `"execution":`, "instanceId and executionArn are required", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, f := newFunctionEnv(t)
			payload := string(fixture(t, tc.fixture))
			if !strings.Contains(payload, tc.old) {
				t.Fatalf("%s does not hold %s", tc.fixture, tc.old)
			}
			payload = strings.Replace(payload, tc.old, tc.new, 1)
			out, err := invoke(t, f, []byte(payload))
			if tc.wantRecorded {
				if err != nil || string(out) != tc.want {
					t.Errorf("got %s, %v; want %s", out, err, tc.want)
				}
			} else if got := lambdaerr.Name(err); got != "PermanentError" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %s, %s %v; want a PermanentError containing %q", out, got, err, tc.want)
			}
			rec, err := e.store.Get(t.Context(), "my-job-123")
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.RuntimeStatus.Final(); got != tc.wantRecorded {
				t.Errorf("got record %s, output %+v; want finished %t", rec.RuntimeStatus, rec.Output, tc.wantRecorded)
			}
		})
	}
}

func TestInvokeRecordFailureErrorsAreNamed(t *testing.T) {
	e, f := newFunctionEnv(t)
	e.store.err = monitor.WrapError(monitor.KindUnavailable, "dynamostore: get", errBoom, "throttled")
	_, err := f.Invoke(t.Context(), fixture(t, "record-failure.json"))
	var te *monitor.TransientError
	if !errors.As(err, &te) || err != error(te) {
		t.Errorf("error = %T %v, want an unwrapped *monitor.TransientError", err, err)
	}
	// Through the JSON path the error name is what the state machine's
	// Retry sees.
	_, err = invoke(t, f, fixture(t, "record-failure.json"))
	if got := lambdaerr.Name(err); got != "TransientError" {
		t.Errorf("invoke error name = %q (%v), want TransientError", got, err)
	}

	// A status change event that cannot be recorded is an error, so that
	// EventBridge delivers it again.
	if _, err := f.Invoke(t.Context(), fixture(t, "eventbridge-aborted.json")); monitor.KindOf(err) != monitor.KindUnavailable {
		t.Errorf("status change error = %v, want unavailable", err)
	}
}

// A failure to record an execution's end is logged by the status
// function itself, as the check and alert functions log theirs: at ERROR
// for a status change event (Lambda's retries, then the dead-letter
// queue), at WARN for a recordFailure the state machine retries, with the
// execution and the error's name as fields. Otherwise the only line was
// aws-lambda-go's, at INFO with the error inside its text.
func TestInvokeLogsWhatItCouldNotRecord(t *testing.T) {
	e, f := newFunctionEnv(t)
	var logged strings.Builder
	e.h.Logger = slog.New(slog.NewJSONHandler(&logged, nil))
	e.store.err = monitor.WrapError(monitor.KindUnavailable, "dynamostore: get", errBoom, "throttled")
	for _, tc := range []struct {
		fixture, level, msg, errorType string
	}{
		{"eventbridge-aborted.json", "ERROR", "execution end not recorded", "wrapError"},
		{"record-failure.json", "WARN", "recordFailure failed", "TransientError"},
	} {
		logged.Reset()
		if _, err := invoke(t, f, fixture(t, tc.fixture)); err == nil {
			t.Fatalf("%s: invoke succeeded with the store failing", tc.fixture)
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(logged.String()), &line); err != nil {
			t.Fatalf("%s: log %q: %v", tc.fixture, logged.String(), err)
		}
		if line["level"] != tc.level || line["msg"] != tc.msg || line["errorType"] != tc.errorType ||
			!strings.HasPrefix(fmt.Sprint(line["executionArn"]), fixtureArn) || !strings.Contains(fmt.Sprint(line["err"]), "throttled") {
			t.Errorf("%s: logged %v; want %s %q with the executionArn, errorType %s and the error", tc.fixture, line, tc.level, tc.msg, tc.errorType)
		}
	}
	// A caller that says it once itself (the local runtime's notifier)
	// gets no line for a status change.
	f.QuietUnrecorded = true
	logged.Reset()
	if _, err := invoke(t, f, fixture(t, "eventbridge-aborted.json")); err == nil {
		t.Fatal("invoke succeeded with the store failing")
	}
	if logged.Len() != 0 {
		t.Errorf("QuietUnrecorded: logged %s, want nothing", logged.String())
	}
}

func TestInvokeUnrecognised(t *testing.T) {
	_, f := newFunctionEnv(t)
	for _, tc := range []struct{ name, payload, want string }{
		{"not an object", `[1]`, "not a JSON object"},
		{"unknown action", `{"action":"explode"}`, `unknown action "explode"`},
		{"recordFailure without ids", `{"action":"recordFailure"}`, "instanceId and executionArn are required"},
		{"other event", `{"source":"aws.s3","detail-type":"Object Created","detail":{}}`, `unexpected event "Object Created"`},
		{"status change without arn", `{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"status":"FAILED"}}`, "no executionArn"},
		{"something else", `{"hello":"world"}`, "unrecognised payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Invoke(t.Context(), json.RawMessage(tc.payload))
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || !strings.Contains(pe.Message, tc.want) {
				t.Errorf("error = %v, want a PermanentError containing %q", err, tc.want)
			}
		})
	}
	// A status change of another state machine is dropped when the
	// function knows its own, whatever the execution it names.
	f.StateMachineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:stepmon-monitor"
	out, err := f.Invoke(t.Context(), json.RawMessage(`{"source":"aws.states","detail-type":"Step Functions Execution Status Change",
		"detail":{"executionArn":"`+fixtureArn+`my-job-123",
		"stateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:other","status":"FAILED"}}`))
	if err != nil || out.(RecordResult).Recorded {
		t.Errorf("another machine's status change = %v, %v; want it dropped", out, err)
	}
	f.StateMachineArn = ""

	// A status change with a status the API does not know is logged and
	// dropped: redelivering it cannot help.
	out, err = f.Invoke(t.Context(), json.RawMessage(`{"source":"aws.states","detail-type":"Step Functions Execution Status Change",
		"detail":{"executionArn":"`+fixtureArn+`my-job-123","status":"EXPLODED"}}`))
	if err != nil || out.(RecordResult).Recorded {
		t.Errorf("unknown status = %v, %v", out, err)
	}
}
