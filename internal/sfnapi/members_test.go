package sfnapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDropMiscasedShapes: the members dropMiscased keeps are named as
// encoding/json names them: an untagged field after the field, a
// tagged embedded struct as one member of the tag's name, an untagged
// embedded struct by its own members. A member named like one of them
// in another letter case is dropped; the exact names are kept.
func TestDropMiscasedShapes(t *testing.T) {
	type Embedded struct {
		Inner string `json:"inner"`
	}
	type Tagged struct {
		Value string `json:"value"`
	}
	type shape struct {
		Embedded
		Tagged `json:"tagged"`
		Plain  string
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"exact names", `{"inner":"i","tagged":{"value":"v"},"Plain":"p"}`, `{"inner":"i","tagged":{"value":"v"},"Plain":"p"}`},
		{"an untagged field in another case", `{"plain":"p","Plain":"q"}`, `{"Plain":"q"}`},
		{"a tagged embedded struct in another case", `{"TAGGED":{"value":"v"},"inner":"i"}`, `{"inner":"i"}`},
		{"a member of an untagged embedded struct in another case", `{"Inner":"i","Plain":"p"}`, `{"Plain":"p"}`},
		{"a member of a tagged embedded struct in another case", `{"tagged":{"VALUE":"v"}}`, `{"tagged":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := dropMiscased([]byte(tc.in), reflect.TypeFor[shape]())
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("dropMiscased = %s: %v", out, err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("dropMiscased(%s) = %s, want %s", tc.in, out, tc.want)
			}
		})
	}
}
