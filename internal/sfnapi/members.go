package sfnapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// AWS matches the member names of a request exactly and ignores members
// it does not know, so {"StateMachineArn": ...} is not stateMachineArn
// there: the request fails with "Value null at 'stateMachineArn'".
// encoding/json also accepts a name in any letter case, which would make
// such a request work locally and fail on AWS (a trap for anyone who
// copies PascalCase keys from a state's Parameters). dropMiscased removes
// those members before the request is decoded.

// members maps a struct type to its members: JSON name to field type.
var members sync.Map // reflect.Type -> map[string]reflect.Type

// membersOf returns the JSON members of struct type t, with those of
// embedded structs, as encoding/json sees them.
func membersOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := members.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && !strings.HasPrefix(tag, "-,") {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range membersOf(f.Type) {
				m[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	members.Store(t, m)
	return m
}

// dropMiscased returns raw without the members, at any depth, whose
// names match a member of t only when letter case is ignored, and
// whether it removed any. A body that is not JSON, or not of t's shape,
// is returned as it is, for the decoder to report.
func dropMiscased(raw []byte, t reflect.Type) ([]byte, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return raw, false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return raw, false
		}
		fields := membersOf(t)
		changed := false
		for k, v := range obj {
			if ft, ok := fields[k]; ok {
				if nv, c := dropMiscased(v, ft); c {
					obj[k], changed = nv, true
				}
				continue
			}
			for name := range fields {
				if strings.EqualFold(name, k) {
					delete(obj, k)
					changed = true
					break
				}
			}
		}
		return remarshal(raw, obj, changed)
	case reflect.Slice, reflect.Array:
		et := t.Elem()
		for et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if et.Kind() != reflect.Struct || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
			return raw, false
		}
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return raw, false
		}
		changed := false
		for i, v := range elems {
			if nv, c := dropMiscased(v, et); c {
				elems[i], changed = nv, true
			}
		}
		return remarshal(raw, elems, changed)
	}
	return raw, false
}

// remarshal returns v encoded when changed, else raw as it is.
func remarshal(raw []byte, v any, changed bool) ([]byte, bool) {
	if !changed {
		return raw, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw, false
	}
	return b, true
}
