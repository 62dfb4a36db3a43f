package stepmon

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type stateDef struct {
	Type        string                  `json:"Type"`
	Next        string                  `json:"Next"`
	End         bool                    `json:"End"`
	Default     string                  `json:"Default"`
	Choices     []json.RawMessage       `json:"Choices"`
	Catch       []struct{ Next string } `json:"Catch"`
	Resource    string                  `json:"Resource"`
	SecondsPath string                  `json:"SecondsPath"`
}

type machineDef struct {
	StartAt string              `json:"StartAt"`
	States  map[string]stateDef `json:"States"`
}

func parse(t *testing.T) machineDef {
	t.Helper()
	var m machineDef
	if err := json.Unmarshal([]byte(Definition), &m); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	return m
}

// successors returns the states a state can move to.
func successors(t *testing.T, s stateDef) []string {
	t.Helper()
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	for _, c := range s.Choices {
		var rule struct{ Next string }
		if err := json.Unmarshal(c, &rule); err != nil {
			t.Fatal(err)
		}
		out = append(out, rule.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

func TestDefinitionStructure(t *testing.T) {
	m := parse(t)
	if _, ok := m.States[m.StartAt]; !ok {
		t.Fatalf("StartAt %q is not a state", m.StartAt)
	}
	reached := map[string]bool{}
	queue := []string{m.StartAt}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if reached[name] {
			continue
		}
		reached[name] = true
		s, ok := m.States[name]
		if !ok {
			t.Errorf("a transition names state %q, which does not exist", name)
			continue
		}
		terminal := s.Type == "Succeed" || s.Type == "Fail"
		if !terminal && s.Type != "Choice" && s.Next == "" && !s.End {
			t.Errorf("state %q has neither Next nor End", name)
		}
		queue = append(queue, successors(t, s)...)
	}
	for name := range m.States {
		if !reached[name] {
			t.Errorf("state %q is unreachable", name)
		}
	}
}

// A poll costs three state transitions: Check, Evaluate, Wait.
func TestPollLoopIsThreeTransitions(t *testing.T) {
	m := parse(t)
	path := []string{"Check"}
	for cur := m.States["Check"].Next; cur != "Check"; {
		path = append(path, cur)
		s := m.States[cur]
		switch s.Type {
		case "Choice":
			cur = s.Default
		default:
			cur = s.Next
		}
		if len(path) > 10 {
			t.Fatalf("the poll loop does not return to Check: %v", path)
		}
	}
	if want := []string{"Check", "Evaluate", "Wait"}; !slices.Equal(path, want) {
		t.Errorf("poll loop = %v, want %v", path, want)
	}
	if got := m.States["Wait"].SecondsPath; got != "$.check.waitSeconds" {
		t.Errorf("Wait.SecondsPath = %q", got)
	}
}

func TestSubstitutions(t *testing.T) {
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(Definition, -1) {
		names[m[1]] = true
	}
	want := []string{AlertFunctionPlaceholder, CheckFunctionPlaceholder, StatusFunctionPlaceholder}
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("placeholders = %v, want %v", got, want)
	}
	out := Substitute(Definition, map[string]string{
		CheckFunctionPlaceholder:  "arn:check",
		AlertFunctionPlaceholder:  "arn:alert",
		StatusFunctionPlaceholder: "arn:status",
	})
	if strings.Contains(out, "${") {
		t.Errorf("placeholders left after Substitute")
	}
	if !json.Valid([]byte(out)) {
		t.Errorf("substituted definition is not JSON")
	}
}
