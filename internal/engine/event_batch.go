package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
)

// The batch encoding stores the events of one commit compactly, for a
// store that keeps history (the SQLite store). A monitor's check commits
// nine events, and seven of them carry the workflow state as text: the
// state before the check, the task's parameters (which contain it), the
// task's result (which contains the next state) and the next state four
// times. Written one event at a time in the GetExecutionHistory shape,
// that is about 8 KB of escaped JSON per check; a batch writes each
// distinct text once, unescaped, and a text that contains another one as
// the rest around a reference to it: about a third of the bytes, one row
// and one index entry per commit instead of nine.
//
// Layout (integers are unsigned varints, strings are a length and bytes):
//
//	batchFormat
//	number of texts, then each text:
//	    0, text                  a text on its own
//	    1+i, prefix, suffix      prefix + text i + suffix; text i is shorter
//	number of events, then each event:
//	    type, id, id - previous id (zig-zag), timestamp as Unix seconds
//	    (zig-zag) and nanoseconds, details: the details object's JSON in
//	    the GetExecutionHistory shape (empty for a type without one),
//	    except that input, output and parameters members are the numbers
//	    of texts and the {"truncated":false} members are left out
//
// A batch of at least compressMinLen bytes is stored compressed when that
// makes it smaller: batchFormatSnappy, then the whole batch above (its
// batchFormat byte included) as one Snappy block. A check's batch of
// about 2.6 KB becomes about 1.3 KB, and since SQLite keeps a row in one
// page, three rows fit in a 4 KiB page instead of one: a third of the
// disk, and of the pages the WAL and its checkpoints write. Snappy
// compresses at about 1 GB/s (2.4 µs a check here), less than the page
// writes it saves; flate's best speed took 37 µs for 20 % fewer bytes.
const (
	batchFormat       = 0x01
	batchFormatSnappy = 0x02
)

// Batches from compressMinLen to compressMaxLen bytes are compressed. A
// compressed batch whose header claims more than compressMaxLen bytes is
// refused before anything is allocated for it.
const (
	compressMinLen = 256
	compressMaxLen = 16 << 20
)

// Texts are composed from a shorter text only in batches of at most
// composeMaxTexts texts (the search is quadratic), and only from texts of
// at least composeMinLen bytes.
const (
	composeMaxTexts = 16
	composeMinLen   = 64
)

// AppendEventBatch appends the batch encoding of evs to b. DecodeEventBatch
// reads it back; the events' GetExecutionHistory JSON is then the same as
// after a round trip through MarshalJSON and UnmarshalJSON.
func AppendEventBatch(b []byte, evs []Event) []byte {
	w := batchWriters.Get().(*batchWriter)
	defer w.release()
	w.tc = textCache{table: &w.table, arena: &w.texts}
	for i := range evs {
		w.details = evs[i].appendDetails(w.details, &w.tc)
		w.ends = append(w.ends, len(w.details))
	}
	out := append(w.out, batchFormat)
	out = w.table.appendTo(out)
	out = binary.AppendUvarint(out, uint64(len(evs)))
	start := 0
	for i := range evs {
		e := &evs[i]
		out = appendBatchString(out, e.Type)
		out = binary.AppendUvarint(out, uint64(e.ID))
		out = binary.AppendVarint(out, e.ID-e.PreviousEventID)
		out = binary.AppendVarint(out, e.Timestamp.Unix())
		out = binary.AppendUvarint(out, uint64(e.Timestamp.Nanosecond()))
		out = appendBatchString(out, w.details[start:w.ends[i]])
		start = w.ends[i]
	}
	w.out = out
	// The batch is kept until its commit (so it is copied to b); the
	// working memory is not.
	if n := len(out); n >= compressMinLen && n <= compressMaxLen {
		start := len(b)
		b = slices.Grow(b, 1+snappy.MaxEncodedLen(n))
		b = append(b, batchFormatSnappy)
		enc := snappy.Encode(b[len(b):len(b)+snappy.MaxEncodedLen(n)], out)
		if 1+len(enc) < n {
			return b[:len(b)+len(enc)]
		}
		b = b[:start]
	}
	return append(b, out...)
}

// batchWriter is the working memory of AppendEventBatch, reused through
// batchWriters: a check's batch would otherwise allocate several times
// its size.
type batchWriter struct {
	details []byte // the events' details objects, end to end
	ends    []int  // where each event's details end in details
	texts   []byte // the distinct texts, end to end (textCache.arena)
	out     []byte // the batch
	table   textTable
	tc      textCache // here, not on the stack: it escapes as an asl.Texts
}

var batchWriters = sync.Pool{New: func() any { return new(batchWriter) }}

// release empties w and returns it to the pool, unless a huge batch made
// it too big to keep.
func (w *batchWriter) release() {
	if cap(w.details)+cap(w.texts)+cap(w.out) > 1<<20 {
		return
	}
	w.details, w.ends, w.texts, w.out = w.details[:0], w.ends[:0], w.texts[:0], w.out[:0]
	clear(w.table.texts) // the texts point into w.texts
	w.tc = textCache{}
	w.table.texts, w.table.index = w.table.texts[:0], nil
	batchWriters.Put(w)
}

