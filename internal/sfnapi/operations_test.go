package sfnapi_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
)

// servedOperations are the operations the Handler serves, as the package
// comment and docs/local.md list them; FuzzHandler sends bodies to each.
var servedOperations = []string{"CreateStateMachine", "DescribeStateMachine", "ListStateMachines", "UpdateStateMachine",
	"DeleteStateMachine", "StartExecution", "StartSyncExecution", "DescribeExecution", "StopExecution",
	"GetExecutionHistory", "ListExecutions", "DescribeStateMachineForExecution", "ValidateStateMachineDefinition",
	"ListStateMachineVersions", "TagResource", "UntagResource", "ListTagsForResource"}

// The operations the Handler serves are the ones listed here, in the
// package comment and in docs/local.md: an operation added to the
// dispatch table without them, or listed without being served, fails.
func TestOperationsListedWhereServed(t *testing.T) {
	e := engine.New(engine.Options{Region: region, AccountID: account})
	t.Cleanup(func() { e.Close() })
	served := sfnapi.Operations(sfnapi.NewHandler(sfnapi.NewEngineBackend(e), nil))

	docComment := readFile(t, "doc.go")
	localDoc := readFile(t, "../../docs/local.md")
	for _, tt := range []struct {
		where string
		list  []string
	}{
		{"servedOperations (FuzzHandler)", servedOperations},
		{"the package comment (doc.go)", operationNames(t, docComment, "Handler implements", "validates requests")},
		{"docs/local.md", operationNames(t, localDoc, "validated and answered as AWS does:", "Every other")},
	} {
		got := slices.Sorted(slices.Values(tt.list))
		if !slices.Equal(got, served) {
			t.Errorf("%s lists %v;\nthe handler serves %v", tt.where, got, served)
		}
	}
}

// operationNames returns the operation names (capitalised words of two
// parts or more, such as ListExecutions) in text between the first
// from and the to after it.
func operationNames(t *testing.T, text, from, to string) []string {
	t.Helper()
	_, after, ok := strings.Cut(text, from)
	if !ok {
		t.Fatalf("%q not found", from)
	}
	list, _, ok := strings.Cut(after, to)
	if !ok {
		t.Fatalf("%q not found after %q", to, from)
	}
	return regexp.MustCompile(`\b(?:[A-Z][a-z]+){2,}\b`).FindAllString(strings.ReplaceAll(list, "\n//", ""), -1)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
