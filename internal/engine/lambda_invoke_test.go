package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// The wrapped result carries the payload the function returned and, as
// Lambda sends it, the size of the function's response: its bytes as
// written, not a re-encoding of the value.
func TestLambdaInvokeResult(t *testing.T) {
	const response = `{ "z": 1, "a": [true, null] }` // unsorted keys, spaces: 29 bytes
	var got []byte
	inv := func(_ context.Context, call engine.Invocation) ([]byte, error) {
		if call.FunctionName != "check" {
			t.Errorf("function %q, want check", call.FunctionName)
		}
		got = call.Payload
		return []byte(response), nil
	}
	out, err := engine.LambdaInvoke(inv)(context.Background(), engine.TaskRequest{
		Input: map[string]any{"FunctionName": "check", "Payload": map[string]any{"b": "x", "a": 1.0}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"a":1,"b":"x"}` {
		t.Errorf("payload sent = %s", got)
	}
	res := out.(map[string]any)
	if p := res["Payload"].(map[string]any); p["z"] != 1.0 || len(p["a"].([]any)) != 2 {
		t.Errorf("Payload = %v", res["Payload"])
	}
	meta := res["SdkHttpMetadata"].(map[string]any)
	if n := meta["HttpHeaders"].(map[string]any)["Content-Length"]; n != "29" {
		t.Errorf("HttpHeaders Content-Length = %v, want 29", n)
	}
	if n := meta["AllHttpHeaders"].(map[string]any)["Content-Length"].([]any)[0]; n != "29" {
		t.Errorf("AllHttpHeaders Content-Length = %v, want 29", n)
	}
	if res["StatusCode"] != 200.0 || res["ExecutedVersion"] != "$LATEST" {
		t.Errorf("StatusCode %v, ExecutedVersion %v", res["StatusCode"], res["ExecutedVersion"])
	}
}

// The Date headers of a lambda:invoke result are the time of the call on
// the engine's clock, as the history's timestamps are (they were
// 1 January 1970 under the engine, whatever its clock), for every
// invocation type; a request made without the engine's clock keeps the
// Unix epoch.
func TestLambdaInvokeDate(t *testing.T) {
	inv := func(_ context.Context, call engine.Invocation) ([]byte, error) { return []byte(`{}`), nil }
	d := engine.NewDispatcher()
	engine.RegisterLambda(d, inv)
	at := time.Date(2031, 3, 4, 5, 6, 7, 800_000_000, time.UTC)
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(at)})
	sm := create(t, eng, `{"StartAt": "Call", "States": {
		"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": {"FunctionName": "fn", "InvocationType.$": "$.type"}, "End": true}}}`)
	const want = "Tue, 04 Mar 2031 05:06:07 GMT"
	for i, typ := range []string{engine.InvokeRequestResponse, engine.InvokeEvent, engine.InvokeDryRun} {
		t.Run(typ, func(t *testing.T) {
			x := run(t, eng, sm.Arn, "x"+string(rune('a'+i)), `{"type": "`+typ+`"}`)
			if x.Status != engine.StatusSucceeded {
				t.Fatalf("status %s: %s %s", x.Status, x.Error, x.Cause)
			}
			var out struct {
				SdkHttpMetadata struct {
					AllHttpHeaders struct{ Date []string }
					HttpHeaders    struct{ Date string }
				}
			}
			if err := json.Unmarshal([]byte(x.Output), &out); err != nil {
				t.Fatalf("output %s: %v", x.Output, err)
			}
			h := out.SdkHttpMetadata
			if h.HttpHeaders.Date != want || len(h.AllHttpHeaders.Date) != 1 || h.AllHttpHeaders.Date[0] != want {
				t.Errorf("Date %q and %q, want %q in both", h.HttpHeaders.Date, h.AllHttpHeaders.Date, want)
			}
		})
	}

	res, err := engine.LambdaInvoke(inv)(context.Background(), engine.TaskRequest{Input: map[string]any{"FunctionName": "fn"}})
	if err != nil {
		t.Fatal(err)
	}
	h := res.(map[string]any)["SdkHttpMetadata"].(map[string]any)["HttpHeaders"].(map[string]any)
	if h["Date"] != "Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Errorf("Date without the engine's clock = %v, want the Unix epoch", h["Date"])
	}
}

// Results of the same second share their Date; the next second has its
// own, and a clock that steps back is followed.
func TestLambdaInvokeDateSeconds(t *testing.T) {
	inv := func(_ context.Context, call engine.Invocation) ([]byte, error) { return []byte(`{}`), nil }
	clock := &steppedClock{now: time.Date(2030, 1, 1, 0, 0, 59, 900_000_000, time.UTC)}
	date := func() string {
		res, err := engine.LambdaInvoke(inv)(context.Background(), engine.TaskRequest{
			Input: map[string]any{"FunctionName": "fn"}, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return res.(map[string]any)["SdkHttpMetadata"].(map[string]any)["HttpHeaders"].(map[string]any)["Date"].(string)
	}
	steps := []struct {
		by   time.Duration
		want string
	}{
		{0, "Tue, 01 Jan 2030 00:00:59 GMT"},
		{50 * time.Millisecond, "Tue, 01 Jan 2030 00:00:59 GMT"},
		{50 * time.Millisecond, "Tue, 01 Jan 2030 00:01:00 GMT"},
		{-2 * time.Second, "Tue, 01 Jan 2030 00:00:58 GMT"},
	}
	for _, s := range steps {
		clock.now = clock.now.Add(s.by)
		if got := date(); got != s.want {
			t.Errorf("after %v: Date %q, want %q", s.by, got, s.want)
		}
	}
}

// steppedClock reads the time a test sets.
type steppedClock struct{ now time.Time }

func (c *steppedClock) Now() time.Time { return c.now }

func (c *steppedClock) SleepUntil(ctx context.Context, _ time.Time) error { return ctx.Err() }
