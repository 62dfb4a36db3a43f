package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang/snappy"
)

// jsonRoundTrip is what a store that keeps each event's JSON returns.
func jsonRoundTrip(t *testing.T, ev Event) []byte {
	t.Helper()
	var back Event
	if err := json.Unmarshal(ev.AppendJSON(nil), &back); err != nil {
		t.Fatalf("unmarshal %s: %v", ev.Type, err)
	}
	return back.AppendJSON(nil)
}

func TestEventBatchRoundTrip(t *testing.T) {
	var evs []Event
	for i, typ := range eventTypesForJSON {
		for j, s := range oddStrings {
			evs = append(evs, oddEvent(typ, i+j, s))
		}
	}
	evs = append(evs, Event{ID: 1000, PreviousEventID: 7, Type: "PassStateEntered"}) // zero time, nil input
	// In one batch (more texts than are composed), and a few at a time.
	for _, size := range []int{len(evs), 3, 1} {
		for start := 0; start < len(evs); start += size {
			part := evs[start:min(start+size, len(evs))]
			got, err := DecodeEventBatch(AppendEventBatch([]byte{}, part))
			if err != nil {
				t.Fatalf("batches of %d: DecodeEventBatch: %v", size, err)
			}
			if len(got) != len(part) {
				t.Fatalf("batches of %d: %d events back, want %d", size, len(got), len(part))
			}
			for i := range part {
				if g, w := got[i].AppendJSON(nil), jsonRoundTrip(t, part[i]); !bytes.Equal(g, w) {
					t.Errorf("batches of %d, %s %q:\n got %s\nwant %s", size, part[i].Type, part[i].Details.Name, g, w)
				}
			}
		}
	}
}

