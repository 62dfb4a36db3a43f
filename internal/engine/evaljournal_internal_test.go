package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
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

// reopen opens the journal at path again as the next process would after
// an abrupt end of the one holding j: j is left as it is, but for its
// timer, and must not be written to afterwards.
func reopen(t *testing.T, j *EvalJournal, path string) *EvalJournal {
	t.Helper()
	if j != nil {
		j.reset.Stop()
	}
	j2, err := OpenEvalJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j2.Close() })
	return j2
}

// TestEvalJournalSlots records evaluations with either writer and reads
// them back as another process would, before and after a reopen.
func TestEvalJournalSlots(t *testing.T) {
	for _, write := range []bool{false, true} {
		name := writerName(write)
		t.Run(name, func(t *testing.T) {
			j, path := openJournal(t, write)
			a := evalRecord{arn: "arn:a", state: "A"}
			b := evalRecord{arn: "arn:b", state: "B"}
			sa, sb := j.begin(a), j.begin(b)
			j.end(sa)
			sa = j.begin(evalRecord{arn: "arn:a", state: "A2"})
			// Two evaluations at once after an end get two slots.
			sc := j.begin(evalRecord{arn: "arn:c", state: "C"})
			if sc == sa || sc == sb || sa == sb {
				t.Fatalf("slots %d, %d, %d: want three distinct", sa, sb, sc)
			}
			got, err := ReadEvalJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"arn:a": "A2", "arn:b": "B", "arn:c": "C"}; !maps.Equal(got, want) {
				t.Fatalf("ReadEvalJournal = %v, want %v", got, want)
			}
			j.end(sc)
			// The process ends abruptly: j is left open as it is.
			j2 := reopen(t, j, path)
			if got := j2.Interrupted(); len(got) != 2 || got["arn:a"] != 1 || got["arn:b"] != 1 {
				t.Errorf("Interrupted() = %v, want arn:a and arn:b once", got)
			}
			if got, _ := ReadEvalJournal(path); len(got) != 0 {
				t.Errorf("after a reopen, ReadEvalJournal = %v, want none evaluating", got)
			}
		})
	}
}

// TestEvalJournalCounts follows the counts across abrupt ends: an
// execution evaluating at an end counts one more; one that evaluates
// nothing at an end keeps its count (written back to the file at each
// open, so an end before it evaluates again does not forget it); the
// third makes it doomed, until settled; a clean close, and the counts
// forgotten after EvalCountResetAfter, start them again.
func TestEvalJournalCounts(t *testing.T) {
	j, path := openJournal(t, false)
	j.begin(evalRecord{arn: "arn:a", state: "A"})
	j.begin(evalRecord{arn: "arn:b", state: "B"})

	j = reopen(t, j, path) // both evaluating: 1 each
	if got := j.Interrupted(); got["arn:a"] != 1 || got["arn:b"] != 1 {
		t.Fatalf("after the first end: Interrupted() = %v, want a and b at 1", got)
	}
	j = reopen(t, j, path) // nothing evaluating: the counts stay
	if got := j.Interrupted(); got["arn:a"] != 1 || got["arn:b"] != 1 {
		t.Fatalf("after an end with nothing evaluating: Interrupted() = %v, want a and b at 1", got)
	}
	j.begin(evalRecord{arn: "arn:a", state: "A"}) // carries 1
	j = reopen(t, j, path)
	if got := j.Interrupted(); got["arn:a"] != 2 || got["arn:b"] != 1 {
		t.Fatalf("after a's second end: Interrupted() = %v, want a at 2, b at 1", got)
	}
	j.begin(evalRecord{arn: "arn:a", state: "A"})
	j = reopen(t, j, path)
	if got := j.Interrupted(); len(got) != 1 || got["arn:b"] != 1 {
		t.Fatalf("after a's third end: Interrupted() = %v, want only b at 1", got)
	}
	// Doomed, not yet settled (Recover did not get to fail it): it
	// stays doomed through another end.
	j = reopen(t, j, path)
	if d := j.takeDoomed(); len(d) != 1 || d["arn:a"].deaths != 3 || d["arn:a"].state != "A" {
		t.Fatalf("doomed = %v, want a with 3 ends in A", d)
	}
	j.settled("arn:a")
	j = reopen(t, j, path)
	if d := j.takeDoomed(); len(d) != 0 {
		t.Fatalf("after a was settled: doomed = %v, want none", d)
	}

	j.begin(evalRecord{arn: "arn:b", state: "B"})
	j = reopen(t, j, path)
	if got := j.Interrupted(); got["arn:b"] != 2 {
		t.Fatalf("after b's second end: Interrupted() = %v, want b at 2", got)
	}
	// The process runs for EvalCountResetAfter: b's count is forgotten,
	// in the file too.
	j.forgetCounts()
	if got := j.Interrupted(); len(got) != 0 {
		t.Fatalf("after forgetCounts: Interrupted() = %v, want none", got)
	}
	j.begin(evalRecord{arn: "arn:b", state: "B"}) // carries nothing
	j = reopen(t, j, path)
	if got := j.Interrupted(); len(got) != 1 || got["arn:b"] != 1 {
		t.Fatalf("after forgetCounts and an end: Interrupted() = %v, want b at 1", got)
	}

	// A clean close, even with an evaluation still holding its slot,
	// leaves no count.
	j.begin(evalRecord{arn: "arn:b", state: "B"})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != int64(len(evalJournalMagic)) {
		t.Fatalf("after Close: %v, %v; want the header alone", fi.Size(), err)
	}
	j = reopen(t, nil, path)
	if got := j.Interrupted(); len(got) != 0 {
		t.Fatalf("after a clean close: Interrupted() = %v, want none", got)
	}
}

