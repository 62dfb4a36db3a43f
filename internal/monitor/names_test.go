package monitor

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Every execution name reads back as the monitor and generation it was
// made for, whatever '-' and digits the id holds, and a tagged name is
// never taken for another monitor's.
func TestExecutionNamesReadBack(t *testing.T) {
	long := strings.Repeat("a1-", 21) + "z" // 64 characters
	for _, id := range []string{"x", "abc-123456", "abc-g1x", "abc-g123456x", "job-7-g", "a-b-c", "nightly-export", "abc123", long} {
		if !ValidInstanceID(id) || HasGenerationSuffix(id) {
			t.Fatalf("%q is not an id a monitor may take", id)
		}
		for _, tag := range []string{"", "000000", "402913", "999999"} {
			for _, gen := range []int{0, 1, 9, 10, 31536, 999999} {
				name := ExecutionName(id, tag, gen)
				if len(name) > 80 {
					t.Errorf("ExecutionName(%q, %q, %d) is %d characters, more than Step Functions allows", id, tag, gen, len(name))
				}
				wantTag := tag
				if gen == 0 {
					wantTag = ""
				}
				if gotTag, gotGen, ok := parseExecutionName(id, name); !ok || gotTag != wantTag || gotGen != gen {
					t.Errorf("parseExecutionName(%q, %q) = %q, %d, %v; want %q, %d", id, name, gotTag, gotGen, ok, wantTag, gen)
				}
				if got := generationOf(id, "arn:aws:states:us-east-1:1:execution:sm:"+name); got != gen {
					t.Errorf("generationOf(%q, %q) = %d, want %d", id, name, got, gen)
				}
				ids := instanceIDsFor(name)
				if !slices.Contains(ids, id) {
					t.Errorf("instanceIDsFor(%q) = %q, without %q", name, ids, id)
				}
				// Every other candidate is no id a monitor may take: the
				// name cannot be another monitor's.
				for _, other := range ids {
					if other != id && ValidInstanceID(other) && !HasGenerationSuffix(other) {
						t.Errorf("instanceIDsFor(%q) = %q: %q could be another monitor", name, ids, other)
					}
				}
				if tag != "" && gen > 0 && ids[0] != id {
					t.Errorf("instanceIDsFor(%q) = %q, want %q first", name, ids, id)
				}
			}
		}
	}
}

func TestExecutionNames(t *testing.T) {
	tests := []struct {
		id, name string
		wantGen  int // -1: not an execution of id
	}{
		{"x", "x", 0},
		{"x", "x-g1", 1},             // before run tags
		{"x", "x-g402913-g2", 2},     // tagged
		{"x", "x-g40291-g2", -1},     // five digits: no tag
		{"x", "x-g4029130-g2", -1},   // seven digits: no tag
		{"x", "x-g402913-g02", -1},   // a leading zero
		{"x", "x-g402913-g0", -1},    // generation 0 has no suffix
		{"x", "x-g402913", 402913},   // "x" before run tags, at generation 402913
		{"x", "y-g402913-g2", -1},    // another monitor
		{"x", "xx-g402913-g2", -1},   // another monitor
		{"x-1", "x-1-g000001-g3", 3}, // an id with '-' and digits
		{"x", "x-1-g000001-g3", -1},
		{"abc-123456", "abc-123456-g123456-g1", 1},
		{"abc", "abc-123456-g123456-g1", -1},
	}
	for _, tt := range tests {
		if got := generationOf(tt.id, tt.name); got != tt.wantGen {
			t.Errorf("generationOf(%q, %q) = %d, want %d", tt.id, tt.name, got, tt.wantGen)
		}
	}
}

func TestRunTags(t *testing.T) {
	start := time.Date(2026, 12, 4, 19, 43, 36, 722919000, time.UTC)
	if RunTagOf(start) != RunTagOf(start.In(time.FixedZone("X", 3600))) {
		t.Error("RunTagOf depends on the time zone")
	}
	seen := map[string]bool{}
	for i := range 1000 {
		tag := RunTagOf(start.Add(time.Duration(i) * time.Microsecond))
		if !validRunTag(tag) {
			t.Fatalf("RunTagOf = %q, not a run tag", tag)
		}
		seen[tag] = true
	}
	if len(seen) < 995 {
		t.Errorf("1,000 start times a microsecond apart, %d different run tags", len(seen))
	}
	for _, tag := range []string{"", "12345", "1234567", "12345a", "-12345", "+12345", "１２３４５６"} {
		if validRunTag(tag) {
			t.Errorf("validRunTag(%q) = true", tag)
		}
	}
	if !otherRun("x", "x-g000001-g2", "x-g000002-g1") || otherRun("x", "x-g000001-g2", "x-g000001-g1") ||
		otherRun("x", "x", "x-g000002-g1") || otherRun("x", "x-g3", "x-g000002-g4") {
		t.Error("otherRun tells runs apart wrongly")
	}
}

// An alert's idempotency key is "{instanceId}@{start}" of the monitor's
// start in UTC to the microsecond (the bare id without one): never a
// valid instance id, so never the key of another monitor, the same
// whatever zone the start time is read in, and another for a monitor of
// the same id started a microsecond later.
func TestAlertKeyFormat(t *testing.T) {
	start := time.Date(2026, 12, 5, 15, 34, 6, 123456789, time.UTC)
	if got, want := AlertKey("nightly", start), "nightly@2026-12-05T15:34:06.123456Z"; got != want {
		t.Errorf("AlertKey = %q, want %q", got, want)
	}
	if got := AlertKey("nightly", start.In(time.FixedZone("x", 3600))); got != AlertKey("nightly", start) {
		t.Errorf("AlertKey depends on the zone: %q", got)
	}
	if got := AlertKey("nightly", time.Time{}); got != "nightly" {
		t.Errorf("AlertKey without a start = %q, want the bare id", got)
	}
	if k := AlertKey("nightly", start); ValidInstanceID(k) {
		t.Errorf("the key %q could be an instance id", k)
	}
	if AlertKey("nightly", start.Add(time.Microsecond)) == AlertKey("nightly", start) {
		t.Error("monitors started a microsecond apart share a key")
	}
}