// Batches encoded concurrently, and one after another on reused working
// memory, each decode to their own events: no text of one batch leaks
// into another.
func TestEventBatchConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				evs := monitorCheckEvents(1000*g + n)
				want := make([][]byte, len(evs))
				for i := range evs {
					want[i] = evs[i].AppendJSON(nil)
				}
				batch := AppendEventBatch(nil, evs)
				AppendEventBatch(nil, monitorCheckEvents(-n)) // reuses the working memory
				got, err := DecodeEventBatch(batch)
				if err != nil || len(got) != len(evs) {
					t.Errorf("batch %d/%d: %d events, %v", g, n, len(got), err)
					return
				}
				for i := range got {
					if b := got[i].AppendJSON(nil); !bytes.Equal(b, want[i]) {
						t.Errorf("batch %d/%d event %d:\n got %s\nwant %s", g, n, i, b, want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// monitorCheckEvents are the events one check of a monitor commits.
func monitorCheckEvents(n int) []Event {
	state := func(n int) map[string]any {
		return map[string]any{
			"check":      map[string]any{"checkCount": float64(n), "status": "Running", "waitSeconds": 1.0, "done": false},
			"instanceId": "m1", "expiresAt": "2026-12-04T08:55:35Z",
			"spec": map[string]any{"target": map[string]any{"type": "http", "url": "http://127.0.0.1:8080/job/m1",
				"statusPath": "$.status", "doneValues": []any{"Completed"}}},
		}
	}
	before, after := state(n), state(n+1)
	params := map[string]any{"FunctionName": "arn:aws:lambda:us-east-1:1:function:check",
		"Payload": map[string]any{"state": before, "executionArn": "arn:aws:states:us-east-1:1:execution:m:m1"}}
	// As LambdaInvoke returns it.
	reqID := "f5b486c2-ea7a-456e-8792-022a3a05ffbc"
	result := map[string]any{"ExecutedVersion": "$LATEST", "Payload": after, "StatusCode": 200.0,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": map[string]any{"X-Amz-Executed-Version": []any{"$LATEST"}, "x-amzn-Remapped-Content-Length": []any{"0"},
				"Connection": []any{"keep-alive"}, "x-amzn-RequestId": []any{reqID}, "Content-Length": []any{"312"},
				"Date": []any{"Thu, 01 Jan 1970 00:00:00 GMT"}, "Content-Type": []any{"application/json"}},
			"HttpHeaders": map[string]any{"Connection": "keep-alive", "Content-Length": "312", "Content-Type": "application/json",
				"Date": "Thu, 01 Jan 1970 00:00:00 GMT", "X-Amz-Executed-Version": "$LATEST", "x-amzn-Remapped-Content-Length": "0",
				"x-amzn-RequestId": reqID},
			"HttpStatusCode": 200.0},
		"SdkResponseMetadata": map[string]any{"RequestId": reqID}}
	lambda := &EventExtra{Resource: "invoke", ResourceType: "lambda", Region: "us-east-1", Parameters: params, TimeoutInSeconds: 120}
	ts := time.Date(2026, 12, 3, 8, 55, 44, 0, time.UTC)
	evs := []Event{
		{Type: "WaitStateExited", Details: EventDetails{Name: "Wait", Output: before}},
		{Type: "TaskStateEntered", Details: EventDetails{Name: "Check", Input: before}},
		{Type: "TaskScheduled", Details: EventDetails{Extra: lambda}},
		{Type: "TaskStarted", Details: EventDetails{Extra: lambda}},
		{Type: "TaskSucceeded", Details: EventDetails{Output: result, Extra: lambda}},
		{Type: "TaskStateExited", Details: EventDetails{Name: "Check", Output: after}},
		{Type: "ChoiceStateEntered", Details: EventDetails{Name: "Evaluate", Input: after}},
		{Type: "ChoiceStateExited", Details: EventDetails{Name: "Evaluate", Output: after}},
		{Type: "WaitStateEntered", Details: EventDetails{Name: "Wait", Input: after}},
	}
	for i := range evs {
		evs[i].ID, evs[i].PreviousEventID, evs[i].Timestamp = int64(10*n+i+1), int64(10*n+i), ts
	}
	return evs
}

// A check's batch writes each state once: well under half the bytes of
// its events' JSON.
func TestEventBatchComposesTexts(t *testing.T) {
	evs := monitorCheckEvents(7)
	batch := AppendEventBatch(nil, evs)
	plain, err := plainBatch(batch) // composing texts, before compression
	if err != nil {
		t.Fatal(err)
	}
	jsonBytes := 0
	for i := range evs {
		jsonBytes += len(evs[i].AppendJSON(nil))
	}
	if len(plain)*100 > jsonBytes*40 {
		t.Errorf("batch of a check: %d bytes, want under 40 %% of the %d bytes of its events' JSON", len(plain), jsonBytes)
	}
	t.Logf("one check: batch %d bytes (%d compressed), events' JSON %d bytes", len(plain), len(batch), jsonBytes)
	got, err := DecodeEventBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if g, w := got[i].AppendJSON(nil), jsonRoundTrip(t, evs[i]); !bytes.Equal(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", evs[i].Type, g, w)
		}
	}
}

