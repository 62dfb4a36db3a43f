package sfnapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/stepmon/stepmon/internal/asl"
)

// activityArnRE is the shape of an activity ARN, a Task state's
// Resource that an activity worker serves.
var activityArnRE = regexp.MustCompile(`^arn:[^:]+:states:[^:]*:[^:]*:activity:`)

// expressProblems returns what AWS refuses in the definition of an
// EXPRESS state machine, which runs for at most five minutes and keeps no
// history to wait on: Task states whose Resource waits for a job (.sync,
// .sync:2) or a task token (.waitForTaskToken), or is an activity, in the
// top level or in any Parallel branch or Map item processor. The messages
// and paths are AWS's (the '.waitForTaskToken' one has two spaces before
// "at", as AWS's has); nil when there is none.
func expressProblems(m *asl.Machine) asl.ValidationErrors {
	var errs asl.ValidationErrors
	walkExpress(m, "", &errs)
	return errs
}

func walkExpress(m *asl.Machine, path string, errs *asl.ValidationErrors) {
	for _, name := range slices.Sorted(maps.Keys(m.States)) {
		at := path + "/States/" + name
		switch s := m.States[name].(type) {
		case *asl.TaskState:
			if msg := expressResourceProblem(s.Resource); msg != "" {
				*errs = append(*errs, &asl.ValidationError{Path: at + "/Resource", Message: msg})
			}
		case *asl.ParallelState:
			for i, b := range s.Branches {
				walkExpress(b, fmt.Sprintf("%s/Branches/%d", at, i), errs)
			}
		case *asl.MapState:
			if s.Processor != nil {
				walkExpress(s.Processor, at+"/ItemProcessor", errs)
			}
		}
	}
}

// expressResourceProblem returns AWS's message for a Task resource an
// EXPRESS machine cannot call, "" when it can.
func expressResourceProblem(resource string) string {
	switch {
	case activityArnRE.MatchString(resource):
		return "SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN"
	case strings.HasSuffix(resource, ".sync"), strings.HasSuffix(resource, ".sync:2"):
		return "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration"
	case strings.HasSuffix(resource, ".waitForTaskToken"):
		return "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration "
	}
	return ""
}