// TestEvalJournalHighestCount: of several slots of one execution, the
// highest count wins, whatever their order and kind.
func TestEvalJournalHighestCount(t *testing.T) {
	for _, first := range []byte{evalBusy, evalCarried} {
		j, path := openJournal(t, false)
		second := byte(evalBusy + evalCarried - first)
		deaths := map[byte]int{evalBusy: 0, evalCarried: 2}
		j.newSlot(first, evalRecord{arn: "arn:a", state: "S", deaths: deaths[first]})
		j.newSlot(second, evalRecord{arn: "arn:a", state: "S", deaths: deaths[second]})
		if got := reopen(t, j, path).Interrupted()["arn:a"]; got != 2 {
			t.Errorf("busy at 0 and carried at 2 (first %d): count %d, want 2", first, got)
		}
	}
}

// BenchmarkEvalJournalBeginEnd measures what the journal adds to one
// JSONata evaluation: the record of its start and of its end, in the file
// mapped in memory and, where it cannot be, written.
func BenchmarkEvalJournalBeginEnd(b *testing.B) {
	for _, write := range []bool{false, true} {
		name := writerName(write)
		b.Run(name, func(b *testing.B) {
			j, _ := openJournal(b, write)
			defer j.Close()
			r := evalRecord{arn: "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:0123456789abcdef", state: "Evaluate"}
			b.ReportAllocs()
			for range b.N {
				j.end(j.begin(r))
			}
		})
	}
}

// TestEvalJournalForgetsRunningCounts: once the counts are forgotten, an
// abrupt end during an evaluation that began before (carrying the
// suspect's count) counts one end, as one during an evaluation begun
// after does; it counted the forgotten ends too, and could fail an
// execution after a single end that followed a minute's run.
func TestEvalJournalForgetsRunningCounts(t *testing.T) {
	for _, write := range []bool{false, true} {
		name := writerName(write)
		t.Run(name, func(t *testing.T) {
			j, path := openJournal(t, write)
			x := evalRecord{arn: "arn:x", state: "Spin"}
			j.begin(x) // the process ends abruptly during it
			j = reopen(t, j, path)
			j.begin(x) // ... and again
			j = reopen(t, j, path)
			if got := j.Interrupted()["arn:x"]; got != 2 {
				t.Fatalf("after two abrupt ends, Interrupted()[x] = %d, want 2", got)
			}
			if write {
				j.out.close()
				j.out = fileSlots{j.f}
			}
			j.begin(x)       // carries the count 2
			j.forgetCounts() // the process has run for EvalCountResetAfter
			j.begin(evalRecord{arn: "arn:y", state: "Other"})
			// The process ends abruptly while the evaluation begun before
			// the counts were forgotten still runs.
			j2 := reopen(t, j, path)
			if got := j2.Interrupted(); got["arn:x"] != 1 || got["arn:y"] != 1 {
				t.Errorf("Interrupted() = %v, want x and y once each", got)
			}
			if d := j2.takeDoomed(); len(d) != 0 {
				t.Errorf("doomed %v after one end since the counts were forgotten", d)
			}
		})
	}
}

// writerName names the journal's writer in subtests: the mapping, or
// pwrite when write is true (openJournal).
func writerName(write bool) string {
	if write {
		return "pwrite"
	}
	return "mmap"
}

