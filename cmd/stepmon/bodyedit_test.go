package main

import "testing"

// TestEditMembers sets members of JSON objects: the rest of the text stays
// as it is, byte for byte, and a key given more than once is changed
// everywhere it stands.
func TestEditMembers(t *testing.T) {
	tests := []struct {
		name, obj string
		key, val  string
		want      string
	}{
		{name: "replace", obj: `{"a":1,"b":{"c":2}}`, key: "a", val: `7`, want: `{"a":7,"b":{"c":2}}`},
		{name: "replace an object", obj: `{"a":1,"b":{"c":2}}`, key: "b", val: `null`, want: `{"a":1,"b":null}`},
		{name: "replace keeps spacing", obj: "{\n  \"a\" : [1, 2],\n  \"b\": \"x\"\n}\n", key: "a", val: `3`, want: "{\n  \"a\" : 3,\n  \"b\": \"x\"\n}\n"},
		{name: "replace every repeat", obj: `{"a":1,"b":2,"a":3}`, key: "a", val: `9`, want: `{"a":9,"b":2,"a":9}`},
		{name: "replace every repeat by a longer value", obj: `{"a":1,"b":2,"a":3}`, key: "a", val: `"long"`, want: `{"a":"long","b":2,"a":"long"}`},
		{name: "replace every repeat by a shorter value", obj: `{"a":[1,2],"b":2,"a":{"c":3}}`, key: "a", val: `0`, want: `{"a":0,"b":2,"a":0}`},
		{name: "escaped key", obj: `{"\u0061":1,"b":2}`, key: "a", val: `5`, want: `{"\u0061":5,"b":2}`},
		{name: "key in a nested object untouched", obj: `{"b":{"a":1}}`, key: "a", val: `2`, want: `{"b":{"a":1},"a":2}`},
		{name: "key in a string untouched", obj: `{"b":"\"a\":1"}`, key: "a", val: `2`, want: `{"b":"\"a\":1","a":2}`},
		{name: "append", obj: "{\"a\":1}\n", key: "z", val: `"v"`, want: "{\"a\":1,\"z\":\"v\"}\n"},
		{name: "append to an empty object", obj: `{ }`, key: "z", val: `1`, want: `{"z":1 }`},
		{name: "append to an object after white space", obj: "\n {}", key: "z", val: `1`, want: "\n {\"z\":1}"},
		{name: "append after the last of members", obj: `{"a":1,"b":[2]}`, key: "z", val: `3`, want: `{"a":1,"b":[2],"z":3}`},
		{name: "append after pretty members", obj: "{\n  \"a\": 1\n}", key: "z", val: `2`, want: "{\n  \"a\": 1,\"z\":2\n}"},
		{name: "not an object", obj: `[1,2]`, key: "a", val: `1`, want: `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setMember([]byte(tt.obj), tt.key, []byte(tt.val)); string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
