package engine_test

import (
	"context"
	"testing"

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