// A check's batch is stored compressed, a small one and one that does not
// compress are not; each decodes to the events it was made of.
func TestEventBatchCompression(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 3*compressMinLen)
	for i := range random {
		random[i] = 'a' + byte(rnd.IntN(26))
	}
	incompressible := Event{ID: 2, PreviousEventID: 1, Type: "PassStateEntered", Timestamp: time.Unix(1, 0),
		Details: EventDetails{Name: "P", Input: string(random)}}
	for _, tc := range []struct {
		name   string
		evs    []Event
		format byte
	}{
		{"a check", monitorCheckEvents(7), batchFormatSnappy},
		{"one small event", []Event{{ID: 1, Type: "ExecutionSucceeded", Timestamp: time.Unix(1, 0)}}, batchFormat},
		{"an incompressible text", []Event{incompressible}, batchFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("kept")
			batch := AppendEventBatch(slicesClone(prefix), tc.evs)
			if !bytes.HasPrefix(batch, prefix) {
				t.Fatalf("AppendEventBatch changed the bytes it appends to: %q", batch[:len(prefix)])
			}
			batch = batch[len(prefix):]
			if batch[0] != tc.format {
				t.Errorf("format %#x, want %#x (%d bytes)", batch[0], tc.format, len(batch))
			}
			plain, err := plainBatch(batch)
			if err != nil {
				t.Fatal(err)
			}
			if tc.format == batchFormatSnappy && len(batch)*100 > len(plain)*60 {
				t.Errorf("compressed to %d of %d bytes, want under 60 %%", len(batch), len(plain))
			}
			t.Logf("%d bytes, %d before compression", len(batch), len(plain))
			got, err := DecodeEventBatch(batch)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.evs) {
				t.Fatalf("%d events back, want %d", len(got), len(tc.evs))
			}
			for i := range tc.evs {
				if g, w := got[i].AppendJSON(nil), jsonRoundTrip(t, tc.evs[i]); !bytes.Equal(g, w) {
					t.Errorf("%s:\n got %s\nwant %s", tc.evs[i].Type, g, w)
				}
			}
		})
	}
}

// Rows written before batches hold one event's JSON.
func TestDecodeEventBatchSingleEventJSON(t *testing.T) {
	ev := monitorCheckEvents(1)[4]
	got, err := DecodeEventBatch(ev.AppendJSON(nil))
	if err != nil || len(got) != 1 {
		t.Fatalf("DecodeEventBatch = %d events, %v", len(got), err)
	}
	if g, w := got[0].AppendJSON(nil), jsonRoundTrip(t, ev); !bytes.Equal(g, w) {
		t.Errorf("got %s\nwant %s", g, w)
	}
}

func TestDecodeEventBatchErrors(t *testing.T) {
	good := AppendEventBatch(nil, monitorCheckEvents(3))
	for n := range len(good) {
		if _, err := DecodeEventBatch(good[:n]); err == nil {
			t.Errorf("a batch cut to %d of its %d bytes decodes without an error", n, len(good))
		}
	}
	text := func(b []byte, ref int, parts ...string) []byte {
		b = binary.AppendUvarint(b, uint64(ref))
		for _, p := range parts {
			b = appendBatchString(b, p)
		}
		return b
	}
	cycle := text(text([]byte{batchFormat, 2}, 2, "a", "b"), 1, "c", "d") // text 0 = a+text1+b, text 1 = c+text0+d
	selfRef := text([]byte{batchFormat, 1}, 1, "a", "b")
	badRef := text([]byte{batchFormat, 1}, 5, "a", "b")
	for name, b := range map[string][]byte{
		"empty":          {},
		"unknown format": {0x7f, 0, 0},
		"cycle":          append(cycle, 0),
		"self reference": append(selfRef, 0),
		"reference out":  append(badRef, 0),
		"trailing data":  append(slicesClone(good), 0),
		"bad text ref":   appendBatchString(append(text([]byte{batchFormat, 1}, 0, "{}"), 1), `{"type":"PassStateEntered","stateEnteredEventDetails":{"input":3}}`),
		"huge count":     {batchFormat, 0xff, 0xff, 0xff, 0x0f},
		"compressed, wrong length": func() []byte {
			n, err := snappy.DecodedLen(good[1:])
			if err != nil {
				t.Fatal(err)
			}
			_, head := binary.Uvarint(good[1:])
			return append(binary.AppendUvarint([]byte{batchFormatSnappy}, uint64(n+10)), good[1+head:]...)
		}(),
		"compressed, claiming too much": binary.AppendUvarint([]byte{batchFormatSnappy}, compressMaxLen+1),
		"compressed twice":              append([]byte{batchFormatSnappy}, snappy.Encode(nil, good)...),
	} {
		if _, err := DecodeEventBatch(b); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "engine:") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

func FuzzDecodeEventBatch(f *testing.F) {
	f.Add(AppendEventBatch(nil, monitorCheckEvents(1)))
	f.Add(AppendEventBatch(nil, []Event{oddEvent("TaskScheduled", 1, "x")}))
	f.Add(AppendEventBatch(nil, monitorCheckEvents(2)[:1]))
	f.Fuzz(func(t *testing.T, b []byte) {
		if plain, err := plainBatch(b); err != nil || !utf8.Valid(plain) {
			// AppendEventBatch writes valid UTF-8 only. A stored text with
			// invalid bytes still decodes, as a string, but its first
			// encoding escapes them as \ufffd, which decodes to the valid
			// U+FFFD: equal values, different bytes.
			return
		}
		evs, err := DecodeEventBatch(b)
		if err != nil {
			return
		}
		// What decodes encodes again and decodes to the same events.
		again, err := DecodeEventBatch(AppendEventBatch(nil, evs))
		if err != nil || len(again) != len(evs) {
			t.Fatalf("re-encoded batch: %d events, %v; want %d", len(again), err, len(evs))
		}
		for i := range evs {
			if g, w := again[i].AppendJSON(nil), evs[i].AppendJSON(nil); !bytes.Equal(g, w) {
				t.Errorf("event %d:\n got %s\nwant %s", i, g, w)
			}
		}
	})
}

func BenchmarkEventBatch(b *testing.B) {
	evs := monitorCheckEvents(7)
	b.Run("AppendEventBatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			AppendEventBatch(nil, evs) // as EngineStore.Commit calls it
		}
	})
	// One JSON per event, as history was stored before batches (which
	// also shared the texts' encoding among a commit's events: 23 µs).
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, 0, 512*len(evs))
			for i := range evs {
				buf = evs[i].AppendJSON(buf)
			}
		}
	})
}

