package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
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
// cleared as it ends, never synced. The counts the last process left are
// written back in slots of their own as the journal is opened (carried),
// so that an end before those executions evaluate again keeps them. The file is mapped in memory where
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
	slots  int // slots handed out so far (the file's extent)
	free   []int
	// suspects holds the executions that were in the middle of an
	// evaluation at the last abrupt ends of the process (deaths counts
	// them), until EvalCountResetAfter has passed; doomed those of them
	// to fail (Recover, failInterrupted). carried is the slot that
	// holds each one's count meanwhile, and carrying the busy slots of
	// the evaluations a suspect has begun with its count (begin), which
	// forgetCounts writes again without it.
	suspects map[string]evalRecord
	doomed   map[string]evalRecord
	carried  map[string]int
	carrying map[int]evalRecord
	reset    *time.Timer
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

// EvalCountResetAfter is how long a process must run for the counts of
// abrupt ends it found to start again: a crash loop of a runaway
// evaluation ends each process within seconds of its start (an
// evaluation is held to 10 s, and its execution resumes at once), so
// ends that far apart are not one loop.
const EvalCountResetAfter = time.Minute

// evalRecord is what a slot of the journal holds: an execution, the
// state it evaluates (or last evaluated) in, and how many abrupt ends in
// a row, before this process, found it evaluating.
type evalRecord struct {
	arn, state string
	deaths     int
	busy       bool // read from a busy slot: evaluating when the file was read
}

// The journal's layout: a header, then slots of evalSlotSize bytes at
// most maxEvalSlots of them (4 MiB). A slot is a flag byte (evalBusy: an
// evaluation in progress; evalCarried: the count of an execution found
// evaluating at earlier ends, not evaluating now), a byte unused, the
// lengths of the ARN and of the state name and the count of abrupt ends
// (uint16 each), 16 bytes unused, the ARN and the state name. A state
// name too long for the rest of the slot is cut.
const (
	evalSlotSize   = 1024
	maxEvalSlots   = 4096
	evalSlotHeader = 24
	evalBusy       = 1
	evalCarried    = 2
)

// evalJournalMagic begins the journal's header slot.
var evalJournalMagic = []byte("stepmon evaluation journal 1\n")

// OpenEvalJournal opens the journal at path, creating it if missing. The
// executions it shows in the middle of an evaluation were so when the
// last process ended (a clean Close leaves none): each counts one more
// abrupt end in a row, and those that reach InterruptedEvalLimit are to
// fail (Recover). Counts carried from earlier ends are kept as they are.
// The file is then emptied for this process but for those counts, which
// are forgotten once the process has run for EvalCountResetAfter. One
// journal at a time may have the file open (stepmon serve holds the lock of its
// data directory): another would count the evaluations of this one, and
// cutting the file short under its mapping would end this process.
func OpenEvalJournal(path string) (*EvalJournal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("engine: open evaluation journal: %w", err)
	}
	j := &EvalJournal{f: f, suspects: map[string]evalRecord{}, doomed: map[string]evalRecord{}, carried: map[string]int{}, carrying: map[int]evalRecord{}}
	if err := j.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: read evaluation journal %s: %w", path, err)
	}
	if err := resetEvalJournal(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: reset evaluation journal %s: %w", path, err)
	}
	if j.out, err = mapEvalSlots(f, evalJournalSize); err != nil {
		j.out = fileSlots{f} // a file system that cannot map it
	}
	// The counts found are written back at once: an end before their
	// executions evaluate again (another runaway evaluation first, a
	// crash during start-up) must not forget them.
	for _, m := range []map[string]evalRecord{j.suspects, j.doomed} {
		for arn, r := range m {
			if slot := j.newSlot(evalCarried, r); slot >= 0 {
				j.carried[arn] = slot
			}
		}
	}
	j.reset = time.AfterFunc(EvalCountResetAfter, j.forgetCounts)
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

// evalJournalSize is the size of a journal file: its header slot and
// maxEvalSlots slots.
const evalJournalSize = (maxEvalSlots + 1) * evalSlotSize

// resetEvalJournal empties f to its header, then extends it to
// evalJournalSize, sparse: only the slots used take room.
func resetEvalJournal(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(evalJournalMagic, 0); err != nil {
		return err
	}
	return f.Truncate(evalJournalSize)
}

// fileSlots writes the journal's slots to its file (pwrite).
type fileSlots struct{ f *os.File }

func (s fileSlots) write(off int64, b []byte) { _, _ = s.f.WriteAt(b, off) }
func (s fileSlots) close() error              { return nil }