// DecodeEventBatch reads the events of a batch. It also reads a single
// event in the GetExecutionHistory shape (a JSON object), as stores
// wrote history before batches.
func DecodeEventBatch(b []byte) ([]Event, error) {
	if len(b) > 0 && b[0] == '{' {
		var ev Event
		if err := ev.UnmarshalJSON(b); err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	b, err := plainBatch(b)
	if err != nil {
		return nil, err
	}
	r := batchReader{b: b}
	if f := r.byte(); f != batchFormat {
		return nil, fmt.Errorf("engine: decode event batch: unknown format %#x", f)
	}
	texts, err := r.texts()
	if err != nil {
		return nil, err
	}
	n := r.count()
	evs := make([]Event, 0, n)
	for range n {
		var ev Event
		ev.Type = string(r.bytes())
		ev.ID = int64(r.uvarint())
		ev.PreviousEventID = ev.ID - r.varint()
		sec, nsec := r.varint(), r.uvarint()
		det := r.bytes()
		if r.err != nil {
			break
		}
		if nsec >= 1e9 {
			return nil, fmt.Errorf("engine: decode event batch: event %d: %d nanoseconds", ev.ID, nsec)
		}
		ev.Timestamp = time.Unix(sec, int64(nsec)).UTC()
		if len(det) == 0 {
			det = nil
		}
		if err := ev.unmarshalDetails(det, texts); err != nil {
			return nil, fmt.Errorf("engine: decode event batch: %w", err)
		}
		evs = append(evs, ev)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = errors.New("data after the last event")
	}
	if r.err != nil {
		return nil, fmt.Errorf("engine: decode event batch: %w", r.err)
	}
	return evs, nil
}

// plainBatch returns the batch b, decompressed if it is compressed.
func plainBatch(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != batchFormatSnappy {
		return b, nil
	}
	n, err := snappy.DecodedLen(b[1:])
	switch {
	case err != nil:
		return nil, fmt.Errorf("engine: decode event batch: compressed: %w", err)
	case n > compressMaxLen:
		return nil, fmt.Errorf("engine: decode event batch: compressed: claims %d bytes, more than the %d a batch is compressed up to", n, compressMaxLen)
	}
	plain, err := snappy.Decode(nil, b[1:])
	if err != nil {
		return nil, fmt.Errorf("engine: decode event batch: compressed: %w", err)
	}
	if len(plain) > 0 && plain[0] == batchFormatSnappy {
		return nil, errors.New("engine: decode event batch: compressed twice")
	}
	return plain, nil
}

// textTable collects the distinct texts of a batch in order of first use.
type textTable struct {
	texts []string
	index map[string]int // once there are many texts
}

// ref returns the number of text s, adding it if it is new.
func (t *textTable) ref(s string) int {
	if t.index == nil {
		for i, x := range t.texts {
			if x == s {
				return i
			}
		}
		if len(t.texts) < composeMaxTexts {
			t.texts = append(t.texts, s)
			return len(t.texts) - 1
		}
		t.index = make(map[string]int, 2*len(t.texts))
		for i, x := range t.texts {
			t.index[x] = i
		}
	}
	if i, ok := t.index[s]; ok {
		return i
	}
	t.index[s] = len(t.texts)
	t.texts = append(t.texts, s)
	return len(t.texts) - 1
}

// appendTo appends the texts, each composed from the longest shorter text
// it contains when that saves at least composeMinLen bytes.
func (t *textTable) appendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(t.texts)))
	for j, s := range t.texts {
		ref, at := -1, 0
		if len(t.texts) <= composeMaxTexts {
			for i, sub := range t.texts {
				if i == j || len(sub) < composeMinLen || len(sub) >= len(s) || ref >= 0 && len(sub) <= len(t.texts[ref]) {
					continue
				}
				if k := strings.Index(s, sub); k >= 0 {
					ref, at = i, k
				}
			}
		}
		if ref < 0 {
			b = append(b, 0)
			b = appendBatchString(b, s)
			continue
		}
		b = binary.AppendUvarint(b, uint64(ref+1))
		b = appendBatchString(b, s[:at])
		b = appendBatchString(b, s[at+len(t.texts[ref]):])
	}
	return b
}

func appendBatchString[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// batchReader reads a batch; the first error sticks and later reads
// return zero values.
type batchReader struct {
	b   []byte
	err error
}

func (r *batchReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *batchReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad length")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a zig-zag varint (binary.AppendVarint): a uvarint whose
// lowest bit is the sign.
func (r *batchReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a number of items, each at least one byte long.
func (r *batchReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("count beyond the data")
		return 0
	}
	return int(n)
}

func (r *batchReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail("truncated")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *batchReader) fail(why string) {
	if r.err == nil {
		r.err = errors.New(why)
	}
}

// texts reads the text table and resolves composed texts.
func (r *batchReader) texts() ([]string, error) {
	type entry struct {
		ref       int // -1: none
		pre, post []byte
	}
	n := r.count()
	entries := make([]entry, n)
	for i := range entries {
		e := &entries[i]
		e.ref = int(r.uvarint()) - 1
		e.pre = r.bytes()
		if e.ref >= 0 {
			e.post = r.bytes()
		}
		if r.err == nil && (e.ref >= n || e.ref == i) {
			r.fail(fmt.Sprintf("text %d refers to text %d of %d", i, e.ref, n))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("engine: decode event batch: %w", r.err)
	}
	texts := make([]string, n)
	done := make([]bool, n)
	var resolve func(i, depth int) error
	resolve = func(i, depth int) error {
		if done[i] {
			return nil
		}
		e := entries[i]
		if e.ref < 0 {
			texts[i], done[i] = string(e.pre), true
			return nil
		}
		if depth >= n {
			return fmt.Errorf("engine: decode event batch: text %d refers to itself", i)
		}
		if err := resolve(e.ref, depth+1); err != nil {
			return err
		}
		texts[i], done[i] = string(e.pre)+texts[e.ref]+string(e.post), true
		return nil
	}
	for i := range entries {
		if err := resolve(i, 0); err != nil {
			return nil, err
		}
	}
	return texts, nil
}
