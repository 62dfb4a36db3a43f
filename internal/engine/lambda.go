package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/lambdaerr"
)

// Invoker invokes a function with a JSON payload and returns its JSON
// result. A *FunctionError means the function itself returned an error
// (an "unhandled" function error in Lambda terms), a *TaskError is the
// task's error as it is (Lambda.ResourceNotFoundException...); any other
// error is a failure to invoke (Lambda.ServiceException-like).
type Invoker func(ctx context.Context, inv Invocation) ([]byte, error)

// Invocation is one call of a function, as the Lambda service passes it to
// the function's runtime.
type Invocation struct {
	// FunctionName is the function as the task names it: a name, a full or
	// partial ARN, with or without a qualifier.
	FunctionName string
	// Qualifier is the task's Qualifier parameter, if any.
	Qualifier string
	// Payload is the JSON event.
	Payload []byte
	// ClientContext is the JSON object the task's ClientContext parameter
	// holds in base64, nil for none.
	ClientContext []byte
	// RequestID is the invocation's request id, which the result reports
	// (x-amzn-RequestId).
	RequestID string
	// Type is the task's InvocationType: InvokeRequestResponse (also for
	// ""), InvokeEvent or InvokeDryRun.
	Type string
}

// The invocation types of Lambda's Invoke.
const (
	// InvokeRequestResponse runs the function and answers its result.
	InvokeRequestResponse = "RequestResponse"
	// InvokeEvent starts the function and answers at once (202), without
	// its result; its errors do not reach the caller.
	InvokeEvent = "Event"
	// InvokeDryRun checks that the function can be invoked and answers
	// 204 without running it.
	InvokeDryRun = "DryRun"
)

// FunctionError is an error returned by the function: Type is the error
// name (for Go Lambdas, the Go type name of the returned error) and
// Message its text. StackTrace is the stack of a handler that panicked,
// as aws-lambda-go reports it.
type FunctionError struct {
	Type       string
	Message    string
	StackTrace []lambdaerr.StackFrame
}

// Error implements error.
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Resource ARNs of the Lambda integrations.
const (
	LambdaInvokeResource = "arn:aws:states:::lambda:invoke"
	lambdaFunctionPrefix = "arn:aws:lambda:"
)

// RegisterLambda routes arn:aws:states:::lambda:invoke (result wrapped
// the way AWS wraps it: Payload, StatusCode, ...) and plain function ARNs
// arn:aws:lambda:REGION:ACCOUNT:function:NAME (result unwrapped) to inv.
func RegisterLambda(d *Dispatcher, inv Invoker) {
	d.Handle(LambdaInvokeResource, Route{Handler: LambdaInvoke(inv), ResourceType: "lambda", ResourceName: "invoke"})
	d.HandlePrefix(lambdaFunctionPrefix, Route{Handler: LambdaFunction(inv), ResourceType: "lambda", Legacy: true})
}

// LambdaInvoke returns the handler of arn:aws:states:::lambda:invoke. The
// task input must hold FunctionName and may hold Payload (any JSON
// value), Qualifier, ClientContext (base64 JSON) and InvocationType; the
// result is
// {"ExecutedVersion","Payload","SdkHttpMetadata","SdkResponseMetadata","StatusCode"},
// for Event and DryRun without ExecutedVersion and with an empty Payload.
func LambdaInvoke(inv Invoker) TaskHandler {
	return func(ctx context.Context, req TaskRequest) (any, error) {
		in, ok := req.Input.(map[string]any)
		if !ok {
			return nil, &TaskError{Name: "States.Runtime", Cause: "lambda:invoke parameters must be an object with FunctionName"}
		}
		name, _ := in["FunctionName"].(string)
		if name == "" {
			return nil, &TaskError{Name: "States.Runtime", Cause: "lambda:invoke parameters must include FunctionName"}
		}
		payload, ok := in["Payload"]
		if !ok {
			payload = map[string]any{}
		}
		call := Invocation{FunctionName: name, RequestID: asl.NewUUID(), Type: InvokeRequestResponse}
		call.Qualifier, _ = in["Qualifier"].(string)
		if t, ok := in["InvocationType"]; ok {
			switch t {
			case InvokeRequestResponse, InvokeEvent, InvokeDryRun:
				call.Type = t.(string)
			default:
				b, _ := asl.Marshal(t)
				return nil, &TaskError{Name: "Lambda.InvalidParameterValueException",
					Cause: fmt.Sprintf("InvocationType %s is not one of RequestResponse, Event, DryRun (Service: AWSLambda; Status Code: 400; Error Code: InvalidParameterValueException)", b)}
			}
		}
		if cc, ok := in["ClientContext"].(string); ok && cc != "" {
			b, err := base64.StdEncoding.DecodeString(cc)
			if err != nil || !json.Valid(b) || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
				return nil, &TaskError{Name: "Lambda.InvalidRequestContentException",
					Cause: "Client context must be a valid Base64-encoded JSON object. (Service: AWSLambda; Status Code: 400; Error Code: InvalidRequestContentException)"}
			}
			call.ClientContext = b
		}
		out, size, err := invoke(ctx, inv, call, payload)
		if err != nil {
			return nil, err
		}
		reqID := call.RequestID
		date := responseDate(req.Clock)
		switch call.Type {
		case InvokeEvent:
			return emptyResult(reqID, date, 202), nil
		case InvokeDryRun:
			return emptyResult(reqID, date, 204), nil
		}
		contentLength := strconv.Itoa(size) // of the function's response, as Lambda sends it
		return map[string]any{
			"ExecutedVersion": "$LATEST",
			"Payload":         out,
			"SdkHttpMetadata": map[string]any{
				"AllHttpHeaders": map[string]any{
					"X-Amz-Executed-Version":         allHeaderVersion,
					"x-amzn-Remapped-Content-Length": allHeaderRemapped,
					"Connection":                     allHeaderConnection,
					"x-amzn-RequestId":               []any{reqID},
					"Content-Length":                 []any{contentLength},
					"Date":                           date.list,
					"Content-Type":                   allHeaderContentType,
				},
				"HttpHeaders": map[string]any{
					"Connection":                     "keep-alive",
					"Content-Length":                 contentLength,
					"Content-Type":                   "application/json",
					"Date":                           date.text,
					"X-Amz-Executed-Version":         "$LATEST",
					"x-amzn-Remapped-Content-Length": "0",
					"x-amzn-RequestId":               reqID,
				},
				"HttpStatusCode": 200.0,
			},
			"SdkResponseMetadata": map[string]any{"RequestId": reqID},
			"StatusCode":          200.0,
		}, nil
	}
}

