package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// placeholder matches a ${Name} definition substitution, as Step Functions'
// DefinitionSubstitutions writes them.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// LoadDefinition reads the state machine definition at path and replaces every
// ${Name} placeholder by values[Name], the way DefinitionSubstitutions does.
//
// The values are usually CDK tokens (a function's ARN), so the result is a
// string that CloudFormation assembles with Fn::Join: the deployed
// DefinitionString then holds the real ARNs, which every CloudFormation
// implementation (AWS, LocalStack, moto) resolves, unlike DefinitionS3Location
// or DefinitionSubstitutions, which moto ignores.
//
// A placeholder without a value, or a file that is not a JSON object, is an
// error, so a renamed substitution fails the synth instead of the first
// execution.
func LoadDefinition(path string, values map[string]string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("infra: state machine definition: %w", err)
	}
	def := string(raw)
	if !json.Valid(raw) || !strings.HasPrefix(strings.TrimSpace(def), "{") {
		return "", fmt.Errorf("infra: state machine definition %s: not a JSON object", path)
	}
	var unknown []string
	for _, m := range placeholder.FindAllStringSubmatch(def, -1) {
		if _, ok := values[m[1]]; !ok {
			unknown = append(unknown, m[0])
		}
	}
	if len(unknown) > 0 {
		return "", fmt.Errorf("infra: state machine definition %s: no value for %s (known: %s)",
			path, strings.Join(unknown, ", "), strings.Join(sortedKeys(values), ", "))
	}
	return placeholder.ReplaceAllStringFunc(def, func(s string) string {
		return values[s[2:len(s)-1]]
	}), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serviceIntegrationPrefix begins every service integration's Resource in a
// definition written for the commercial partition, as statemachine.asl.json
// is (arn:aws:states:::lambda:invoke, arn:aws:states:::states:startExecution).
const serviceIntegrationPrefix = `"arn:aws:states:::`

// InPartition returns def with each service integration's Resource in
// partition (a literal such as "aws-cn", or the stack's AWS::Partition
// token), so that the stack deploys in the China and GovCloud regions too,
// where Step Functions refuses arn:aws:states:::lambda:invoke. Only JSON
// strings that begin with the prefix change; the local runtime keeps
// reading the file as it is.
func InPartition(def, partition string) string {
	return strings.ReplaceAll(def, serviceIntegrationPrefix, `"arn:`+partition+`:states:::`)
}
