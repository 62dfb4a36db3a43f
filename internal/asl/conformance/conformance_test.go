package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/testtool"
)

// testCase is one file of the corpus (the fields the runner uses).
type testCase struct {
	ID         string                       `json:"id"`
	Definition json.RawMessage              `json:"definition"`
	Input      string                       `json:"input"`
	EventOrder string                       `json:"eventOrder"`
	Recorded   string                       `json:"recordedDate"` // "15-11-2024, 13:56:59"
	History    []map[string]json.RawMessage `json:"history"`
	Expected   struct {
		Status    string       `json:"status"`
		Output    *string      `json:"output"`
		Error     *string      `json:"error"`
		Cause     *string      `json:"cause"`
		Events    [][2]*string `json:"events"`
		Wildcards []struct {
			Token string `json:"token"`
			Scope string `json:"scope"`
		} `json:"wildcards"`
	} `json:"expected"`
}

// casesEnv names the corpus's cases directory for a checkout that is not
// next to ../shared (a scratch clone, a worktree).
const casesEnv = "ASL_CONFORMANCE_CASES"

// casesDir finds the cases: $ASL_CONFORMANCE_CASES when set, else
// ../shared/asl-conformance/cases next to the module root.
func casesDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv(casesEnv); dir != "" {
		return dir
	}
	return filepath.Join(testtool.Root(t), "..", "shared", "asl-conformance", "cases")
}

func loadKnownFailures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("known_failures.txt")
	if err != nil {
		t.Fatalf("open known failures: %v", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, "\t")
		out[strings.TrimSpace(id)] = strings.TrimSpace(reason)
	}
	return out
}

// result is what one run produced.
type result struct {
	status, output, errName, cause string
	hasOutput, hasError, hasCause  bool
	events                         [][2]string
	prevs                          []int64
	// shapes are the events' shapes (see eventShape), as the Step
	// Functions API answers them.
	shapes []string
}

func runCase(c *testCase) (*result, error) {
	clock := engine.NewVirtualClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	eng := engine.New(engine.Options{Clock: clock})
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sm, err := eng.CreateStateMachine(ctx, "conformance-sm", string(c.Definition), "")
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	x, err := eng.StartExecution(ctx, sm.Arn, "conformance-exec", c.Input)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	done, err := eng.Wait(ctx, x.Arn)
	if err != nil {
		return nil, fmt.Errorf("wait: %w", err)
	}
	hist, err := eng.History(ctx, x.Arn)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	r := &result{status: string(done.Status), output: done.Output, hasOutput: done.HasOutput,
		errName: done.Error, cause: done.Cause}
	for _, ev := range hist {
		r.events = append(r.events, [2]string{ev.Type, ev.StateName()})
		r.prevs = append(r.prevs, ev.PreviousEventID)
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event %d: %w", ev.ID, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", ev.ID, err)
		}
		r.shapes = append(r.shapes, eventShape(m))
		if ev.Type == "ExecutionFailed" {
			r.hasError, r.hasCause = ev.Details.HasError, ev.Details.HasCause
		}
	}
	return r, nil
}

// matcher compares expected values that hold the corpus' placeholders.
type matcher struct {
	wholeValue map[string]bool
	substrings []string
}

func newMatcher(c *testCase) *matcher {
	m := &matcher{wholeValue: map[string]bool{"timestamp": true, "datetime": true}}
	for _, w := range c.Expected.Wildcards {
		if w.Scope == "value" {
			m.wholeValue[w.Token] = true
		} else {
			m.substrings = append(m.substrings, w.Token)
		}
	}
	return m
}

var (
	tokenRE = regexp.MustCompile(`<[^<>]+>`)
	isoRE   = `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})`
)

// matchString reports whether got matches the expected string with its
// placeholders.
func (m *matcher) matchString(want, got string) bool {
	if want == got || m.wholeValue[want] {
		return true
	}
	if tokenRE.MatchString(want) && tokenRE.FindString(want) == want {
		return true
	}
	var pat strings.Builder
	pat.WriteString("^")
	rest := want
	for len(rest) > 0 {
		next, kind := len(rest), ""
		try := func(i int, k string) {
			if i >= 0 && i < next {
				next, kind = i, k
			}
		}
		if loc := tokenRE.FindStringIndex(rest); loc != nil {
			try(loc[0], "token")
		}
		try(strings.Index(rest, "111111111111"), "account")
		try(strings.Index(rest, "snf_role_arn"), "role")
		try(strings.Index(rest, "sfn_role_arn"), "role")
		try(wordIndex(rest, "date"), "date")
		for _, s := range m.substrings {
			try(strings.Index(rest, s), "sub:"+s)
		}
		pat.WriteString(regexp.QuoteMeta(rest[:next]))
		if kind == "" {
			break
		}
		rest = rest[next:]
		switch {
		case kind == "token":
			loc := tokenRE.FindStringIndex(rest)
			rest = rest[loc[1]:]
			pat.WriteString("(?s:.*?)")
		case kind == "account":
			rest = rest[12:]
			pat.WriteString(`\d{12}`)
		case kind == "role":
			rest = rest[len("snf_role_arn"):]
			pat.WriteString("(?s:.*?)")
		case kind == "date":
			rest = rest[4:]
			pat.WriteString("(?:date|" + isoRE + ")")
		default:
			rest = rest[len(strings.TrimPrefix(kind, "sub:")):]
			pat.WriteString("(?s:.*?)")
		}
	}
	pat.WriteString("$")
	re, err := regexp.Compile(pat.String())
	return err == nil && re.MatchString(got)
}

