package engine

import (
	"path/filepath"
	"testing"
)

// openJournal opens a journal in a temporary directory, writing its
// file (pwrite) rather than mapping it when write is true.
func openJournal(tb testing.TB, write bool) (*EvalJournal, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "evaluations.journal")
	j, err := OpenEvalJournal(path)
	if err != nil {
		tb.Fatal(err)
	}
	if write {
		j.out.close()
		j.out = fileSlots{j.f}
	}
	return j, path
}

// TestEvalJournalSlots records evaluations with either writer and reads
// them back as another process would, before and after a reopen.
func TestEvalJournalSlots(t *testing.T) {
	for _, write := range []bool{false, true} {
		name := "mmap"
		if write {
			name = "pwrite"
		}
		t.Run(name, func(t *testing.T) {
			j, path := openJournal(t, write)
			a := evalRecord{arn: "arn:a", state: "A", from: 3, seq: 1}
			b := evalRecord{arn: "arn:b", state: "B", from: 7, seq: 2}
			sa, sb := j.begin(a), j.begin(b)
			j.end(sa)
			sa = j.begin(evalRecord{arn: "arn:a", state: "A2", from: 3, seq: 2})
			got, err := ReadEvalJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got["arn:a"] != "A2" || got["arn:b"] != "B" {
				t.Fatalf("ReadEvalJournal = %v, want arn:a in A2 and arn:b in B", got)
			}
			// The process ends abruptly: j is left open as it is.
			j2, err := OpenEvalJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close()
			if got := j2.Interrupted(); len(got) != 2 || got["arn:a"] != 1 || got["arn:b"] != 1 {
				t.Errorf("Interrupted() = %v, want arn:a and arn:b once", got)
			}
			if got, _ := ReadEvalJournal(path); len(got) != 0 {
				t.Errorf("after a reopen, ReadEvalJournal = %v, want none", got)
			}
			j.end(sa)
			j.end(sb)
			j.Close()
		})
	}
}

// BenchmarkEvalJournalBeginEnd measures what the journal adds to one
// JSONata evaluation: the record of its start and of its end, in the file
// mapped in memory and, where it cannot be, written.
func BenchmarkEvalJournalBeginEnd(b *testing.B) {
	for _, write := range []bool{false, true} {
		name := "mmap"
		if write {
			name = "pwrite"
		}
		b.Run(name, func(b *testing.B) {
			j, _ := openJournal(b, write)
			defer j.Close()
			r := evalRecord{arn: "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:0123456789abcdef", state: "Evaluate", from: 12}
			b.ReportAllocs()
			for i := range b.N {
				r.seq = int64(i)
				j.end(j.begin(r))
			}
		})
	}
}
