package lambdaenv

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// emfDoc is what CloudWatch Logs reads of an EMF line.
type emfDoc struct {
	AWS *struct {
		Timestamp         *int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Level string `json:"level"`
}

// TestMetricsPut pins the embedded metric format of a line: one JSON
// object, with _aws's Timestamp in milliseconds and one directive (the
// namespace, one empty dimension set, the metric and its unit), the value
// a number under the metric's name at the root, and level INFO for
// Lambda's log-level filtering. Without a namespace nothing is written.
func TestMetricsPut(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics(&buf, func(k string) string { return map[string]string{MetricsNamespaceVar: "Stepmon/stack"}[k] })
	at := time.Date(2026, 12, 7, 3, 4, 5, 678e6, time.UTC)
	m.Put(at, "CheckLateness", "Milliseconds", 1234)
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("wrote %q, want one line", line)
	}
	var doc emfDoc
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	var root map[string]any
	if err := json.Unmarshal([]byte(line), &root); err != nil {
		t.Fatal(err)
	}
	if doc.AWS == nil || doc.AWS.Timestamp == nil || *doc.AWS.Timestamp != at.UnixMilli() || len(doc.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("_aws = %+v, want Timestamp %d and one directive", doc.AWS, at.UnixMilli())
	}
	d := doc.AWS.CloudWatchMetrics[0]
	if d.Namespace != "Stepmon/stack" || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 0 ||
		len(d.Metrics) != 1 || d.Metrics[0].Name != "CheckLateness" || d.Metrics[0].Unit != "Milliseconds" {
		t.Errorf("directive = %+v, want namespace Stepmon/stack, one empty dimension set, CheckLateness in Milliseconds", d)
	}
	if v, ok := root["CheckLateness"].(float64); !ok || v != 1234 || doc.Level != "INFO" {
		t.Errorf("CheckLateness = %v, level %q; want the number 1234 at the root, level INFO", root["CheckLateness"], doc.Level)
	}

	buf.Reset()
	none := NewMetrics(&buf, func(string) string { return "" })
	none.Put(at, "CheckLateness", "Milliseconds", 1)
	if none != nil || buf.Len() != 0 {
		t.Errorf("without %s: %v, wrote %q; want nil and nothing", MetricsNamespaceVar, none, buf.String())
	}
}

// TestRecordCheckLateness: each invocation whose state says when the
// check was due puts how late it came, 0 when early, and runs the task
// with its input unchanged; a first check (no nextCheckAt) puts nothing.
func TestRecordCheckLateness(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 4, 5, 250e6, time.UTC)
	for _, tt := range []struct {
		name, due string
		want      float64 // -1 for no line
	}{
		{"late by 90.25 s", "2026-12-07T03:02:35Z", 90250},
		{"on the second", "2026-12-07T03:04:05Z", 250},
		{"early", "2026-12-07T03:04:06Z", 0},
		{"first check", "", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := &Metrics{w: &buf, namespace: "ns"}
			ran := false
			task := RecordCheckLateness(m, func() time.Time { return now }, func(_ context.Context, in monitor.TaskInput) (monitor.State, error) {
				ran = in.State.Check.NextCheckAt == tt.due
				return in.State, nil
			})
			if _, err := task(context.Background(), monitor.TaskInput{State: monitor.State{Check: monitor.CheckResult{NextCheckAt: tt.due}}}); err != nil || !ran {
				t.Fatalf("task: %v, ran with its input %v", err, ran)
			}
			if tt.want < 0 {
				if buf.Len() != 0 {
					t.Errorf("wrote %q, want nothing", buf.String())
				}
				return
			}
			var root map[string]any
			if err := json.Unmarshal(buf.Bytes(), &root); err != nil {
				t.Fatalf("line %q: %v", buf.String(), err)
			}
			if root[CheckLatenessMetric] != tt.want {
				t.Errorf("%s = %v, want %v", CheckLatenessMetric, root[CheckLatenessMetric], tt.want)
			}
		})
	}
}
