package lambdaerr

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Name returns the errorType aws-lambda-go reports for err ("" for nil).
func Name(err error) string {
	if err == nil {
		return ""
	}
	return typeName(err)
}

// typeName names a value after its Go type, the element type's name for a
// pointer, as aws-lambda-go names returned errors and panic values.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// Response is the JSON body of a failed invocation, as the Lambda service
// returns it and Step Functions puts it in a task failure's Cause.
// StackTrace is set for a panic only.
type Response struct {
	ErrorMessage string       `json:"errorMessage"`
	ErrorType    string       `json:"errorType"`
	StackTrace   []StackFrame `json:"stackTrace,omitempty"`
}

// StackFrame is one frame of a panic's stack trace in a Response: the
// source file from its module or import path on, the line, and the
// function without its package.
type StackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

// maxFrames is how many frames of a panic's stack a Response holds, as
// many as aws-lambda-go reports.
const maxFrames = 32

// FromError returns the Response aws-lambda-go reports for a handler that
// returned err: a messages.InvokeResponse_Error (the value, not a pointer
// or a wrapped one) as it is, so its Type is the errorType; any other
// error by its message and Name.
func FromError(err error) Response {
	if ie, ok := err.(messages.InvokeResponse_Error); ok {
		return fromInvokeError(ie)
	}
	return Response{ErrorMessage: err.Error(), ErrorType: Name(err)}
}

// FromPanic returns the Response aws-lambda-go reports for a handler that
// panicked with p: a messages.InvokeResponse_Error as it is; otherwise the
// panic value as the message, its type's name as the errorType, and the
// stack of the panicking goroutine. Call it from the deferred function
// that recovered p: the trace starts at that function, then the runtime's
// panic and the function that panicked.
func FromPanic(p any) Response {
	if ie, ok := p.(messages.InvokeResponse_Error); ok {
		return fromInvokeError(ie)
	}
	pcs := make([]uintptr, maxFrames)
	// Skip runtime.Callers and FromPanic.
	pcs = pcs[:runtime.Callers(2, pcs)]
	var stack []StackFrame
	frames := runtime.CallersFrames(pcs)
	for more := len(pcs) > 0; more; {
		var f runtime.Frame
		f, more = frames.Next()
		stack = append(stack, stackFrame(f))
	}
	return Response{ErrorMessage: fmt.Sprint(p), ErrorType: typeName(p), StackTrace: stack}
}

// stackFrame formats f as aws-lambda-go does: the file path keeps as many
// trailing elements as the function's import path has, plus the file's
// own (so no GOPATH or module cache directory), and the label drops the
// import path and the package name.
func stackFrame(f runtime.Frame) StackFrame {
	path := f.File
	cut := len(path)
	for range strings.Count(f.Function, "/") + 2 {
		cut = strings.LastIndex(path[:cut], "/")
		if cut < 0 {
			break
		}
	}
	path = path[cut+1:]
	label := f.Function[strings.LastIndex(f.Function, "/")+1:]
	label = label[strings.Index(label, ".")+1:]
	return StackFrame{Path: path, Line: int32(f.Line), Label: label}
}

// fromInvokeError is the Response of a handler's own
// messages.InvokeResponse_Error.
func fromInvokeError(ie messages.InvokeResponse_Error) Response {
	r := Response{ErrorMessage: ie.Message, ErrorType: ie.Type}
	for _, f := range ie.StackTrace {
		if f != nil {
			r.StackTrace = append(r.StackTrace, StackFrame{Path: f.Path, Line: f.Line, Label: f.Label})
		}
	}
	return r
}
