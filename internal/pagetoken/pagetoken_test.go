package pagetoken

import (
	"strings"
	"testing"
)

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

// respell returns token with the last character of its part before the
// '.' changed in the bits base64 leaves unused: the same bytes under a
// lenient decoder, another spelling.
func respell(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(token, '.')
	last := strings.IndexByte(alphabet, token[i-1])
	return token[:i-1] + string(alphabet[last^1]) + token[i:]
}

// TestOpenRefusesForgeries: a token opens only as Seal spelled it, for
// the scope it was sealed for: not in another spelling of the same
// bytes, not with bytes moved from the inner token to the scope, not
// with an empty inner token even under its own MAC. The MAC part is 128
// bits.
func TestOpenRefusesForgeries(t *testing.T) {
	s := New([]byte("k"))
	scope := Scope("GetExecutionHistory", "arn:x", "false")
	// Four bytes spell as six characters, four bits unused.
	tok := s.Seal(scope, "h.25")
	if _, ok := s.Open(scope, tok); !ok {
		t.Fatalf("Open(Seal) refused")
	}
	_, sig, _ := strings.Cut(tok, ".")
	if mac, err := enc.DecodeString(sig); err != nil || len(mac) != 16 {
		t.Errorf("MAC part %q decodes to %d bytes, %v; want 16", sig, len(mac), err)
	}
	// Sealed for scope "ab" and inner "cd"; presented for "abc" and "d".
	_, movedSig, _ := strings.Cut(s.Seal("ab", "cd"), ".")
	for name, bad := range map[string]struct{ scope, token string }{
		"respelled":            {scope, respell(tok)},
		"inner moved to scope": {"abc", enc.EncodeToString([]byte("d")) + "." + movedSig},
		"empty inner, own MAC": {scope, "." + enc.EncodeToString(s.mac(scope, ""))},
	} {
		if got, ok := s.Open(bad.scope, bad.token); ok {
			t.Errorf("%s: Open = %q, true; want refused", name, got)
		}
	}
}

// TestRoundTrip: every inner token but "" opens as it was sealed, one
// byte long too; a token of one random Sealer does not open with
// another, as one process's tokens do not after a restart.
func TestRoundTrip(t *testing.T) {
	s := NewRandom()
	scope := Scope("ListStateMachines")
	for _, inner := range []string{"7", "m:12", strings.Repeat("x", 300)} {
		if got, ok := s.Open(scope, s.Seal(scope, inner)); !ok || got != inner {
			t.Errorf("Open(Seal(%q)) = %q, %v", inner, got, ok)
		}
	}
	if got, ok := NewRandom().Open(scope, s.Seal(scope, "m:12")); ok {
		t.Errorf("another Sealer opened the token: %q", got)
	}
}
