package lambdainvoke

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdaerr"
)

type in struct {
	N int `json:"n"`
}
type out struct {
	Double int `json:"double"`
}

// TransientError mimics a named error type a handler returns for Retry.
type TransientError struct{ Message string }

func (e *TransientError) Error() string { return e.Message }

func TestInvoke(t *testing.T) {
	r := newTestRegistry(t)
	r.Register("double", func(ctx context.Context, v in) (out, error) {
		switch v.N {
		case -1:
			return out{}, &TransientError{Message: "try again"}
		case -2:
			return out{}, errors.New("plain")
		case -3:
			panic("boom")
		}
		return out{Double: 2 * v.N}, nil
	})
	tests := []struct {
		name, fn, payload string
		want              string
		wantType          string
	}{
		{name: "by name", fn: "double", payload: `{"n":21}`, want: `{"double":42}`},
		{name: "by arn", fn: FunctionArn("double"), payload: `{"n":1}`, want: `{"double":2}`},
		{name: "qualified arn", fn: FunctionArn("double") + ":$LATEST", payload: `{"n":2}`, want: `{"double":4}`},
		{name: "partial arn", fn: "000000000000:function:double", payload: `{"n":3}`, want: `{"double":6}`},
		{name: "named error", fn: "double", payload: `{"n":-1}`, wantType: "TransientError"},
		{name: "errors.New", fn: "double", payload: `{"n":-2}`, wantType: "errorString"},
		{name: "panic", fn: "double", payload: `{"n":-3}`, wantType: "string"},
		{name: "bad payload", fn: "double", payload: `{"n":"x"}`, wantType: "UnmarshalTypeError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Invoke(context.Background(), tt.fn, []byte(tt.payload))
			if tt.wantType != "" {
				var fe *FunctionError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a *FunctionError", err)
				}
				if fe.ErrorType != tt.wantType {
					t.Errorf("ErrorType = %q, want %q", fe.ErrorType, tt.wantType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	_, err := r.Invoke(context.Background(), "missing", []byte(`{}`))
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("unknown function: err = %v, want *NotFoundError", err)
	}
}

// TestInvokeConcurrent invokes one function from many goroutines at once:
// each caller must get the result of its own payload. aws-lambda-go's
// Handler.Invoke returns a slice of a pooled buffer that it has already
// put back for the next invocation (the Lambda runtime invokes one at a
// time), so sharing one Handler between concurrent calls swaps results.
func TestInvokeConcurrent(t *testing.T) {
	r := newTestRegistry(t)
	type padded struct {
		N   int    `json:"n"`
		Pad string `json:"pad"`
	}
	r.Register("echo", func(ctx context.Context, v padded) (padded, error) {
		runtime.Gosched()
		return v, nil
	})
	pad := strings.Repeat("x", 4096)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				n := g*1000 + i
				b, err := r.Invoke(context.Background(), "echo", []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, n, pad)))
				if err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
				var got padded
				if err := json.Unmarshal(b, &got); err != nil || got.N != n {
					errs <- fmt.Errorf("invoke with n=%d returned n=%d (%v)", n, got.N, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// runTask runs a lambda:invoke task with input as its parameters on the
// functions of r.
func runTask(t testing.TB, r *Registry, input map[string]any) (any, error) {
	t.Helper()
	return engine.LambdaInvoke(r.Invoker())(context.Background(),
		engine.TaskRequest{Resource: engine.LambdaInvokeResource, Input: input})
}

// TestPanicCause: a handler's panic fails the task with the Cause
// aws-lambda-go's panic response gives: the panic value as errorMessage,
// the frames in stackTrace; the goroutine dump goes to the log only.
func TestPanicCause(t *testing.T) {
	var logged bytes.Buffer
	r := newTestRegistry(t)
	r.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	r.Register("f", func(ctx context.Context) error { panic("boom") })
	_, err := runTask(t, r, map[string]any{"FunctionName": "f"})
	var te *engine.TaskError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *engine.TaskError", err)
	}
	if te.Name != "string" {
		t.Errorf("Error = %q, want string", te.Name)
	}
	var cause struct {
		ErrorMessage string                 `json:"errorMessage"`
		ErrorType    string                 `json:"errorType"`
		StackTrace   []lambdaerr.StackFrame `json:"stackTrace"`
	}
	if err := json.Unmarshal([]byte(te.Cause), &cause); err != nil {
		t.Fatalf("Cause %s: %v", te.Cause, err)
	}
	if cause.ErrorMessage != "boom" || cause.ErrorType != "string" {
		t.Errorf("Cause errorMessage %.120q, errorType %q; want boom, string", cause.ErrorMessage, cause.ErrorType)
	}
	found := false
	for _, f := range cause.StackTrace {
		if f.Label == "TestPanicCause.func1" {
			found = true
			if !strings.HasSuffix(f.Path, "internal/lambdainvoke/lambdainvoke_test.go") || f.Line == 0 {
				t.Errorf("the panicking frame is %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("stackTrace has no frame of the panicking function: %.400s", te.Cause)
	}
	if !strings.Contains(logged.String(), "goroutine") {
		t.Errorf("the goroutine dump was not logged: %q", logged.String())
	}
}

// TestInvokeResponseErrorPassThrough: a messages.InvokeResponse_Error that
// a handler returns or panics with is the function's error as it is, as
// aws-lambda-go passes it through: its Type is the name Retry and Catch
// match.
func TestInvokeResponseErrorPassThrough(t *testing.T) {
	custom := messages.InvokeResponse_Error{Type: "MyApp.Throttled", Message: "custom",
		StackTrace: []*messages.InvokeResponse_Error_StackFrame{{Path: "app/f.go", Line: 3, Label: "f"}}}
	r := newTestRegistry(t)
	r.Register("returns", func(ctx context.Context) error { return custom })
	r.Register("panics", func(ctx context.Context) error { panic(custom) })
	for _, fn := range []string{"returns", "panics"} {
		t.Run(fn, func(t *testing.T) {
			_, err := runTask(t, r, map[string]any{"FunctionName": fn})
			var te *engine.TaskError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *engine.TaskError", err)
			}
			want := `{"errorMessage":"custom","errorType":"MyApp.Throttled","stackTrace":[{"path":"app/f.go","line":3,"label":"f"}]}`
			if te.Name != "MyApp.Throttled" || te.Cause != want {
				t.Errorf("Error %q, Cause %s; want MyApp.Throttled, %s", te.Name, te.Cause, want)
			}
		})
	}
}

// TestSplitFunctionName: every form of FunctionName that Lambda's Invoke
// accepts, read by the position of its fields, so that a name containing
// "function" is not taken for the "function" field of an ARN.
func TestSplitFunctionName(t *testing.T) {
	tests := []struct {
		in, name, qualifier string
	}{
		{"my-function", "my-function", ""},
		{"my-function:live", "my-function", "live"},
		{"my-function:$LATEST", "my-function", "$LATEST"},
		{"my-function:7", "my-function", "7"},
		{"function", "function", ""},
		{"function:function", "function", "function"},
		{"123456789012:function:my-function", "my-function", ""},
		{"123456789012:function:my-function:live", "my-function", "live"},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function", "my-function", ""},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST", "my-function", "$LATEST"},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:function:live", "function", "live"},
		{FunctionArn("check"), "check", ""},
		// Not an account (12 digits), not a Lambda function's ARN: the
		// first field is the name, as Lambda would look it up (and find
		// nothing).
		{"12345:function:f", "12345", "function:f"},
		{"1234567890123:function:f", "1234567890123", "function:f"},
		{"12345678901x:function:f", "12345678901x", "function:f"},
		{"arn:aws:sqs:us-west-2:123456789012:function:f", "arn", "aws:sqs:us-west-2:123456789012:function:f"},
		{"arn:aws:lambda:us-west-2:123456789012:layer:f", "arn", "aws:lambda:us-west-2:123456789012:layer:f"},
		{"urn:aws:lambda:us-west-2:123456789012:function:f", "urn", "aws:lambda:us-west-2:123456789012:function:f"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, qualifier := SplitFunctionName(tt.in)
			if name != tt.name || qualifier != tt.qualifier {
				t.Errorf("SplitFunctionName(%q) = %q, %q; want %q, %q", tt.in, name, qualifier, tt.name, tt.qualifier)
			}
			if got := FunctionName(tt.in); got != tt.name {
				t.Errorf("FunctionName(%q) = %q, want %q", tt.in, got, tt.name)
			}
		})
	}
}

// TestLambdaContext: the handler's context carries the LambdaContext
// aws-lambda-go gives it: the request id the task's result reports, the
// function's ARN with the qualifier it was invoked with, and the client
// context the task passed in base64; a ClientContext that is not base64
// JSON is refused as Lambda refuses it.
func TestLambdaContext(t *testing.T) {
	r := newTestRegistry(t)
	var lc *lambdacontext.LambdaContext
	r.Register("f", func(ctx context.Context) error {
		lc, _ = lambdacontext.FromContext(ctx)
		return nil
	})
	cc := base64.StdEncoding.EncodeToString([]byte(`{"Client":{"app_title":"monitor"},"custom":{"k":"v","n":1}}`))
	tests := []struct {
		name    string
		input   map[string]any
		wantArn string
	}{
		{"name", map[string]any{"FunctionName": "f"}, FunctionArn("f")},
		{"qualified arn", map[string]any{"FunctionName": FunctionArn("f") + ":live", "ClientContext": cc}, FunctionArn("f") + ":live"},
		{"Qualifier", map[string]any{"FunctionName": "f", "Qualifier": "7"}, FunctionArn("f") + ":7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc = nil
			out, err := runTask(t, r, tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if lc == nil {
				t.Fatal("the handler's context has no LambdaContext")
			}
			reqID := out.(map[string]any)["SdkResponseMetadata"].(map[string]any)["RequestId"]
			if lc.AwsRequestID == "" || lc.AwsRequestID != reqID {
				t.Errorf("AwsRequestID = %q, want the result's request id %q", lc.AwsRequestID, reqID)
			}
			if lc.InvokedFunctionArn != tt.wantArn {
				t.Errorf("InvokedFunctionArn = %q, want %q", lc.InvokedFunctionArn, tt.wantArn)
			}
			if _, given := tt.input["ClientContext"]; given {
				if lc.ClientContext.Client.AppTitle != "monitor" || lc.ClientContext.Custom["k"] != "v" || lc.ClientContext.Custom["n"] != "1" {
					t.Errorf("ClientContext = %+v", lc.ClientContext)
				}
			}
		})
	}
	t.Run("not base64 JSON", func(t *testing.T) {
		for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("[1]"))} {
			_, err := runTask(t, r, map[string]any{"FunctionName": "f", "ClientContext": bad})
			var te *engine.TaskError
			if !errors.As(err, &te) || te.Name != "Lambda.InvalidRequestContentException" {
				t.Errorf("ClientContext %q: err = %v, want Lambda.InvalidRequestContentException", bad, err)
			}
		}
	})
	t.Run("Invoke", func(t *testing.T) {
		lc = nil
		if _, err := r.Invoke(context.Background(), "f", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if lc == nil || lc.AwsRequestID == "" || lc.InvokedFunctionArn != FunctionArn("f") {
			t.Errorf("LambdaContext = %+v, want a request id and the function's ARN", lc)
		}
	})
}

// TestResponseTooLarge: a result over Lambda's 6 MB (6,291,556 bytes)
// fails as Lambda fails it, with Function.ResponseSizeTooLarge; one of
// exactly that size is returned.
func TestResponseTooLarge(t *testing.T) {
	const limit = 6_291_556 // Lambda's, not MaxResponseBytes: the test pins it
	r := newTestRegistry(t)
	r.Register("big", func(ctx context.Context, n int) (string, error) {
		return strings.Repeat("A", n), nil
	})
	small, err := r.Invoke(context.Background(), "big", []byte(`1`))
	if err != nil {
		t.Fatal(err)
	}
	overhead := len(small) - 1 // the quotes and the encoder's newline
	atLimit := limit - overhead
	got, err := r.Invoke(context.Background(), "big", fmt.Appendf(nil, "%d", atLimit))
	if err != nil || len(got) != limit {
		t.Fatalf("a result of %d bytes: %d bytes, err %v; want it returned", limit, len(got), err)
	}
	_, err = r.Invoke(context.Background(), "big", fmt.Appendf(nil, "%d", atLimit+1))
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("a result of %d bytes: err = %v, want a *FunctionError", limit+1, err)
	}
	want := FunctionError{Function: "big", ErrorType: "Function.ResponseSizeTooLarge",
		ErrorMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes)."}
	if fe.Function != want.Function || fe.ErrorType != want.ErrorType || fe.ErrorMessage != want.ErrorMessage {
		t.Errorf("error = %+v, want %+v", *fe, want)
	}
}
