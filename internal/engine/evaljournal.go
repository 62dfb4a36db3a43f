package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
)

// EvalJournal records in a file which executions are in the middle of a
// JSONata evaluation, so that after the process ended abruptly the next
// one can tell which evaluation was running. The memory of an evaluation
// is not bounded (docs/asl.md): one that allocates without end gets the
// process killed (Go's fatal "out of memory", the kernel's OOM killer),
// the execution is still RUNNING, and every restart would resume it into
// the same end. Recover fails an execution that was in the middle of an
// evaluation at InterruptedEvalLimit consecutive abrupt ends instead.
//
// The file is a header and fixed-size slots, one per evaluation in
// progress: a slot is written as the evaluation starts and its first byte
// cleared as it ends, never synced. The file is mapped in memory where
// the system allows (mmap), else written (pwrite): either way what is
// written is in the page cache, which outlives the process, and that is
// all the journal is for; a power loss may lose it, which only restarts
// the count. An EvalJournal costs nothing to the states that evaluate no
// JSONata, and two small copies to each JSONata evaluation (two system
// calls without mmap).
//
// Its methods are safe for concurrent use.
type EvalJournal struct {
	mu     sync.Mutex
	f      *os.File
	out    evalSlots // f, mapped in memory if it can be
	closed bool
	slots  int   // slots handed out so far (the file's extent)
	free   []int // slots handed out and free again
	held   []evalRecord
	// suspects holds the executions that were in the middle of an
	// evaluation when the last process ended abruptly, until that
	// evaluation ends in this one (evalRecord.deaths counts the abrupt
	// ends in a row); doomed those of them to fail (Recover).
	suspects map[string]evalRecord
	doomed   map[string]evalRecord
	buf      [evalSlotSize]byte
}

// InterruptedEvalLimit is how many consecutive abrupt ends of the process
// an execution may be found in the middle of a JSONata evaluation at
// before Recover fails it instead of resuming it.
//
// Three: the first may be anything (a kill -9, a crash elsewhere, the OOM
// killer choosing this process for another's memory), and an execution
// must survive it as it survives any crash; a second at the same
// execution's evaluation is already unlikely by chance (evaluations last
// microseconds) but is what a user who restarts a hung runtime twice
// gets; a third leaves little doubt, and bounds the crash loop to three
// restarts of at most the evaluation's time limit each.
const InterruptedEvalLimit = 3

// evalRecord is what a slot of the journal holds: an execution and the
// state it evaluates in, where the evaluation stands in the execution's
// run (from, seq) and how many abrupt ends in a row the execution was
// found evaluating at before.
type evalRecord struct {
	arn, state string
	// from is the last event of the run state the execution resumed from
	// and seq the evaluation's rank since that resume: a resume from the
	// same run state repeats the same evaluations in the same order, so
	// they tell the evaluation that was running at the end when it runs
	// again, and when it ends.
	from, seq int64
	deaths    int
}

// The journal's layout: a header, then slots of evalSlotSize bytes at
// most maxEvalSlots of them (4 MiB). A slot is a flag byte (evalBusy: an
// evaluation in progress), a byte unused, the lengths of the ARN and of
// the state name and the count of abrupt ends (uint16 each), from and
// seq (int64 each), the ARN and the state name. A state name too long
// for the rest of the slot is cut.
const (
	evalSlotSize   = 1024
	maxEvalSlots   = 4096
	evalSlotHeader = 24
	evalBusy       = 1
)

// evalJournalMagic begins the journal's header slot.
var evalJournalMagic = []byte("stepmon evaluation journal 1\n")