// wordIndex finds "date" as a placeholder (not inside a longer word).
func wordIndex(s, w string) int {
	off := 0
	for {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		before := i == 0 || !isWordByte(s[i-1])
		after := i+len(w) >= len(s) || !isWordByte(s[i+len(w)])
		if before && after {
			return i
		}
		off = i + len(w)
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matchValue compares JSON values (numbers numerically, key order
// ignored, placeholders honoured).
func (m *matcher) matchValue(want, got any) bool {
	if s, ok := want.(string); ok && (m.wholeValue[s] || (tokenRE.FindString(s) == s && s != "")) {
		return true
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !m.matchValue(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !m.matchValue(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		return ok && m.matchString(w, g)
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		wf, err1 := w.Float64()
		gf, err2 := g.Float64()
		return err1 == nil && err2 == nil && wf == gf
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

func decodeNumbers(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// compare returns the differences between a result and a case.
func compare(c *testCase, r *result) []string {
	m := newMatcher(c)
	var diffs []string
	if r.status != c.Expected.Status {
		diffs = append(diffs, fmt.Sprintf("status = %s (error %q, cause %q), want %s", r.status, r.errName, r.cause, c.Expected.Status))
	}
	if c.Expected.Output != nil {
		want, err1 := decodeNumbers(*c.Expected.Output)
		got, err2 := decodeNumbers(r.output)
		if err1 != nil || err2 != nil || !m.matchValue(want, got) {
			diffs = append(diffs, fmt.Sprintf("output = %s\n  want   %s", r.output, *c.Expected.Output))
		}
	}
	if c.Expected.Status == "FAILED" {
		switch {
		case c.Expected.Error == nil && r.hasError:
			diffs = append(diffs, fmt.Sprintf("error = %q, want none", r.errName))
		case c.Expected.Error != nil && !m.matchString(*c.Expected.Error, r.errName):
			diffs = append(diffs, fmt.Sprintf("error = %q, want %q", r.errName, *c.Expected.Error))
		}
		switch {
		case c.Expected.Cause == nil && r.hasCause:
			diffs = append(diffs, fmt.Sprintf("cause = %q, want none", r.cause))
		case c.Expected.Cause != nil && !m.matchString(*c.Expected.Cause, r.cause):
			diffs = append(diffs, fmt.Sprintf("cause = %q\n  want   %q", r.cause, *c.Expected.Cause))
		}
	}
	want := recordedOrder(c)
	got := r.events
	if c.EventOrder == "normalised-parallel" {
		// The recording sorted the branch events and lost the
		// ParallelStateSucceeded event (its id is missing).
		got = slices.DeleteFunc(slices.Clone(got), func(e [2]string) bool { return e[0] == "ParallelStateSucceeded" })
	}
	var ok bool
	if c.EventOrder == "sequential" {
		ok = slices.Equal(want, got)
	} else {
		ok = sameMultiset(want, got)
	}
	if !ok {
		diffs = append(diffs, fmt.Sprintf("events (%s) = %v\n  want   %v", c.EventOrder, got, want))
	}
	return diffs
}

// mapRunChainChanged is when AWS changed the event a Map state's
// MapStateExited follows after a Map Run: its MapRunSucceeded in the
// recordings up to July 2024, its MapRunStarted in those from November
// 2024 on. The engine chains them as AWS does now.
var mapRunChainChanged = time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)

// prevDiffs compares previousEventId with the recording for every event
// whose id the recording kept, the first difference it finds, once the
// events themselves match (compare). A case with Map or Parallel states
// is compared only when the engine ran its iterations and branches in
// the order recorded, so that the ids name the same events; the corpus
// zeroes the ids where it sorted a Parallel state's events. compared
// reports whether the case was compared.
func prevDiffs(c *testCase, r *result) (diffs []string, compared bool) {
	if c.EventOrder == "concurrent" && !slices.Equal(recordedOrder(c), r.events) {
		return nil, false
	}
	if at, err := time.Parse("02-01-2006, 15:04:05", c.Recorded); err == nil && at.Before(mapRunChainChanged) &&
		slices.ContainsFunc(r.events, func(e [2]string) bool { return e[0] == "MapRunStarted" }) {
		return nil, false
	}
	for i, h := range c.History {
		var id int
		if err := json.Unmarshal(h["id"], &id); err != nil || id == 0 {
			continue // sorted by the corpus
		}
		if id > len(r.prevs) {
			return []string{fmt.Sprintf("event %d (id %d) is past the run's %d events", i+1, id, len(r.prevs))}, true
		}
		if got := fmt.Sprint(r.prevs[id-1]); string(h["previousEventId"]) != got {
			return []string{fmt.Sprintf("event %d previousEventId = %s, want %s", id, got, h["previousEventId"])}, true
		}
	}
	return nil, true
}

// recordedOrder is the case's events as compare reads them: type and
// state name, in the recorded order.
func recordedOrder(c *testCase) [][2]string {
	want := make([][2]string, len(c.Expected.Events))
	for i, e := range c.Expected.Events {
		if e[0] != nil {
			want[i][0] = *e[0]
		}
		if e[1] != nil {
			want[i][1] = *e[1]
		}
	}
	return want
}

// eventShape is what an event holds, not its values: its type and the
// names of its members and of the members of its details objects, nested
// objects named "...Details" included ("PassStateExited{stateExitedEvent
// Details{name output outputDetails{truncated}}}"). The timestamp, which
// the recordings leave out, is not part of it.
func eventShape(ev map[string]json.RawMessage) string {
	var typ string
	_ = json.Unmarshal(ev["type"], &typ)
	return typ + objectShape(ev, true)
}

func objectShape(obj map[string]json.RawMessage, top bool) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if top && (k == "timestamp" || k == "type") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(k)
		var inner map[string]json.RawMessage
		if strings.HasSuffix(k, "Details") && json.Unmarshal(obj[k], &inner) == nil {
			b.WriteString(objectShape(inner, false))
		}
	}
	b.WriteString("}")
	return b.String()
}

// shapeDiffs lists the events whose shape differs from the recording's
// (sequential cases, where the events line up one to one): a member AWS
// leaves out, or one it has that the engine lacks, fails the case.
func shapeDiffs(c *testCase, r *result) []string {
	if len(c.History) != len(r.shapes) {
		return nil // the event lists differ, which compare reports
	}
	var diffs []string
	for i, h := range c.History {
		if want := eventShape(h); want != r.shapes[i] {
			diffs = append(diffs, fmt.Sprintf("event %d shape = %s\n  want   %s", i+1, r.shapes[i], want))
		}
	}
	return diffs
}

func sameMultiset(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(e [2]string) string { return e[0] + "\x00" + e[1] }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	sort.Strings(ka)
	sort.Strings(kb)
	return slices.Equal(ka, kb)
}

func TestConformance(t *testing.T) {
	dir := casesDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		testtool.Missing(t, fmt.Sprintf("no conformance cases in %s (the shared corpus is not checked out next to the repository; %s names another directory)", dir, casesEnv))
	}
	known := loadKnownFailures(t)
	passed, failed, knownFailed := 0, 0, 0
	sequential, chained := 0, 0
	var nowPassing []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		var c testCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		t.Run(c.ID, func(t *testing.T) {
			r, err := runCase(&c)
			var diffs []string
			if err != nil {
				var verrs asl.ValidationErrors
				if errors.As(err, &verrs) {
					diffs = []string{"definition rejected: " + err.Error()}
				} else {
					diffs = []string{err.Error()}
				}
			} else {
				diffs = compare(&c, r)
				if c.EventOrder == "sequential" {
					sequential++
					diffs = append(diffs, shapeDiffs(&c, r)...)
				}
				if len(diffs) == 0 {
					var compared bool
					if diffs, compared = prevDiffs(&c, r); compared && c.EventOrder != "sequential" {
						chained++
					}
				}
			}
			reason, isKnown := known[c.ID]
			switch {
			case len(diffs) == 0:
				passed++
				if isKnown {
					nowPassing = append(nowPassing, c.ID)
				}
			case isKnown:
				knownFailed++
				t.Logf("known failure (%s):\n%s", reason, strings.Join(diffs, "\n"))
			default:
				failed++
				t.Errorf("%s", strings.Join(diffs, "\n"))
			}
		})
	}
	total := len(files)
	summary := fmt.Sprintf("ASL conformance: %d/%d passed (%.1f%%), %d known failures, %d unexpected failures",
		passed, total, 100*float64(passed)/float64(total), knownFailed, failed)
	t.Log(summary)
	t.Logf("%d sequential cases also compared event by event (members, previousEventId), and %d with Map or Parallel states by previousEventId",
		sequential, chained)
	fmt.Println(summary)
	for _, id := range nowPassing {
		t.Errorf("%s passes now: remove it from known_failures.txt", id)
	}
}
