package pagetoken

import "testing"

func TestSealOpen(t *testing.T) {
	s := New([]byte("k"))
	scope := Scope("ListExecutions", "arn:x", "RUNNING")
	tok := s.Seal(scope, "h.2")
	if got, ok := s.Open(scope, tok); !ok || got != "h.2" {
		t.Fatalf("Open(Seal) = %q, %v; want h.2", got, ok)
	}
	if s.Seal(scope, "") != "" {
		t.Errorf("Seal of the last page is not empty")
	}
	for name, bad := range map[string]struct{ scope, token string }{
		"other scope": {Scope("ListExecutions", "arn:y", "RUNNING"), tok},
		"other key":   {scope, New([]byte("j")).Seal(scope, "h.2")},
		"edited":      {scope, "aC4z" + tok[4:]},
		"no mac":      {scope, "aC4y"},
		"made up":     {scope, "aC4y.AAAA"},
		"empty":       {scope, ""},
		"empty inner": {scope, "." + tok[len("aC4y."):]},
	} {
		if got, ok := s.Open(bad.scope, bad.token); ok {
			t.Errorf("%s: Open = %q, true; want refused", name, got)
		}
	}
	if Scope("ab", "c") == Scope("a", "bc") {
		t.Errorf("Scope is ambiguous")
	}
}
