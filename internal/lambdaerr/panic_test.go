package lambdaerr_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/stepmon/stepmon/internal/lambdaerr"
)

// panicsAt panics depth calls below it and returns FromPanic's response,
// made in a deferred recover as a handler's invoker makes it.
func panicsAt(depth int) (resp lambdaerr.Response) {
	defer func() {
		if p := recover(); p != nil {
			resp = lambdaerr.FromPanic(p)
		}
	}()
	descend(depth)
	return resp
}

func descend(n int) {
	if n == 0 {
		panic("deep")
	}
	descend(n - 1)
}

// A panic's stack starts at the function that recovered it, then the
// panic, as aws-lambda-go's does (which hides its own frames), and holds
// at most 32 frames.
func TestFromPanicStack(t *testing.T) {
	shallow := panicsAt(2)
	if shallow.ErrorMessage != "deep" || shallow.ErrorType != "string" {
		t.Errorf("FromPanic = %s / %s, want deep / string", shallow.ErrorMessage, shallow.ErrorType)
	}
	var labels []string
	for _, f := range shallow.StackTrace {
		labels = append(labels, f.Label)
	}
	if len(labels) < 6 || labels[0] != "panicsAt.func1" || labels[1] != "gopanic" ||
		labels[2] != "descend" || labels[4] != "descend" || labels[5] != "panicsAt" {
		t.Errorf("the stack's labels = %q, want panicsAt.func1, gopanic, descend ×3, panicsAt, ...", labels)
	}
	if deep := panicsAt(100); len(deep.StackTrace) != 32 {
		t.Errorf("a panic 100 calls deep has %d frames, want 32", len(deep.StackTrace))
	}
}

// An InvokeResponse_Error's stack passes through without its nil frames.
func TestFromErrorStack(t *testing.T) {
	ie := messages.InvokeResponse_Error{Type: "T", Message: "m",
		StackTrace: []*messages.InvokeResponse_Error_StackFrame{nil, {Path: "a/b.go", Line: 3, Label: "f"}, nil}}
	got := lambdaerr.FromError(ie)
	want := lambdaerr.Response{ErrorType: "T", ErrorMessage: "m", StackTrace: []lambdaerr.StackFrame{{Path: "a/b.go", Line: 3, Label: "f"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromError = %+v, want %+v", got, want)
	}
}