// The header lists every lambda:invoke result shares: the engine never
// modifies a value, so one copy serves all results.
var (
	allHeaderVersion     = []any{"$LATEST"}
	allHeaderRemapped    = []any{"0"}
	allHeaderConnection  = []any{"keep-alive"}
	allHeaderContentType = []any{"application/json"}
)

// dateHeader is a Date header's value, as HttpHeaders holds it and as the
// one-element list AllHttpHeaders holds, for the second sec.
type dateHeader struct {
	sec  int64
	text string
	list []any
}

// httpDateLayout is http.TimeFormat, the layout of HTTP's Date header.
const httpDateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

var (
	// epochDate is the Date of results made without the engine's clock.
	epochDate = newDateHeader(time.Unix(0, 0))
	// lastDate is the Date of the latest result: the results of one
	// second share it, as many checks a second do.
	lastDate atomic.Pointer[dateHeader]
)

func newDateHeader(t time.Time) *dateHeader {
	text := t.UTC().Format(httpDateLayout)
	return &dateHeader{sec: t.Unix(), text: text, list: []any{text}}
}

// responseDate is the Date header of a Lambda response received now on
// clock, or the Unix epoch when the request came without the engine's
// clock.
func responseDate(clock Clock) *dateHeader {
	if clock == nil {
		return epochDate
	}
	t := clock.Now()
	if d := lastDate.Load(); d != nil && d.sec == t.Unix() {
		return d
	}
	d := newDateHeader(t)
	lastDate.Store(d)
	return d
}

// emptyResult is the result of an Event (202) or DryRun (204) invocation,
// whose response has no body. (Its exact shape on AWS is not recorded
// here: the headers are those of the synchronous result that still apply.)
func emptyResult(reqID string, date *dateHeader, status float64) map[string]any {
	return map[string]any{
		"Payload": "",
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": map[string]any{
				"Connection":       allHeaderConnection,
				"x-amzn-RequestId": []any{reqID},
				"Content-Length":   []any{"0"},
				"Date":             date.list,
			},
			"HttpHeaders": map[string]any{
				"Connection":       "keep-alive",
				"Content-Length":   "0",
				"Date":             date.text,
				"x-amzn-RequestId": reqID,
			},
			"HttpStatusCode": status,
		},
		"SdkResponseMetadata": map[string]any{"RequestId": reqID},
		"StatusCode":          status,
	}
}

// LambdaFunction returns the handler for plain function ARNs: the task
// input is the payload and the result is the function's result.
func LambdaFunction(inv Invoker) TaskHandler {
	return func(ctx context.Context, req TaskRequest) (any, error) {
		out, _, err := invoke(ctx, inv, Invocation{FunctionName: req.Resource, RequestID: asl.NewUUID()}, req.Input)
		return out, err
	}
}

// invoke makes the call with payload and returns the function's result
// and the size of its response in bytes.
func invoke(ctx context.Context, inv Invoker, call Invocation, payload any) (any, int, error) {
	name := call.FunctionName
	b, err := asl.Marshal(payload)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: lambda %s: encode payload: %w", name, err)
	}
	call.Payload = b
	out, err := inv(ctx, call)
	if call.Type == InvokeEvent || call.Type == InvokeDryRun {
		var fe *FunctionError
		if err == nil || errors.As(err, &fe) {
			return nil, 0, nil // no function result, nor function error, reaches the caller
		}
	}
	if err != nil {
		var fe *FunctionError
		if errors.As(err, &fe) {
			cause, _ := json.Marshal(lambdaerr.Response{ErrorMessage: fe.Message, ErrorType: fe.Type, StackTrace: fe.StackTrace})
			return nil, 0, &TaskError{Name: fe.Type, Cause: string(cause)}
		}
		var te *TaskError
		if errors.As(err, &te) {
			return nil, 0, te
		}
		return nil, 0, &TaskError{Name: "Lambda.ServiceException", Cause: err.Error()}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, len(out), nil
	}
	v, err := asl.ParseJSON(out)
	if err != nil {
		return nil, 0, &TaskError{Name: "Lambda.InvalidResponseException", Cause: fmt.Sprintf("the function %s returned invalid JSON", name)}
	}
	return v, len(out), nil
}