// OpenEvalJournal opens the journal at path, creating it if missing. The
// executions it shows in the middle of an evaluation were so when the
// last process ended (a clean Close leaves none): each counts one more
// abrupt end in a row, and those that reach InterruptedEvalLimit are to
// fail (Recover). The file is then emptied for this process. One journal
// at a time may have the file open (stepmon serve holds the lock of its
// data directory): another would count the evaluations of this one, and
// cutting the file short under its mapping would end this process.
func OpenEvalJournal(path string) (*EvalJournal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("engine: open evaluation journal: %w", err)
	}
	j := &EvalJournal{f: f, suspects: map[string]evalRecord{}, doomed: map[string]evalRecord{}}
	if err := j.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: read evaluation journal %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: reset evaluation journal %s: %w", path, err)
	}
	if _, err := f.WriteAt(evalJournalMagic, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: reset evaluation journal %s: %w", path, err)
	}
	size := (maxEvalSlots + 1) * evalSlotSize
	if err := f.Truncate(int64(size)); err != nil { // sparse: the slots used take room
		f.Close()
		return nil, fmt.Errorf("engine: reset evaluation journal %s: %w", path, err)
	}
	if j.out, err = mapEvalSlots(f, size); err != nil {
		j.out = fileSlots{f} // a file system that cannot map it
	}
	return j, nil
}

// evalSlots is where the journal's slots are written.
type evalSlots interface {
	// write stores b at off; a failure loses the record (the journal
	// is a hint, and the page cache fails a write of a file already
	// open for little else than a full disk).
	write(off int64, b []byte)
	close() error
}

// fileSlots writes the journal's slots to its file (pwrite).
type fileSlots struct{ f *os.File }

func (s fileSlots) write(off int64, b []byte) { _, _ = s.f.WriteAt(b, off) }
func (s fileSlots) close() error              { return nil }

// load reads the evaluations the last process left in progress into
// j.suspects and j.doomed.
func (j *EvalJournal) load() error {
	b, err := io.ReadAll(io.LimitReader(j.f, (maxEvalSlots+1)*evalSlotSize))
	if err != nil {
		return err
	}
	for arn, r := range parseEvalJournal(b) {
		r.deaths++ // the end of the last process
		if r.deaths >= InterruptedEvalLimit {
			j.doomed[arn] = r
		} else {
			j.suspects[arn] = r
		}
	}
	return nil
}

// ReadEvalJournal returns the executions the journal file at path shows
// in the middle of a JSONata evaluation, each with the state it evaluates
// in: those of the process that has it open, or those of the last one if
// it ended abruptly.
func ReadEvalJournal(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("engine: read evaluation journal: %w", err)
	}
	out := map[string]string{}
	for arn, r := range parseEvalJournal(b) {
		out[arn] = r.state
	}
	return out, nil
}

// parseEvalJournal returns the evaluations in progress a journal's bytes
// show, one per execution: for several at once (Map iterations, Parallel
// branches), the one with the longest count. Bytes that are not a journal
// (an empty file: the first start) show none.
func parseEvalJournal(b []byte) map[string]evalRecord {
	out := map[string]evalRecord{}
	if !bytes.HasPrefix(b, evalJournalMagic) {
		return out
	}
	for off := evalSlotSize; off+evalSlotHeader <= len(b); off += evalSlotSize {
		s := b[off:min(off+evalSlotSize, len(b))]
		if s[0] != evalBusy {
			continue
		}
		na, ns := int(binary.LittleEndian.Uint16(s[2:])), int(binary.LittleEndian.Uint16(s[4:]))
		if evalSlotHeader+na+ns > len(s) {
			continue // torn: the file was cut short
		}
		r := evalRecord{
			arn:    string(s[evalSlotHeader : evalSlotHeader+na]),
			state:  string(s[evalSlotHeader+na : evalSlotHeader+na+ns]),
			deaths: int(binary.LittleEndian.Uint16(s[6:])),
			from:   int64(binary.LittleEndian.Uint64(s[8:])),
			seq:    int64(binary.LittleEndian.Uint64(s[16:])),
		}
		if old, ok := out[r.arn]; ok && old.deaths >= r.deaths {
			continue
		}
		out[r.arn] = r
	}
	return out
}

