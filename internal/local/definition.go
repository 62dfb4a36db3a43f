package local

import (
	"strings"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
)

// invokesCheck reports whether a Task state of m, or of a Parallel branch
// or Map item processor in it, invokes the check function: through
// lambda:invoke with a FunctionName (Parameters, or JSONata Arguments)
// that names it, or with its function ARN as the Resource. Names are
// compared as Lambda resolves them (a full or partial ARN, a qualifier),
// after JSON decoding; a name computed at run time does not count.
func invokesCheck(m *asl.Machine) bool {
	return m.Any(func(st asl.State) bool {
		s, ok := st.(*asl.TaskState)
		return ok && taskInvokes(s, CheckFunction)
	})
}

// taskInvokes reports whether the Task state s invokes the Lambda
// function named function.
func taskInvokes(s *asl.TaskState, function string) bool {
	if strings.HasPrefix(s.Resource, "arn:aws:lambda:") {
		return lambdainvoke.FunctionName(s.Resource) == function
	}
	if s.Resource != engine.LambdaInvokeResource {
		return false
	}
	args := s.Parameters
	if s.JSONata() {
		args = s.Arguments
	}
	name, ok := args.LiteralString("FunctionName")
	return ok && lambdainvoke.FunctionName(name) == function
}