// load reads the evaluations the last process left in progress into
// j.suspects and j.doomed.
func (j *EvalJournal) load() error {
	b, err := io.ReadAll(io.LimitReader(j.f, evalJournalSize))
	if err != nil {
		return err
	}
	for arn, r := range parseEvalJournal(b) {
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
// it ended abruptly. (Counts carried from earlier ends are not shown.)
func ReadEvalJournal(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("engine: read evaluation journal: %w", err)
	}
	return evaluating(b), nil
}

// evaluating returns the executions a journal's bytes show in the middle
// of an evaluation, each with its state.
func evaluating(b []byte) map[string]string {
	out := map[string]string{}
	for arn, r := range parseEvalJournal(b) {
		if r.busy {
			out[arn] = r.state
		}
	}
	return out
}

// parseEvalJournal returns the executions a journal's bytes show with a
// count, each with the number of abrupt ends in a row it was found
// evaluating at, this end included: one more than its busy slot holds,
// or the count a carried slot holds (an execution not evaluating at the
// end keeps its count, neither raised nor reset). For several slots of
// one execution (Map iterations, Parallel branches, a carried count) the
// highest count wins, and the state of its slot. Bytes that are not a
// journal (an empty file: the first start) show none.
func parseEvalJournal(b []byte) map[string]evalRecord {
	out := map[string]evalRecord{}
	if !bytes.HasPrefix(b, evalJournalMagic) {
		return out
	}
	for off := evalSlotSize; off+evalSlotHeader <= len(b); off += evalSlotSize {
		s := b[off:min(off+evalSlotSize, len(b))]
		if s[0] != evalBusy && s[0] != evalCarried {
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
		}
		if s[0] == evalBusy {
			r.deaths++ // the end that left it busy
			r.busy = true
		}
		if old, ok := out[r.arn]; ok && (old.deaths > r.deaths || old.deaths == r.deaths && old.busy) {
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
	j.reset.Stop()
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
	// A suspect carries its count into every evaluation it starts until
	// the counts are forgotten: whichever is running at the next end,
	// the interrupted one again or one before it, the end comes before
	// the execution got past it.
	s, suspect := j.suspects[r.arn]
	if !suspect {
		return j.newSlot(evalBusy, r)
	}
	r.deaths = s.deaths
	slot := j.newSlot(evalBusy, r)
	if slot >= 0 {
		j.carrying[slot] = r
	}
	return slot
}

// newSlot writes r with flag in a free slot and returns it, or -1 when
// no slot could be written. j.mu is held (or j not yet shared).
func (j *EvalJournal) newSlot(flag byte, r evalRecord) int {
	n := encodeEvalRecord(j.buf[:], flag, r)
	switch {
	case len(j.free) > 0:
		slot := j.free[len(j.free)-1]
		j.free = j.free[:len(j.free)-1]
		j.out.write(int64(slot+1)*evalSlotSize, j.buf[:n])
		return slot
	case j.slots < maxEvalSlots:
		// A slot's first record is written to the file, whole: that
		// allocates its disk block, so that a full disk fails this
		// write (the evaluation is not recorded) rather than a store
		// into the mapping later (SIGBUS, which would end the process).
		clear(j.buf[n:])
		if _, err := j.f.WriteAt(j.buf[:], int64(j.slots+1)*evalSlotSize); err != nil {
			return -1
		}
		j.slots++
		return j.slots - 1
	default:
		return -1 // more evaluations at once than slots: not recorded
	}
}

// end records the end of the evaluation in slot (from begin).
func (j *EvalJournal) end(slot int) {
	if slot < 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.freeSlot(slot)
}

// freeSlot clears slot and makes it free again. j.mu is held.
func (j *EvalJournal) freeSlot(slot int) {
	j.out.write(int64(slot+1)*evalSlotSize, evalIdle[:])
	j.free = append(j.free, slot)
	delete(j.carrying, slot)
}

// forgetCounts forgets the counts of the suspects, once the process has
// run for EvalCountResetAfter: the ends it found were not one crash loop.
// The doomed keep theirs until Recover has failed them. An evaluation a
// suspect began before, still running, is written again without the
// count it carried: an end during it is the first of a new series, as
// during one begun after.
func (j *EvalJournal) forgetCounts() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	for arn := range j.suspects {
		if slot, ok := j.carried[arn]; ok {
			j.freeSlot(slot)
			delete(j.carried, arn)
		}
	}
	clear(j.suspects)
	for slot, r := range j.carrying {
		r.deaths = 0
		n := encodeEvalRecord(j.buf[:], evalBusy, r)
		j.out.write(int64(slot+1)*evalSlotSize, j.buf[:n])
	}
	clear(j.carrying)
}

// settled forgets the count of a doomed execution once its failure is
// committed, or once it was found not running any more.
func (j *EvalJournal) settled(arn string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	if slot, ok := j.carried[arn]; ok {
		j.freeSlot(slot)
		delete(j.carried, arn)
	}
}

// evalIdle is the flag byte of a slot whose evaluation ended.
var evalIdle = [1]byte{0}

// encodeEvalRecord writes r with flag into the slot b and returns its
// length.
func encodeEvalRecord(b []byte, flag byte, r evalRecord) int {
	arn, state := r.arn, r.state
	if len(arn) > len(b)-evalSlotHeader {
		arn = arn[:len(b)-evalSlotHeader] // longer than any valid ARN
	}
	state = state[:min(len(state), len(b)-evalSlotHeader-len(arn))]
	b[0], b[1] = flag, 0
	binary.LittleEndian.PutUint16(b[2:], uint16(len(arn)))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(state)))
	binary.LittleEndian.PutUint16(b[6:], uint16(min(r.deaths, 0xffff)))
	clear(b[8:evalSlotHeader])
	n := evalSlotHeader + copy(b[evalSlotHeader:], arn)
	return n + copy(b[n:], state)
}

// takeDoomed returns the executions to fail (see Recover), each with the
// state it was evaluating in; their counts stay in the file until settled.
func (j *EvalJournal) takeDoomed() map[string]evalRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := j.doomed
	j.doomed = map[string]evalRecord{}
	return d
}

// Interrupted returns the executions that were in the middle of a JSONata
// evaluation at the last abrupt ends of the process and are still to be
// resumed (Recover takes those to fail), each with how many abrupt ends
// in a row found it so, until the counts are forgotten
// (EvalCountResetAfter).
func (j *EvalJournal) Interrupted() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]int, len(j.suspects))
	for arn, r := range j.suspects {
		out[arn] = r.deaths
	}
	return out
}