// Close empties the journal and closes it: the process ends cleanly, no
// evaluation is in progress for the next one to count. Evaluations that
// still end afterwards write nothing.
func (j *EvalJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.out.close()
	if terr := j.f.Truncate(int64(len(evalJournalMagic))); err == nil {
		err = terr
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("engine: close evaluation journal: %w", err)
	}
	return nil
}

// begin records the start of an evaluation and returns its slot, or -1
// when it could not be recorded (the journal is closed or full).
func (j *EvalJournal) begin(r evalRecord) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return -1
	}
	// A suspect carries its count into every evaluation it starts, the
	// interrupted one or one before it: an end of the process during
	// either comes before the interrupted evaluation could end.
	if s, ok := j.suspects[r.arn]; ok {
		r.deaths = s.deaths
	}
	n := encodeEvalRecord(j.buf[:], r)
	var slot int
	switch {
	case len(j.free) > 0:
		slot = j.free[len(j.free)-1]
		j.free = j.free[:len(j.free)-1]
		j.out.write(int64(slot+1)*evalSlotSize, j.buf[:n])
	case j.slots < maxEvalSlots:
		// A slot's first record is written to the file, whole: that
		// allocates its disk block, so that a full disk fails this
		// write (the evaluation is not recorded) rather than a store
		// into the mapping later (SIGBUS, which would end the process).
		clear(j.buf[n:])
		if _, err := j.f.WriteAt(j.buf[:], int64(j.slots+1)*evalSlotSize); err != nil {
			return -1
		}
		slot = j.slots
		j.slots++
		j.held = append(j.held, evalRecord{})
	default:
		return -1 // more evaluations at once than slots: not recorded
	}
	j.held[slot] = r
	return slot
}

// end records the end of the evaluation in slot (from begin). The end of
// the evaluation a suspect execution was found in the middle of clears
// its count.
func (j *EvalJournal) end(slot int) {
	if slot < 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.out.write(int64(slot+1)*evalSlotSize, evalIdle[:])
	r := j.held[slot]
	if s, ok := j.suspects[r.arn]; ok && s.from == r.from && s.seq == r.seq {
		delete(j.suspects, r.arn)
	}
	j.held[slot] = evalRecord{}
	j.free = append(j.free, slot)
}

// evalIdle is the flag byte of a slot whose evaluation ended.
var evalIdle = [1]byte{0}

// encodeEvalRecord writes r into the slot b and returns its length.
func encodeEvalRecord(b []byte, r evalRecord) int {
	arn, state := r.arn, r.state
	if len(arn) > len(b)-evalSlotHeader {
		arn = arn[:len(b)-evalSlotHeader] // longer than any valid ARN
	}
	state = state[:min(len(state), len(b)-evalSlotHeader-len(arn))]
	b[0], b[1] = evalBusy, 0
	binary.LittleEndian.PutUint16(b[2:], uint16(len(arn)))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(state)))
	binary.LittleEndian.PutUint16(b[6:], uint16(min(r.deaths, 0xffff)))
	binary.LittleEndian.PutUint64(b[8:], uint64(r.from))
	binary.LittleEndian.PutUint64(b[16:], uint64(r.seq))
	n := evalSlotHeader + copy(b[evalSlotHeader:], arn)
	return n + copy(b[n:], state)
}

// takeDoomed returns the executions to fail (see Recover), each with the
// state it was evaluating in, and forgets them.
func (j *EvalJournal) takeDoomed() map[string]evalRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := j.doomed
	j.doomed = map[string]evalRecord{}
	return d
}

// Interrupted returns the executions that were in the middle of a JSONata
// evaluation when the last process ended abruptly and are still to be
// resumed (Recover takes those to fail), each with how many abrupt ends
// in a row found it so. An execution leaves it when that evaluation ends.
func (j *EvalJournal) Interrupted() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]int, len(j.suspects))
	for arn, r := range j.suspects {
		out[arn] = r.deaths
	}
	return out
}
