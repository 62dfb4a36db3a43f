package lambdaenv

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// MetricsNamespaceVar names the environment variable that holds the
// CloudWatch namespace of the functions' own metrics (the stack sets it
// to Stepmon/{stack name}); without it no metric is written.
const MetricsNamespaceVar = "METRICS_NAMESPACE"

// CheckLatenessMetric is the metric of how late the check function was
// invoked, in milliseconds: from when the check was due (the state's
// nextCheckAt) to the invocation, one value per invocation, 0 when it
// came on time or early (nextCheckAt is rounded up to a second).
const CheckLatenessMetric = "CheckLateness"

// Metrics writes metrics as CloudWatch embedded metric format (EMF) lines
// to its writer, the function's log (its standard output, where AWS
// documents EMF for Lambda): CloudWatch Logs extracts each line's
// value into the namespace's metric, with no dimensions, and no API call
// or permission is needed. Each line is a JSON object with "level":"INFO"
// too, so that a function log level of WARN or above (Lambda's
// log-level filtering) drops it with the INFO lines. A nil *Metrics
// writes nothing.
type Metrics struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
}

// NewMetrics returns the Metrics writing to w in the namespace that
// getenv gives MetricsNamespaceVar, or nil when it gives none.
func NewMetrics(w io.Writer, getenv func(string) string) *Metrics {
	ns := getenv(MetricsNamespaceVar)
	if ns == "" {
		return nil
	}
	return &Metrics{w: w, namespace: ns}
}

// emfMetadata is an EMF document's _aws member.
type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Put writes value, in unit (a CloudWatch unit such as "Milliseconds"),
// as metric name at time at, in one line. A write that fails is
// dropped: a metric is never worth failing the invocation for.
func (m *Metrics) Put(at time.Time, name, unit string, value float64) {
	if m == nil {
		return
	}
	b, err := json.Marshal(map[string]any{
		"_aws": emfMetadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: []emfDirective{{
			Namespace: m.namespace, Dimensions: [][]string{{}}, Metrics: []emfMetric{{Name: name, Unit: unit}}}}},
		"time":  at.UTC().Format(time.RFC3339Nano),
		"level": "INFO",
		"msg":   "metric",
		name:    value, // the directive's target: a member of the root object
	})
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}

// RecordCheckLateness returns task, first putting how late its invocation
// is (CheckLatenessMetric) to metrics, when the state it is given says
// when the check was due; now is the clock. A state without nextCheckAt
// (a monitor's first check) has no due time and puts nothing.
func RecordCheckLateness(metrics *Metrics, now func() time.Time, task monitor.TaskFunc) monitor.TaskFunc {
	if metrics == nil {
		return task
	}
	return func(ctx context.Context, in monitor.TaskInput) (monitor.State, error) {
		if due, err := time.Parse(monitor.TimestampFormat, in.State.Check.NextCheckAt); err == nil {
			t := now()
			metrics.Put(t, CheckLatenessMetric, "Milliseconds", float64(max(t.Sub(due), 0).Milliseconds()))
		}
		return task(ctx, in)
	}
}
