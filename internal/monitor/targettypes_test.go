package monitor

import (
	"reflect"
	"slices"
	"testing"
)

// TestOtherTargetFields: a field two target types share applies to both
// (a new type may reuse requestTimeoutSeconds) and is reported once to a
// third that does not take it, and the message lists a type's own fields
// whatever their number. The types here stand in for a type being added;
// targetFields is restored after.
func TestOtherTargetFields(t *testing.T) {
	saved, savedTypes := targetFields, targetTypes
	t.Cleanup(func() { targetFields, targetTypes = saved, savedTypes })
	targetFields = map[string][]string{
		"http":  {"url", "requestTimeoutSeconds"},
		"tcp":   {"address", "requestTimeoutSeconds"},
		"ping":  {"host"},
		"empty": nil,
	}
	targetTypes = []string{"empty", "http", "ping", "tcp"}
	given := func(fields ...string) func(string) bool {
		return func(f string) bool { return slices.Contains(fields, f) }
	}
	for _, tt := range []struct {
		typ   string
		given []string
		want  []FieldError
	}{
		{"tcp", []string{"target.address", "target.requestTimeoutSeconds"}, nil},
		{"tcp", []string{"target.address", "target.url"}, []FieldError{
			{"target.url", "does not apply to a tcp target, which takes only address and requestTimeoutSeconds"}}},
		{"ping", []string{"target.url"}, []FieldError{
			{"target.url", "does not apply to a ping target, which takes only host"}}},
		{"empty", []string{"target.host"}, []FieldError{
			{"target.host", "does not apply to an empty target, which takes no other field"}}},
		// A field two other types share is reported once.
		{"ping", []string{"target.requestTimeoutSeconds"}, []FieldError{
			{"target.requestTimeoutSeconds", "does not apply to a ping target, which takes only host"}}},
	} {
		var v validator
		otherTargetFields(&v, tt.typ, given(tt.given...))
		if !reflect.DeepEqual(v.fields, tt.want) {
			t.Errorf("%s target given %v: %v, want %v", tt.typ, tt.given, v.fields, tt.want)
		}
	}
}

func TestListed(t *testing.T) {
	for _, tt := range []struct {
		items []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a or b"},
		{[]string{"a", "b", "c"}, "a, b or c"},
	} {
		if got := listed(tt.items, "or"); got != tt.want {
			t.Errorf("listed(%q) = %q, want %q", tt.items, got, tt.want)
		}
	}
}

// TestTargetTypesAndChannels: the lists wiring tests compare checkers
// and senders with are the types a start accepts and the channels
// ChannelOf returns, and callers cannot change them.
func TestTargetTypesAndChannels(t *testing.T) {
	if got, want := TargetTypes(), []string{TargetGitHub, TargetHTTP, TargetSimulated}; !reflect.DeepEqual(got, want) {
		t.Errorf("TargetTypes() = %v, want %v", got, want)
	}
	first := TargetTypes()[0]
	TargetTypes()[0] = "changed"
	if TargetTypes()[0] != first {
		t.Error("TargetTypes returned the package's own slice")
	}
	got := map[string]bool{}
	for _, a := range []Alert{{WebhookURL: "https://x.example"}, {Phone: "+1", Channel: ChannelTwilio}, {Phone: "+1"}, {TopicArn: "arn:t"}} {
		got[a.ChannelOf()] = true
	}
	for _, c := range Channels() {
		if !got[c] {
			t.Errorf("Channels() has %q, which ChannelOf never returns", c)
		}
		delete(got, c)
	}
	if len(got) > 0 {
		t.Errorf("ChannelOf returns %v, which Channels() lacks", got)
	}
}
