package main

import (
	"bytes"
	"encoding/json"
	"slices"
)

// The start command applies its flags to a body file by editing the
// members they set where they stand, and sends the rest of the file byte
// for byte: the API then judges the body as it would judge the file
// alone, a key given twice (which decoding into a map would merge) and
// the order of its problems included.

// member is where one member of a JSON object stands in the object's text.
type member struct {
	key      string
	valStart int // the value's first byte
	valEnd   int // just past the value
}

// members returns the members of obj, the well-formed text of a JSON
// object, in order; ok is false when obj is not an object.
func members(obj []byte) (ms []member, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		ms = append(ms, member{key: key, valStart: end - len(val), valEnd: end})
	}
	return ms, true
}

// memberValues returns the values of key in obj, the text of a JSON
// object, in order: more than one when the object repeats the key.
func memberValues(obj []byte, key string) [][]byte {
	ms, _ := members(obj)
	var vals [][]byte
	for _, m := range ms {
		if m.key == key {
			vals = append(vals, obj[m.valStart:m.valEnd])
		}
	}
	return vals
}

// editMember returns obj, the text of a JSON object, with each value of
// key replaced by edit(value). An object without key, and a value that
// is not an object, are returned as they are.
func editMember(obj []byte, key string, edit func(val []byte) []byte) []byte {
	ms, _ := members(obj)
	out := obj
	for _, m := range slices.Backward(ms) {
		if m.key == key {
			out = slices.Concat(out[:m.valStart], edit(out[m.valStart:m.valEnd]), out[m.valEnd:])
		}
	}
	return out
}

// setMember returns obj, the text of a JSON object, with each value of
// key replaced by val, or with key: val appended after its last member
// when it has no such key. A value that is not an object is returned as
// it is.
func setMember(obj []byte, key string, val []byte) []byte {
	ms, ok := members(obj)
	if !ok {
		return obj
	}
	if slices.ContainsFunc(ms, func(m member) bool { return m.key == key }) {
		return editMember(obj, key, func([]byte) []byte { return val })
	}
	k, _ := json.Marshal(key)
	add := slices.Concat(k, []byte(":"), val)
	at := bytes.IndexByte(obj, '{') + 1
	if len(ms) > 0 {
		at = ms[len(ms)-1].valEnd
		add = slices.Concat([]byte(","), add)
	}
	return slices.Concat(obj[:at], add, obj[at:])
}