// With every slot taken, a further evaluation, a suspect's too, is not
// recorded, and its end (of slot -1) writes nothing; the evaluations
// recorded read back, also after the counts were forgotten.
func TestEvalJournalFull(t *testing.T) {
	for _, write := range []bool{false, true} {
		t.Run(writerName(write), func(t *testing.T) {
			j, path := openJournal(t, write)
			x := evalRecord{arn: "arn:x", state: "X"}
			j.begin(x)
			j = reopen(t, j, path) // x is a suspect, its count carried in a slot
			if write {
				j.out.close()
				j.out = fileSlots{j.f}
			}
			for i := 1; i < maxEvalSlots; i++ {
				if slot := j.begin(evalRecord{arn: fmt.Sprintf("arn:%d", i), state: "S"}); slot < 0 {
					t.Fatalf("evaluation %d of %d: no slot", i, maxEvalSlots-1)
				}
			}
			if slot := j.begin(x); slot != -1 {
				t.Fatalf("an evaluation beyond %d slots got slot %d, want -1", maxEvalSlots, slot)
			}
			j.end(-1)
			j.forgetCounts()
			got, err := ReadEvalJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != maxEvalSlots-1 || got["arn:1"] != "S" || got["arn:x"] != "" {
				t.Errorf("ReadEvalJournal: %d evaluating (x in %q), want %d, x not", len(got), got["arn:x"], maxEvalSlots-1)
			}
		})
	}
}

// takeDoomed hands each doomed execution out once.
func TestEvalJournalTakeDoomedOnce(t *testing.T) {
	j, path := openJournal(t, false)
	j.newSlot(evalBusy, evalRecord{arn: "arn:a", state: "S", deaths: InterruptedEvalLimit - 1})
	j = reopen(t, j, path)
	if d := j.takeDoomed(); len(d) != 1 || d["arn:a"].deaths != InterruptedEvalLimit {
		t.Fatalf("doomed = %v, want a at %d", d, InterruptedEvalLimit)
	}
	if d := j.takeDoomed(); len(d) != 0 {
		t.Errorf("doomed again = %v, want none", d)
	}
}

// A record too long for its slot keeps the whole ARN and as much of the
// state name as fits, filling the slot, and reads back so.
func TestEvalJournalLongRecord(t *testing.T) {
	j, path := openJournal(t, false)
	arn := "arn:" + strings.Repeat("a", 100)
	j.begin(evalRecord{arn: arn, state: strings.Repeat("s", 2*evalSlotSize)})
	got, err := ReadEvalJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("s", evalSlotSize-evalSlotHeader-len(arn)); got[arn] != want {
		t.Errorf("state read back: %d bytes, want %d", len(got[arn]), len(want))
	}
}

// Of two records of one execution with the same count, one busy and one
// carried, the busy one wins whichever comes first: the execution was
// evaluating at the end.
func TestEvalJournalBusyWinsTie(t *testing.T) {
	for _, first := range []byte{evalBusy, evalCarried} {
		j, path := openJournal(t, false)
		second := byte(evalBusy + evalCarried - first)
		deaths := map[byte]int{evalBusy: 1, evalCarried: 2} // the busy one counts the end: 2 each
		j.newSlot(first, evalRecord{arn: "arn:a", state: "S", deaths: deaths[first]})
		j.newSlot(second, evalRecord{arn: "arn:a", state: "S", deaths: deaths[second]})
		if got, err := ReadEvalJournal(path); err != nil || got["arn:a"] != "S" {
			t.Errorf("busy at 1 and carried at 2 (first %d): evaluating %v, %v; want a in S", first, got, err)
		}
		j.Close()
	}
}

// An execution the journal dooms that no longer exists when it comes to
// failing it is settled: the journal's next open dooms nothing.
func TestFailInterruptedSettlesGoneExecution(t *testing.T) {
	j, path := openJournal(t, false)
	j.newSlot(evalBusy, evalRecord{arn: "arn:gone", state: "S", deaths: InterruptedEvalLimit - 1})
	j = reopen(t, j, path)
	e := New(Options{EvalJournal: j})
	defer e.Close()
	if err := e.failInterrupted(context.Background()); err != nil {
		t.Fatalf("failInterrupted: %v", err)
	}
	j.reset.Stop()
	if d := reopen(t, nil, path).takeDoomed(); len(d) != 0 {
		t.Errorf("after failInterrupted, the next open dooms %v, want none", d)
	}
}