// A stored single event whose fields are missing or of the wrong type is
// an error naming the field, not a zero event.
func TestDecodeEventBatchSingleEventJSONErrors(t *testing.T) {
	const ts = `"2024-05-01T10:00:00Z"`
	tests := []struct {
		name, json, field string
	}{
		{"id a string", `{"id":"seven","type":"PassStateEntered","timestamp":` + ts + `}`, "id"},
		{"no id", `{"type":"PassStateEntered","timestamp":` + ts + `}`, "id"},
		{"previousEventId a string", `{"id":2,"previousEventId":"one","type":"PassStateEntered","timestamp":` + ts + `}`, "previousEventId"},
		{"type a number", `{"id":1,"type":42,"timestamp":` + ts + `}`, "type"},
		{"no type", `{"id":1,"timestamp":` + ts + `}`, "type"},
		{"timestamp not a time", `{"id":1,"type":"PassStateEntered","timestamp":"yesterday"}`, "timestamp"},
		{"timestamp a number", `{"id":1,"type":"PassStateEntered","timestamp":17}`, "timestamp"},
		{"no timestamp", `{"id":1,"type":"PassStateEntered"}`, "timestamp"},
		{"all wrong", `{"id":"seven","type":42,"timestamp":"yesterday"}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := DecodeEventBatch([]byte(tt.json))
			if err == nil {
				t.Fatalf("DecodeEventBatch(%s) = %+v, nil; want an error", tt.json, evs)
			}
			if want := "engine: unmarshal event: " + tt.field; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
		})
	}
}

// tableRefs encodes a text table of texts and returns, for each text, the
// number of the text it is composed from, or -1 when it is stored whole.
// The table's texts must read back as texts.
func tableRefs(t *testing.T, texts ...string) []int {
	t.Helper()
	var tt textTable
	for _, s := range texts {
		tt.ref(s)
	}
	b := tt.appendTo(nil)
	r := batchReader{b: b}
	refs := make([]int, r.count())
	for i := range refs {
		refs[i] = int(r.uvarint()) - 1
		r.bytes()
		if refs[i] >= 0 {
			r.bytes()
		}
	}
	if r.err != nil || len(r.b) > 0 {
		t.Fatalf("text table of %d texts: %v, %d bytes left", len(texts), r.err, len(r.b))
	}
	back, err := (&batchReader{b: b}).texts()
	if err != nil {
		t.Fatalf("text table of %d texts: %v", len(texts), err)
	}
	if !slices.Equal(back, texts) {
		t.Fatalf("text table of %d texts reads back as %q", len(texts), back)
	}
	return refs
}

// A text is composed from the longest other text of at least
// composeMinLen bytes it contains, in a table of at most composeMaxTexts
// texts.
func TestTextTableComposes(t *testing.T) {
	short := strings.Repeat("s", composeMinLen)
	long := strings.Repeat("l", composeMinLen+30)
	fillers := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("filler %d", i))
		}
		return out
	}
	whole := func(n int) []int {
		refs := make([]int, n)
		for i := range refs {
			refs[i] = -1
		}
		return refs
	}
	for _, tc := range []struct {
		name  string
		texts []string
		want  []int
	}{
		{"a text of composeMinLen bytes inside another", []string{short, "<" + short + ">"}, []int{-1, 0}},
		{"a text one byte shorter", []string{short[1:], "<" + short[1:] + ">"}, []int{-1, -1}},
		{"the longer of two contained texts", []string{long, short, "<" + short + long + ">"}, []int{-1, -1, 0}},
		{"the longer of two, listed last", []string{short, long, "<" + short + long + ">"}, []int{-1, -1, 1}},
		{"composeMaxTexts texts", append([]string{short, "<" + short + ">"}, fillers(composeMaxTexts-2)...),
			append([]int{-1, 0}, whole(composeMaxTexts-2)...)},
		{"one text more", append([]string{short, "<" + short + ">"}, fillers(composeMaxTexts-1)...),
			whole(composeMaxTexts + 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tableRefs(t, tc.texts...); !slices.Equal(got, tc.want) {
				t.Errorf("composed from %v, want %v", got, tc.want)
			}
		})
	}
}

// A text met again has the number it got first, also in a table of more
// texts than composeMaxTexts.
func TestTextTableRefRepeated(t *testing.T) {
	var tt textTable
	const n = 2*composeMaxTexts + 3
	for i := range n {
		if got := tt.ref(fmt.Sprint(i)); got != i {
			t.Fatalf("ref(%d) of a new text = %d, want %d", i, got, i)
		}
	}
	for _, i := range []int{0, composeMaxTexts - 1, composeMaxTexts, n - 1} {
		if got := tt.ref(fmt.Sprint(i)); got != i {
			t.Errorf("ref(%d) again = %d, want %d", i, got, i)
		}
	}
	if len(tt.texts) != n {
		t.Errorf("%d texts after %d distinct ones", len(tt.texts), n)
	}
}

// A batch with more texts than composeMaxTexts, encoded twice in a row
// (on reused working memory), decodes both times.
func TestEventBatchManyTextsTwice(t *testing.T) {
	var evs []Event
	for i := range 2 * composeMaxTexts {
		evs = append(evs, Event{ID: int64(i + 1), PreviousEventID: int64(i), Type: "PassStateEntered",
			Timestamp: time.Unix(1, 0), Details: EventDetails{Name: "P", Input: map[string]any{"i": float64(i)}}})
	}
	for round := range 3 {
		got, err := DecodeEventBatch(AppendEventBatch(nil, evs))
		if err != nil || len(got) != len(evs) {
			t.Fatalf("round %d: DecodeEventBatch: %d events, %v", round, len(got), err)
		}
		for i := range evs {
			if g, w := got[i].AppendJSON(nil), evs[i].AppendJSON(nil); !bytes.Equal(g, w) {
				t.Fatalf("round %d, event %d:\n got %s\nwant %s", round, i, g, w)
			}
		}
	}
}

// batchOfSize returns an event whose batch is n bytes long before
// compression, and compresses well.
func batchOfSize(t *testing.T, n int) []Event {
	t.Helper()
	evs := []Event{{ID: 1, Type: "PassStateEntered", Timestamp: time.Unix(1, 0)}}
	l := n
	for range 10 {
		evs[0].Details.Input = strings.Repeat("a", l)
		plain, err := plainBatch(AppendEventBatch(nil, evs))
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) == n {
			return evs
		}
		l += n - len(plain)
	}
	t.Fatalf("found no event with a batch of %d bytes", n)
	return nil
}

// Batches from compressMinLen to compressMaxLen bytes are compressed, and
// decode; one byte shorter or longer, they are stored as they are.
func TestEventBatchCompressionBounds(t *testing.T) {
	for _, tc := range []struct {
		size   int
		format byte
	}{
		{compressMinLen - 1, batchFormat},
		{compressMinLen, batchFormatSnappy},
		{compressMaxLen, batchFormatSnappy},
		{compressMaxLen + 1, batchFormat},
	} {
		evs := batchOfSize(t, tc.size)
		batch := AppendEventBatch(nil, evs)
		if batch[0] != tc.format {
			t.Errorf("a batch of %d bytes: format %#x, want %#x", tc.size, batch[0], tc.format)
		}
		got, err := DecodeEventBatch(batch)
		if err != nil || len(got) != 1 {
			t.Fatalf("a batch of %d bytes: DecodeEventBatch: %d events, %v", tc.size, len(got), err)
		}
		if got[0].Details.Input != evs[0].Details.Input {
			t.Errorf("a batch of %d bytes: input of %d bytes back, want %d", tc.size, len(got[0].Details.Input.(string)), tc.size)
		}
	}
}

// A batch decodes to the events their JSON decodes to, timestamps in UTC
// included.
func TestEventBatchDecodesAsJSON(t *testing.T) {
	var evs []Event
	for i, typ := range eventTypesForJSON {
		for j, s := range oddStrings {
			if utf8.ValidString(s) {
				evs = append(evs, oddEvent(typ, i+j, s))
			}
		}
	}
	got, err := DecodeEventBatch(AppendEventBatch(nil, evs))
	if err != nil || len(got) != len(evs) {
		t.Fatalf("DecodeEventBatch: %d events, %v", len(got), err)
	}
	for i := range evs {
		var want Event
		if err := want.UnmarshalJSON(evs[i].AppendJSON(nil)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("%s %q:\n got %+v\nwant %+v", evs[i].Type, evs[i].Details.Name, got[i], want)
		}
		if got[i].Timestamp.Location() != time.UTC {
			t.Errorf("%s: timestamp %v, want it in UTC", evs[i].Type, got[i].Timestamp)
		}
	}
}

// An empty batch decodes to no events; an event of a type with details
// but none in the batch decodes with zero details, as its JSON without
// the details member does.
func TestDecodeEventBatchEmpty(t *testing.T) {
	got, err := DecodeEventBatch(AppendEventBatch(nil, nil))
	if err != nil || len(got) != 0 {
		t.Errorf("DecodeEventBatch(AppendEventBatch(nil)) = %v, %v; want no events", got, err)
	}
	b := []byte{batchFormat, 0, 1}
	b = appendBatchString(b, "PassStateEntered")
	b = append(b, 2, 2, 2, 0, 0) // id 2, previous 1, at 1 s
	got, err = DecodeEventBatch(b)
	if err != nil || len(got) != 1 {
		t.Fatalf("DecodeEventBatch: %d events, %v", len(got), err)
	}
	want := Event{ID: 2, PreviousEventID: 1, Type: "PassStateEntered", Timestamp: time.Unix(1, 0).UTC()}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %+v, want %+v", got[0], want)
	}
}

// Malformed batches are refused with an error that says what is wrong.
func TestDecodeEventBatchErrorMessages(t *testing.T) {
	event := func(typ string, nsec uint64) []byte {
		b := appendBatchString(nil, typ)
		b = append(b, 2, 2, 2)
		b = binary.AppendUvarint(b, nsec)
		return appendBatchString(b, "")
	}
	plain := append([]byte{batchFormat, 0, 1}, event("ParallelStateStarted", 999_999_999)...)
	if _, err := DecodeEventBatch(plain); err != nil {
		t.Fatalf("a batch of an event at 999999999 ns: %v", err)
	}
	withText := func(ref int) []byte {
		b := []byte{batchFormat, 1}
		b = binary.AppendUvarint(b, uint64(ref))
		b = appendBatchString(appendBatchString(b, "a"), "b")
		return append(b, 0)
	}
	inputRef := func(ref string) []byte {
		b := appendBatchString([]byte{batchFormat, 1, 0}, "{}")
		b = appendBatchString(append(b, 1), "PassStateEntered")
		b = append(b, 2, 2, 2, 0)
		return appendBatchString(b, `{"name":"P","input":`+ref+`}`)
	}
	if evs, err := DecodeEventBatch(inputRef("0")); err != nil || len(evs) != 1 || !reflect.DeepEqual(evs[0].Details.Input, map[string]any{}) {
		t.Fatalf("a batch of an event whose input is text 0 = %+v, %v", evs, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"an input naming the text after the last", inputRef("1"), "the number of one of the batch's 1 texts, got 1"},
		{"an input naming text -1", inputRef("-1"), "the number of one of the batch's 1 texts, got -1"},
		{"a second's nanoseconds", append([]byte{batchFormat, 0, 1}, event("ParallelStateStarted", 1e9)...), "1000000000 nanoseconds"},
		{"a byte after the last event", append(slicesClone(plain), 0), "data after the last event"},
		{"more texts than bytes", []byte{batchFormat, 0xff, 0xff, 0xff, 0x0f}, "count beyond the data"},
		{"more events than bytes", []byte{batchFormat, 0, 3, 0}, "count beyond the data"},
		{"a text referring to the one after the last", withText(2), "text 0 refers to text 1 of 1"},
		{"compressed twice", append([]byte{batchFormatSnappy}, snappy.Encode(nil, append([]byte{batchFormatSnappy}, snappy.Encode(nil, plain)...))...), "compressed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := DecodeEventBatch(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeEventBatch = %d events, %v; want an error containing %q", len(evs), err, tc.want)
			}
		})
	}
}

// A batch is stored compressed only when that makes it smaller, its
// format byte included: not when it comes out the same size.
func TestEventBatchCompressesOnlyWhenSmaller(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 200)
	for i := range random {
		random[i] = 'a' + byte(rnd.IntN(26))
	}
	for _, tc := range []struct {
		repeats int // of one letter after the random ones
		saved   int // bytes compression saves, its format byte included
		format  byte
	}{
		{18, 0, batchFormat},
		{19, 1, batchFormatSnappy},
	} {
		evs := []Event{{ID: 1, Type: "PassStateEntered", Timestamp: time.Unix(1, 0),
			Details: EventDetails{Input: string(random) + strings.Repeat("z", tc.repeats)}}}
		batch := AppendEventBatch(nil, evs)
		plain, err := plainBatch(batch)
		if err != nil {
			t.Fatal(err)
		}
		if saved := len(plain) - 1 - len(snappy.Encode(nil, plain)); saved != tc.saved {
			t.Fatalf("%d repeats: compression saves %d bytes, want a case where it saves %d", tc.repeats, saved, tc.saved)
		}
		if batch[0] != tc.format {
			t.Errorf("compression saving %d bytes: format %#x, want %#x", tc.saved, batch[0], tc.format)
		}
	}
}
