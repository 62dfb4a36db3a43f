package stepmon

import (
	_ "embed"
	"strings"
)

// Definition is statemachine.asl.json, the monitor workflow in Amazon States
// Language, with ${...} placeholders for the functions' ARNs.
//
//go:embed statemachine.asl.json
var Definition string

// Placeholders the definition uses; the CDK stack and the local runtime
// substitute them.
const (
	CheckFunctionPlaceholder  = "CheckFunctionArn"
	AlertFunctionPlaceholder  = "AlertFunctionArn"
	StatusFunctionPlaceholder = "StatusFunctionArn"
)

// Substitute replaces every ${Name} in def with vars[Name], like Step
// Functions' definition substitutions. Names not in vars are left as they
// are.
func Substitute(def string, vars map[string]string) string {
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "${"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(def)
}
