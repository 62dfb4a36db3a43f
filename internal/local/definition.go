package local

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stepmon/stepmon"
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
	name, ok := taskFunction(s)
	return ok && lambdainvoke.FunctionName(name) == function
}

// DefinitionError is New's error for a definition, valid ASL, that names
// what the local runtime cannot run: a ${...} placeholder left after the
// runtime's substitution, or a Lambda function other than the runtime's
// own. Such a state would fail only when a monitor reached it. A
// placeholder left where ASL wants an ARN (a Task's Resource) makes the
// definition invalid too: the error then names the placeholders only.
type DefinitionError struct {
	// Problems are one line each, naming the state.
	Problems []string
}

func (e *DefinitionError) Error() string {
	return "local: the definition cannot run here: " + strings.Join(e.Problems, "; ")
}

// localFunctions are the Lambda functions the local runtime registers.
var localFunctions = []string{StartFunction, CheckFunction, AlertFunction, StatusFunction}

// placeholderRe matches a ${Name} placeholder.
var placeholderRe = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// unrunnable returns the problems (see DefinitionError) of def, a
// definition after substituteDefinition, which parsed as m; nil when
// there are none.
func unrunnable(def string, m *asl.Machine) []string {
	return append(leftPlaceholdersIn(def), foreignFunctions(m, "")...)
}

// leftPlaceholdersIn returns the problems of the ${...} placeholders
// left in def (see leftPlaceholders), also when def is not valid ASL.
func leftPlaceholdersIn(def string) []string {
	var raw map[string]any
	if json.Unmarshal([]byte(def), &raw) != nil {
		return nil
	}
	return leftPlaceholders(raw, "")
}

// leftPlaceholders returns a problem for each state of the machine
// machine (raw JSON: the top level, a branch or an item processor),
// whose states' names start with prefix, that holds a ${...}
// placeholder anywhere but in a Comment, and for those of the machines
// in it.
func leftPlaceholders(machine map[string]any, prefix string) []string {
	states, _ := machine["States"].(map[string]any)
	var problems []string
	for _, name := range sortedKeys(states) {
		st, _ := states[name].(map[string]any)
		var found []string
		for k, v := range st {
			switch k {
			case "Comment":
			case "Branches":
				branches, _ := v.([]any)
				for _, b := range branches {
					if b, ok := b.(map[string]any); ok {
						problems = append(problems, leftPlaceholders(b, prefix+name+" > ")...)
					}
				}
			case "ItemProcessor", "Iterator":
				if p, ok := v.(map[string]any); ok {
					problems = append(problems, leftPlaceholders(p, prefix+name+" > ")...)
				}
			default:
				found = append(found, placeholdersIn(v)...)
			}
		}
		slices.Sort(found)
		for _, ph := range slices.Compact(found) {
			problems = append(problems, fmt.Sprintf("state %q: %s is not a placeholder this runtime fills (${%s}, ${%s}, ${%s})",
				prefix+name, ph, stepmon.CheckFunctionPlaceholder, stepmon.AlertFunctionPlaceholder, stepmon.StatusFunctionPlaceholder))
		}
	}
	return problems
}

// placeholdersIn returns the ${...} placeholders in the strings (keys
// and values) of v, a decoded JSON value.
func placeholdersIn(v any) []string {
	switch v := v.(type) {
	case string:
		return placeholderRe.FindAllString(v, -1)
	case []any:
		var found []string
		for _, e := range v {
			found = append(found, placeholdersIn(e)...)
		}
		return found
	case map[string]any:
		var found []string
		for k, e := range v {
			found = append(found, placeholderRe.FindAllString(k, -1)...)
			found = append(found, placeholdersIn(e)...)
		}
		return found
	}
	return nil
}

// foreignFunctions returns a problem for each Task state of m, whose
// states' names start with prefix, or of the machines in it, that
// invokes a Lambda function by a name known before it runs (see
// taskFunction) that is not one of localFunctions.
func foreignFunctions(m *asl.Machine, prefix string) []string {
	var problems []string
	for _, name := range sortedKeys(m.States) {
		switch s := m.States[name].(type) {
		case *asl.TaskState:
			if f, ok := taskFunction(s); ok && !slices.Contains(localFunctions, lambdainvoke.FunctionName(f)) && !placeholderRe.MatchString(f) {
				problems = append(problems, fmt.Sprintf("state %q: Lambda function %s is not one of this runtime's (%s)",
					prefix+name, f, strings.Join(localFunctions, ", ")))
			}
		case *asl.ParallelState:
			for _, b := range s.Branches {
				problems = append(problems, foreignFunctions(b, prefix+name+" > ")...)
			}
		case *asl.MapState:
			if s.Processor != nil {
				problems = append(problems, foreignFunctions(s.Processor, prefix+name+" > ")...)
			}
		}
	}
	return problems
}

// taskFunction returns the Lambda function the Task state s invokes, as
// the definition names it: its Resource when that is a function ARN, or
// the literal FunctionName of a lambda:invoke. ok is false for another
// service, or a name computed at run time.
func taskFunction(s *asl.TaskState) (name string, ok bool) {
	if strings.HasPrefix(s.Resource, "arn:aws:lambda:") {
		return s.Resource, true
	}
	if s.Resource != engine.LambdaInvokeResource {
		return "", false
	}
	args := s.Parameters
	if s.JSONata() {
		args = s.Arguments
	}
	return args.LiteralString("FunctionName")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
