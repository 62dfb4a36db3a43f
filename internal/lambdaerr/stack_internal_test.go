package lambdaerr

import (
	"runtime"
	"testing"
)

// A frame's path keeps the function's import path on, and its label
// drops the import path and the package, as in aws-lambda-go's panic
// responses.
func TestStackFrame(t *testing.T) {
	tests := []struct {
		name string
		in   runtime.Frame
		want StackFrame
	}{
		{"module cache",
			runtime.Frame{File: "/root/go/pkg/mod/github.com/aws/aws-lambda-go@v1.55.1/lambda/errors.go", Line: 39,
				Function: "github.com/aws/aws-lambda-go/lambda.lambdaPanicResponse"},
			StackFrame{Path: "github.com/aws/aws-lambda-go@v1.55.1/lambda/errors.go", Line: 39, Label: "lambdaPanicResponse"}},
		{"method", runtime.Frame{File: "/build/src/example.com/app/svc/svc.go", Line: 7, Function: "example.com/app/svc.(*Tasks).Check.func1"},
			StackFrame{Path: "example.com/app/svc/svc.go", Line: 7, Label: "(*Tasks).Check.func1"}},
		{"standard library", runtime.Frame{File: "/usr/local/go/src/runtime/panic.go", Line: 783, Function: "runtime.gopanic"},
			StackFrame{Path: "runtime/panic.go", Line: 783, Label: "gopanic"}},
		{"shorter path than expected: kept whole", runtime.Frame{File: "/x/main.go", Line: 1, Function: "a/b/c/d.main"},
			StackFrame{Path: "/x/main.go", Line: 1, Label: "main"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stackFrame(tt.in); got != tt.want {
				t.Errorf("stackFrame() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
