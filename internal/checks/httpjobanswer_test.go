package checks

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// decodeAnswer's key order and duplicate keys agree with a decoding by
// json.Decoder.Token, which reads every key in turn.
func TestDecodeAnswerKeysAgreeWithTokens(t *testing.T) {
	for _, body := range []string{
		`{"b":1,"a":2,"c":{"z":[1,{"y":1,"x":2}],"y":null}}`,
		` { "s" : "Running" , "s" : "Completed" , "t" : [ ] , "u" : { } } `,
		`{"job":{"state":"Running","x":1},"job":{"state":"Completed","x":2,"state":"Failed"}}`,
		`{"a\"b":1,"a\\b":2,"\u00e9":3,"é":4,"x}":"{,]\"","\ud83d\ude00":[true,false,null,-1.5e+3]}`,
		"{\"\xff\":1,\"\xfe\":2,\"ok\":3}",
		`[{"k":1,"k":2},{"k":3},[],{},"",0]`,
		`"just a string"`, `12`, `[]`, `{}`,
	} {
		t.Run(body, func(t *testing.T) {
			got, err := decodeAnswer([]byte(body))
			if err != nil {
				t.Fatalf("decodeAnswer: %v", err)
			}
			want := decodeByTokens(t, body)
			if got.weight != want.weight || got.dups != want.dups {
				t.Errorf("weight %d, dups %v; want %d, %v", got.weight, got.dups, want.weight, want.dups)
			}
			compareKeys(t, "$", got, got.doc, want, want.doc)
		})
	}
}

func compareKeys(t *testing.T, at string, got *jobAnswer, g any, want *jobAnswer, w any) {
	t.Helper()
	switch w := w.(type) {
	case map[string]any:
		g, _ := g.(map[string]any)
		gk, wk := got.objects[mapID(g)], want.objects[mapID(w)]
		if fmt.Sprint(gk != nil && gk.keys != nil, keysOf(gk)) != fmt.Sprint(wk != nil && wk.keys != nil, keysOf(wk)) {
			t.Errorf("%s: keys %v; want %v", at, keysOf(gk), keysOf(wk))
		}
		for k, v := range w {
			compareKeys(t, at+"."+k, got, g[k], want, v)
		}
	case []any:
		g, _ := g.([]any)
		for i, v := range w {
			compareKeys(t, fmt.Sprintf("%s[%d]", at, i), got, g[i], want, v)
		}
	}
}

func keysOf(k *objectKeys) string {
	if k == nil {
		return "none"
	}
	return fmt.Sprintf("%q dups %q", k.keys, slices.Sorted(maps.Keys(k.dups)))
}

// decodeByTokens decodes body by json.Decoder.Token, recording each
// object of more than one key.
func decodeByTokens(t testing.TB, body string) *jobAnswer {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	a := &jobAnswer{objects: map[objectID]*objectKeys{}}
	var value func(depth int) any
	value = func(depth int) any {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		a.weight += depth
		switch tok {
		case json.Delim('['):
			arr := []any{}
			for dec.More() {
				arr = append(arr, value(depth+1))
			}
			dec.Token()
			return arr
		case json.Delim('{'):
			obj := map[string]any{}
			keys := &objectKeys{}
			n := 0
			for dec.More() {
				tok, _ := dec.Token()
				k := tok.(string)
				n++
				v := value(depth + 1)
				if _, seen := obj[k]; seen {
					if keys.dups == nil {
						keys.dups = map[string]bool{}
					}
					keys.dups[k] = true
					a.dups = true
				} else {
					keys.keys = append(keys.keys, k)
				}
				obj[k] = v
			}
			dec.Token()
			if n > 1 {
				a.objects[mapID(obj)] = keys
			}
			return obj
		}
		return tok
	}
	a.doc = value(0)
	return a
}

// FuzzDecodeAnswer checks that decodeAnswer reads any JSON text without a
// panic, as a decoding by tokens reads it.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":{"b":[2,{"c":3,"d":4}]}}`, `[{"\u0061":1,"a":2}]`, " {\"é\" :\t\"x\\\"y\"}\n", `1e5`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := decodeAnswer([]byte(body))
		if err != nil {
			return
		}
		want := decodeByTokens(t, body)
		if got.weight != want.weight || got.dups != want.dups {
			t.Errorf("weight %d, dups %v; want %d, %v", got.weight, got.dups, want.weight, want.dups)
		}
		compareKeys(t, "$", got, got.doc, want, want.doc)
	})
}
