package monitor

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Execution names. A monitor runs as the execution named after its
// instance id (generation 0), then continues as new in executions named
// "{instanceId}-g{runTag}-g{n}" (generation n), where runTag is
// RunTagOf(the monitor's start time): "abc", "abc-g402913-g1",
// "abc-g402913-g2", ... Monitors started before run tags continued as
// "{instanceId}-g{n}" and those names are still understood.
//
// Step Functions keeps a finished execution's name taken for 90 days (the
// local runtime for its retention), so an instance id can be used again
// once its first execution's name is free while a later generation's
// name is still taken. The run tag keeps the new monitor's continuations
// from running into the old one's.
//
// No name can be read two ways: an instance id may not end in "-g" and
// digits (HasGenerationSuffix), so "{id}-g{runTag}" is never an id and a
// tagged name is never an untagged one of another monitor.

// RunTagDigits is the length of a run tag. With at most six digits of
// generation (a generation lasts at least two minutes, a monitor at most
// a year) the suffix "-g{runTag}-g{n}" takes at most 16 of the 80
// characters of an execution name, the room MaxInstanceIDLen leaves. A
// tag only has to differ from that of the one earlier monitor of the same
// id whose names can still be taken (a name stays taken 90 days after its
// execution ends, and the id's first execution must have ended that long
// before the id can start again): one chance in a million that it does
// not.
const RunTagDigits = 6

// runTagValues is 10^RunTagDigits, the number of distinct run tags.
const runTagValues = 1_000_000

// RunTagOf returns the run tag of a monitor started at startedAt (the
// State's StartedAt, to the microsecond): RunTagDigits decimal digits of
// a hash of it. It is derived rather than kept, so that the state, which
// every history event of every check carries, does not grow by it.
func RunTagOf(startedAt time.Time) string {
	h := fnv.New32a()
	h.Write([]byte(startedAt.UTC().Format(time.RFC3339Nano)))
	return fmt.Sprintf("%0*d", RunTagDigits, h.Sum32()%runTagValues)
}

// AlertKey returns the idempotency key of the alert of the monitor id
// started at startedAt (State.StartedAt, the record's CreatedTime):
// "{id}@{start}", the start in UTC to the microsecond, the precision the
// stores keep it at (2026-12-05T15:34:06.123456Z). Every attempt of the
// alert, the state machine's retries and every continue-as-new generation
// of one monitor carry the same key; a later monitor of the same id
// (started again once the first was purged) starts later, so its key
// differs and a receiver that drops a repeated key does not drop its
// alert. An instance id holds no "@", so a key is never one. For a zero
// startedAt (a state written without one) it is the bare id.
func AlertKey(id string, startedAt time.Time) string {
	if startedAt.IsZero() {
		return id
	}
	return id + "@" + startedAt.UTC().Format(alertKeyTime)
}

// alertKeyTime is the layout of the start time in AlertKey.
const alertKeyTime = "2006-01-02T15:04:05.000000Z"

// validRunTag reports whether tag is a well-formed run tag.
func validRunTag(tag string) bool {
	if len(tag) != RunTagDigits {
		return false
	}
	for i := range len(tag) {
		if tag[i] < '0' || tag[i] > '9' {
			return false
		}
	}
	return true
}

// ExecutionName returns the name of generation gen of the monitor id
// whose run tag is tag: id for generation 0, "{id}-g{tag}-g{gen}" after,
// or "{id}-g{gen}" for a monitor without a run tag. The state machine's
// ContinueAsNew state builds the same names.
func ExecutionName(id, tag string, gen int) string {
	switch {
	case gen <= 0:
		return id
	case tag == "":
		return id + "-g" + strconv.Itoa(gen)
	default:
		return id + "-g" + tag + "-g" + strconv.Itoa(gen)
	}
}

// cutGeneration cuts the suffix "-g{n}" (n > 0, no leading zero) off
// name.
func cutGeneration(name string) (prefix string, n int, ok bool) {
	i := strings.LastIndex(name, "-g")
	if i <= 0 {
		return "", 0, false
	}
	n, ok = generationNumber(name[i+2:])
	return name[:i], n, ok
}

// generationNumber parses s, a generation number: a positive decimal
// without a sign or leading zeros.
func generationNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// cutRunTag cuts the suffix "-g{runTag}" off prefix.
func cutRunTag(prefix string) (id, tag string, ok bool) {
	i := len(prefix) - RunTagDigits - 2
	if i <= 0 || prefix[i:i+2] != "-g" || !validRunTag(prefix[i+2:]) {
		return "", "", false
	}
	return prefix[:i], prefix[i+2:], true
}

// parseExecutionName reads name as an execution of monitor id: its run
// tag ("" for generation 0 and untagged names) and generation. ok is
// false when name is no execution of id.
func parseExecutionName(id, name string) (tag string, gen int, ok bool) {
	if name == id {
		return "", 0, true
	}
	prefix, gen, ok := cutGeneration(name)
	if !ok {
		return "", 0, false
	}
	if prefix == id {
		return "", gen, true
	}
	if base, tag, ok := cutRunTag(prefix); ok && base == id {
		return tag, gen, true
	}
	return "", 0, false
}

// instanceIDsFor returns the instance ids an execution name can belong
// to, most likely first: for "{id}-g{runTag}-g{n}" the id; then, for any
// name ending in "-g{n}", the name itself (generation 0) and the name
// without "-g{n}" (an untagged "{id}-g{n}"). The later candidates can only
// be ids taken before HasGenerationSuffix was enforced.
func instanceIDsFor(name string) []string {
	prefix, _, ok := cutGeneration(name)
	if !ok {
		return []string{name}
	}
	var ids []string
	if id, _, ok := cutRunTag(prefix); ok {
		ids = append(ids, id)
	}
	return append(ids, name, prefix)
}

// executionName returns the name part of an execution ARN
// (arn:aws:states:region:account:execution:stateMachine:name), or the
// argument itself when it has no colon.
func executionName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// generationOf returns the continue-as-new generation of the execution arn
// of monitor id (see ExecutionName), or -1 for a name that is not one of
// id's.
func generationOf(id, arn string) int {
	_, gen, ok := parseExecutionName(id, executionName(arn))
	if !ok {
		return -1
	}
	return gen
}

// laterGeneration reports whether execution a is a later generation of
// monitor id than execution b, of the same run: a different run tag makes
// it another monitor's (see otherRun).
func laterGeneration(id, a, b string) bool {
	return generationOf(id, a) > generationOf(id, b) && !otherRun(id, a, b)
}

// otherRun reports whether the executions a and b of monitor id belong to
// different monitors of that id: both carry a run tag, and the tags
// differ.
func otherRun(id, a, b string) bool {
	ta, _, _ := parseExecutionName(id, executionName(a))
	tb, _, _ := parseExecutionName(id, executionName(b))
	return ta != "" && tb != "" && ta != tb
}
