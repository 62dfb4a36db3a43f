package monitor

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecordPending(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want int
	}{
		{"no events", Record{}, 0},
		{"listed", Record{PendingEvents: 3}, 3},
		{"read with events", Record{Events: []Event{{Name: "a"}, {Name: "b", ConsumedBy: 2}, {Name: "c"}}}, 2},
		{"events win over the count", Record{Events: []Event{{Name: "a", ConsumedBy: 1}}, PendingEvents: 5}, 0},
		{"read with no events", Record{Events: []Event{}, PendingEvents: 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Pending(); got != tt.want {
				t.Errorf("Pending() = %d, want %d", got, tt.want)
			}
		})
	}
}

// Clone copies every field, and the copy shares no memory with the
// original. The sample sets every pointer, slice and map of a Record, so
// that a field added later without a copy in Clone fails here.
func TestRecordClone(t *testing.T) {
	n1, n2 := 1, 2
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := Record{
		InstanceID: "a", Name: "JobMonitor", RuntimeStatus: RuntimeRunning,
		Input: Spec{JobID: "j", Target: Target{Type: "http", URL: "https://x.example", Headers: map[string]string{"k": "v"},
			DoneValues: []string{"d"}, FailedValues: []string{"f"}, RunningValues: []string{"r"}},
			PollingIntervalSeconds: 5, Backoff: &Backoff{Multiplier: 2, MaxIntervalSeconds: 60}, TimeoutSeconds: 60,
			Alert: &Alert{WebhookURL: "https://hook.example"}},
		CustomStatus:    &CustomStatus{Status: "Running", CheckCount: 1, LastCheckTime: now, OpenIssues: &n1},
		Output:          &Output{FinalStatus: "Completed", OpenIssues: &n2},
		CreatedTime:     now,
		LastUpdatedTime: now,
		ExpiresAt:       now,
		Alert:           AlertState{Status: AlertSent, SentAt: now},
		Events:          []Event{{Name: "e", Data: []byte(`{"a":1}`), RaisedAt: now}},
		PendingEvents:   1,
		PurgeAt:         now,
	}
	walkRefs(t, "Record", reflect.ValueOf(rec), func(path string, v reflect.Value) {
		if v.IsNil() {
			t.Errorf("the sample leaves %s nil", path)
		}
	})
	c := rec.Clone()
	if !reflect.DeepEqual(c, rec) {
		t.Fatalf("Clone() = %+v, want %+v", c, rec)
	}
	var refs []uintptr
	walkRefs(t, "Record", reflect.ValueOf(rec), func(_ string, v reflect.Value) { refs = append(refs, v.Pointer()) })
	i := 0
	walkRefs(t, "Record", reflect.ValueOf(c), func(path string, v reflect.Value) {
		if v.Pointer() == refs[i] {
			t.Errorf("the clone shares %s with the original", path)
		}
		i++
	})
}

// walkRefs calls f with every pointer, slice and map reachable from v
// through structs, pointers and slices.
func walkRefs(t *testing.T, path string, v reflect.Value, f func(path string, v reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			walkRefs(t, path+"."+v.Type().Field(i).Name, v.Field(i), f)
		}
	case reflect.Pointer:
		f(path, v)
		if !v.IsNil() {
			walkRefs(t, path, v.Elem(), f)
		}
	case reflect.Slice:
		f(path, v)
		for i := range v.Len() {
			walkRefs(t, path+"[]", v.Index(i), f)
		}
	case reflect.Map:
		f(path, v)
	case reflect.Interface, reflect.Chan, reflect.Func:
		t.Fatalf("%s: a %s, which walkRefs cannot check", path, v.Kind())
	}
}

// ConsumeEventsKept marks pending events, drops those of earlier checks
// when anything changes, and says where each kept event was.
func TestConsumeEventsKept(t *testing.T) {
	by := func(checks ...int) []Event {
		evs := make([]Event, len(checks))
		for i, c := range checks {
			evs[i] = Event{Name: string(rune('a' + i%26)), ConsumedBy: c}
		}
		return evs
	}
	full := make([]int, MaxEventsPerMonitor) // all consumed by check 1
	for i := range full {
		full[i] = 1
	}
	fullWithLater := append(slices.Clone(full[:MaxEventsPerMonitor-1]), 3)
	tests := []struct {
		name        string
		evs         []Event
		check       int
		wantChecks  []int // ConsumedBy of the events returned
		wantKept    []int
		wantChanged bool
	}{
		{"none", nil, 1, nil, nil, false},
		{"nothing pending", by(1, 1), 2, []int{1, 1}, nil, false},
		{"pending after consumed", by(1, 0, 2, 0), 2, []int{2, 2, 2}, []int{1, 2, 3}, true},
		{"a later check's kept", by(3, 0), 2, []int{3, 2}, []int{0, 1}, true},
		{"full, nothing pending", by(full...), 2, nil, nil, true},
		{"full, nothing to drop", by(full...), 1, full, nil, false},
		{"full with a later check's", by(fullWithLater...), 2, []int{3}, []int{MaxEventsPerMonitor - 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.evs)
			next, kept, changed := ConsumeEventsKept(tt.evs, tt.check)
			var checks []int
			for _, ev := range next {
				checks = append(checks, ev.ConsumedBy)
			}
			if changed != tt.wantChanged || !slices.Equal(checks, tt.wantChecks) || !slices.Equal(kept, tt.wantKept) {
				t.Fatalf("ConsumeEventsKept = consumed by %v, kept %v, changed %v; want %v, %v, %v",
					checks, kept, changed, tt.wantChecks, tt.wantKept, tt.wantChanged)
			}
			for j, i := range kept {
				if next[j].Name != tt.evs[i].Name {
					t.Errorf("next[%d] is %s, kept says evs[%d], %s", j, next[j].Name, i, tt.evs[i].Name)
				}
			}
			if !reflect.DeepEqual(tt.evs, before) {
				t.Errorf("evs modified: %v, was %v", tt.evs, before)
			}
			if n, c := ConsumeEvents(tt.evs, tt.check); c != changed || !reflect.DeepEqual(n, next) {
				t.Errorf("ConsumeEvents = %v, %v; want ConsumeEventsKept's %v, %v", n, c, next, changed)
			}
		})
	}
}

