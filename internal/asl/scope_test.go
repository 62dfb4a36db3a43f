package asl

import (
	"fmt"
	"strings"
	"testing"
)

// textOfSize returns a string whose JSON text takes n bytes.
func textOfSize(n int) string { return strings.Repeat("x", n-2) }

func wantLimitError(t *testing.T, err *Error, quota string) {
	t.Helper()
	if err == nil || err.Name != ErrDataLimitExceeded || !strings.Contains(err.Cause, quota) {
		t.Errorf("Assign error = %v, want %s naming %q", err, ErrDataLimitExceeded, quota)
	}
}

// fill assigns n variables v0, v1, ... of MaxVariableSize bytes each, one
// Assign each.
func fill(t *testing.T, v *Vars, prefix string, n int) {
	t.Helper()
	full := textOfSize(MaxVariableSize)
	for i := range n {
		if err := v.Assign("Fill", map[string]any{fmt.Sprintf("%s%d", prefix, i): full}); err != nil {
			t.Fatalf("Assign %s%d: %v", prefix, i, err)
		}
	}
}

// Vars.Assign holds variables to AWS's quotas, in bytes of JSON text,
// each one up to and including its limit.
func TestVarsAssignQuotas(t *testing.T) {
	perExecution := MaxVariablesSize / MaxVariableSize // 40 variables of the largest size fill an execution
	t.Run("one variable", func(t *testing.T) {
		v := NewVars(nil)
		if err := v.Assign("S", map[string]any{"a": textOfSize(MaxVariableSize)}); err != nil {
			t.Errorf("a variable of %d bytes: %v", MaxVariableSize, err)
		}
		wantLimitError(t, v.Assign("S", map[string]any{"b": textOfSize(MaxVariableSize + 1)}), "for a variable")
		if _, ok := v.Lookup("b"); ok {
			t.Error("the variable over the quota was set")
		}
	})
	t.Run("one Assign", func(t *testing.T) {
		v := NewVars(nil)
		half := textOfSize(MaxAssignSize / 2)
		if err := v.Assign("S", map[string]any{"a": half, "b": half}); err != nil {
			t.Errorf("an Assign of %d bytes: %v", MaxAssignSize, err)
		}
		wantLimitError(t, v.Assign("S", map[string]any{"c": half, "d": textOfSize(MaxAssignSize/2 + 1)}), "for the values of one Assign")
		if _, ok := v.Lookup("c"); ok {
			t.Error("a variable of the Assign over the quota was set")
		}
	})
	t.Run("execution", func(t *testing.T) {
		v := NewVars(nil)
		fill(t, v, "v", perExecution)
		wantLimitError(t, v.Assign("S", map[string]any{"one": 1.0}), "variables of the execution")
		if _, ok := v.Lookup("one"); ok {
			t.Error("the variable over the quota was set")
		}
		// A variable assigned again counts its new value instead of its old one.
		if err := v.Assign("S", map[string]any{"v0": textOfSize(MaxVariableSize)}); err != nil {
			t.Errorf("assigning v0 again, of the same size: %v", err)
		}
		if err := v.Assign("S", map[string]any{"v1": 1.0}); err != nil {
			t.Errorf("assigning v1 again, smaller: %v", err)
		}
		// A failed Assign leaves the count as it was.
		if err := v.Assign("S", map[string]any{"one": textOfSize(MaxVariableSize)}); err == nil {
			t.Fatal("an Assign past the quota succeeded")
		}
		if err := v.Assign("S", map[string]any{"one": textOfSize(MaxVariableSize - 1)}); err != nil {
			t.Errorf("an Assign that fits after a failed one: %v", err)
		}
	})
	t.Run("variables held before the first Assign", func(t *testing.T) {
		m := map[string]any{}
		for i := range perExecution {
			m[fmt.Sprintf("v%d", i)] = textOfSize(MaxVariableSize)
		}
		v := NewVars(m)
		wantLimitError(t, v.Assign("S", map[string]any{"one": 1.0}), "variables of the execution")
	})
	t.Run("inner scopes", func(t *testing.T) {
		root := NewVars(nil)
		fill(t, root, "v", perExecution-1)
		a, b := root.Child(), root.Child()
		fill(t, a, "a", 1)
		wantLimitError(t, b.Assign("S", map[string]any{"one": 1.0}), "variables of the execution")
		a.Release()
		if err := b.Assign("S", map[string]any{"one": 1.0}); err != nil {
			t.Errorf("an inner scope's Assign after another one was released: %v", err)
		}
		root.Release() // a root scope is never released
		wantLimitError(t, root.Assign("S", map[string]any{"w": textOfSize(MaxVariableSize)}), "variables of the execution")
	})
}

// An inner scope reads its outer scopes' variables; its own win.
func TestVarsLookup(t *testing.T) {
	root := NewVars(map[string]any{"x": "outer", "y": "outer"})
	inner := root.Child()
	if err := inner.Assign("S", map[string]any{"x": "inner"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, want string }{{"x", "inner"}, {"y", "outer"}} {
		if got, ok := inner.Lookup(tt.name); !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %v, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
	if _, ok := inner.Lookup("z"); ok {
		t.Error("Lookup(\"z\") found an undefined variable")
	}
	if got, want := Text(inner.All()), `{"x":"inner","y":"outer"}`; got != want {
		t.Errorf("All() = %s, want %s", got, want)
	}
	if got, want := Text(root.All()), `{"x":"outer","y":"outer"}`; got != want {
		t.Errorf("root All() = %s, want %s", got, want)
	}
}
