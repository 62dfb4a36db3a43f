package sfnapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
)

// FuzzHandler sends request bodies to every operation: the handler never
// panics, serves every one of them (no UnknownOperationException), and a
// request it refuses is answered in the AWS error shape, with 500 only
// for the backend's own failures (InternalFailure).
func FuzzHandler(f *testing.F) {
	ops := servedOperations
	for i, seed := range []string{
		`{"name":"m","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`,
		`{"stateMachineArn":"` + smArn + `m","name":"x","input":"{}"}`,
		`{"executionArn":"` + execArn + `m:x","maxResults":2,"reverseOrder":true,"nextToken":"abc"}`,
		`{"stateMachineArn":"` + smArn + `m","statusFilter":"RUNNING","maxResults":-1}`,
		`{"executionArn":"` + execArn + `m:x","error":"e","cause":"c"}`,
		`[]`, `null`, `{}`, `{"name":1}`, `{"includedData":"METADATA_ONLY","stateMachineArn":"x"}`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	for i, op := range ops {
		if strings.Contains(op, "Tag") {
			f.Add(uint8(i), []byte(`{"resourceArn":"`+smArn+`m","tags":[{"key":"k","value":"v"},{"key":"K"}],"tagKeys":["k"]}`))
		}
	}
	e := engine.New(engine.Options{Region: region, AccountID: account})
	f.Cleanup(func() { e.Close() })
	h := sfnapi.NewHandler(sfnapi.NewEngineBackend(e), nil)
	if _, err := e.CreateStateMachine(context.Background(), "m", passDef, role); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := ops[int(op)%len(ops)]
		// A synchronous execution of a machine the fuzzer made may wait.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+name)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %q: answer %d is not JSON: %s", name, body, w.Code, w.Body)
		}
		typ, _ := m["__type"].(string)
		if typ == "" || m["message"] == nil {
			t.Fatalf("%s %q: answer %d %s lacks __type or message", name, body, w.Code, w.Body)
		}
		if strings.HasSuffix(typ, "#UnknownOperationException") {
			t.Fatalf("%s %q: the operation is not served: %s", name, body, w.Body)
		}
		if w.Code >= 500 && !strings.HasSuffix(typ, "#InternalFailure") {
			t.Fatalf("%s %q: answer %d %s", name, body, w.Code, w.Body)
		}
		if w.Code >= 500 {
			t.Fatalf("%s %q: the request made the backend fail: %s", name, body, w.Body)
		}
	})
}