// TestRuntimeStatusValidFinal pins the five statuses of the status API:
// each is Valid, only Completed, Failed and Terminated are Final, and a
// name in another case, an unknown one or "" is not Valid (a list's
// runtimeStatus filter refuses it).
func TestRuntimeStatusValidFinal(t *testing.T) {
	tests := []struct {
		s                RuntimeStatus
		valid, wantFinal bool
	}{
		{RuntimePending, true, false},
		{RuntimeRunning, true, false},
		{RuntimeCompleted, true, true},
		{RuntimeFailed, true, true},
		{RuntimeTerminated, true, true},
		{"", false, false},
		{"pending", false, false},
		{"Canceled", false, false},
	}
	for _, tt := range tests {
		if got := tt.s.Valid(); got != tt.valid {
			t.Errorf("RuntimeStatus(%q).Valid() = %v, want %v", tt.s, got, tt.valid)
		}
		if got := tt.s.Final(); got != tt.wantFinal {
			t.Errorf("RuntimeStatus(%q).Final() = %v, want %v", tt.s, got, tt.wantFinal)
		}
	}
}

// TestNameFor pins the monitor names the status API reports, as
// docs/api.md lists them: one per target type, JobMonitor for the
// simulated job.
func TestNameFor(t *testing.T) {
	tests := []struct {
		target string
		want   string
	}{
		{TargetGitHub, "GitHubIssuesMonitor"},
		{TargetHTTP, "HTTPJobMonitor"},
		{TargetSimulated, "JobMonitor"},
	}
	for _, tt := range tests {
		if got := NameFor(Spec{Target: Target{Type: tt.target}}); got != tt.want {
			t.Errorf("NameFor(target %q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

// TestConsumedBy pins that ConsumedBy returns the events of one check
// only, in order, pending ones and those of other checks left out, and
// that their data is a copy: a caller that edits it does not edit evs.
func TestConsumedBy(t *testing.T) {
	evs := []Event{
		{Name: "a", ConsumedBy: 1},
		{Name: "b", ConsumedBy: 2, Data: []byte(`{"n":1}`)},
		{Name: "c"},
		{Name: "d", ConsumedBy: 3},
		{Name: "e", ConsumedBy: 2},
	}
	got := ConsumedBy(evs, 2)
	var names []string
	for _, ev := range got {
		names = append(names, ev.Name)
	}
	if want := []string{"b", "e"}; !slices.Equal(names, want) {
		t.Fatalf("ConsumedBy(evs, 2) = %v, want %v", names, want)
	}
	got[0].Data[2] = 'X'
	if string(evs[1].Data) != `{"n":1}` {
		t.Errorf("editing the returned data changed evs: %s", evs[1].Data)
	}
	if got := ConsumedBy(evs, 4); got != nil {
		t.Errorf("ConsumedBy(evs, 4) = %v, want none", got)
	}
}

// TestCheckApplies pins when RecordCheck applies an update to a live
// record: a later check always; the same check again only from the same
// execution (named) and from an attempt that started no earlier than the
// stored write; never an earlier check, nor check 0.
func TestCheckApplies(t *testing.T) {
	const arn, other = "arn:exec:1", "arn:exec:2"
	stored := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		check   int
		uArn    string
		at      time.Time
		n       int
		recArn  string
		applies bool
	}{
		{"later check", 3, other, stored.Add(-time.Hour), 2, arn, true},
		{"earlier check", 1, arn, stored.Add(time.Hour), 2, arn, false},
		{"same check, same execution, later attempt", 2, arn, stored.Add(time.Second), 2, arn, true},
		{"same check, same execution, same instant", 2, arn, stored, 2, arn, true},
		{"same check, same execution, earlier attempt", 2, arn, stored.Add(-time.Nanosecond), 2, arn, false},
		{"same check, another execution", 2, other, stored.Add(time.Second), 2, arn, false},
		{"same check, no execution named", 2, "", stored.Add(time.Second), 2, "", false},
		{"check 0 again", 0, arn, stored.Add(time.Second), 0, arn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := CheckUpdate{CustomStatus: CustomStatus{CheckCount: tt.check}, ExecutionArn: tt.uArn, At: tt.at}
			if got := CheckApplies(u, tt.n, tt.recArn, stored); got != tt.applies {
				t.Errorf("CheckApplies(check %d from %q at %v, n %d by %q at %v) = %v, want %v",
					tt.check, tt.uArn, tt.at, tt.n, tt.recArn, stored, got, tt.applies)
			}
		})
	}
}

func TestFinalStatusNote(t *testing.T) {
	for s, want := range map[string]string{
		"Timeout": "Timeout is an output's final_status", "timeout": "Timeout is an output's final_status",
		"ALERTED": "Alerted is an output's final_status", "Completed": "", "Sleeping": "", "": "",
	} {
		if got := FinalStatusNote(s); !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("FinalStatusNote(%q) = %q, want it to start %q", s, got, want)
		}
	}
}
