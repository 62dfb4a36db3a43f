package checks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/fakegithub"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// fixedClock is a clock the test moves.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

// newMonitor creates a monitor's record and returns its first state, as
// the start handler does.
func newMonitor(t *testing.T, store monitor.Store, id string, spec monitor.Spec, now time.Time) monitor.State {
	t.Helper()
	rec := monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: now, LastUpdatedTime: now, ExpiresAt: spec.ExpiresAt(now)}
	if err := store.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return monitor.State{InstanceID: id, StartedAt: now, ExpiresAt: spec.ExpiresAt(now), Spec: spec}
}

// TestGitHubMonitor runs the check task with the real GitHub checker
// against the fake API: 250 open items of which 40 are pull requests.
func TestGitHubMonitor(t *testing.T) {
	api := fakegithub.New()
	defer api.Close()
	api.AddToken("tok")
	api.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40})
	// The monitor's clock starts an hour behind real time (see check 3).
	clock := &fixedClock{now: time.Now().UTC().Truncate(time.Second).Add(-time.Hour)}
	gh, err := checks.NewGitHub(checks.GitHubOptions{BaseURL: api.BaseURL(), Token: checks.StaticToken("tok"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	tasks := &monitor.Tasks{Store: store, Clock: clock, Checkers: map[string]monitor.Checker{monitor.TargetGitHub: gh}}
	spec := monitor.Spec{Target: monitor.Target{Type: monitor.TargetGitHub, Repo: "octo/big", MinOpenIssues: 211},
		PollingIntervalSeconds: 60, TimeoutSeconds: 24 * 3600, Alert: &monitor.Alert{Phone: "+14255550100"}}
	s := newMonitor(t, store, "gh-big", spec, clock.now)
	ctx := context.Background()

	check := func() monitor.State {
		t.Helper()
		out, err := tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		return out
	}
	status := func() monitor.CustomStatus {
		rec, err := store.Get(ctx, "gh-big")
		if err != nil || rec.CustomStatus == nil {
			t.Fatalf("record: %+v, %v", rec, err)
		}
		return *rec.CustomStatus
	}

	// Check 1: 210 open issues, below the threshold of 211.
	s = check()
	if s.Check.OpenIssues == nil || *s.Check.OpenIssues != 210 || s.Check.ConditionMet {
		t.Fatalf("check 1: %+v", s.Check)
	}
	if cs := status(); cs.OpenIssues == nil || *cs.OpenIssues != 210 {
		t.Errorf("custom status open_issues = %v, want 210", cs.OpenIssues)
	}

	// Check 2: nothing changed; three 304s, no rate limit spent.
	clock.now = clock.now.Add(time.Minute)
	before := api.Stats()
	s = check()
	after := api.Stats()
	if *s.Check.OpenIssues != 210 || after.NotModified-before.NotModified != 3 || after.Counted != before.Counted {
		t.Errorf("check 2: open %d, 304s %d, charged %d", *s.Check.OpenIssues, after.NotModified-before.NotModified, after.Counted-before.Counted)
	}

	// Check 3: rate limited; the next check waits for the reset.
	// (The go-github client keeps the limit in real time: the reset is a
	// second or two away, and the monitor's clock is set 45 minutes before
	// it.)
	reset := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second).UTC()
	clock.now = reset.Add(-45 * time.Minute)
	api.SetRateLimit(5000, 0, reset)
	s = check()
	if s.Check.Done || s.Check.ConditionMet || s.Check.NextCheckAt != monitor.FormatTimestamp(reset) || s.Check.WaitSeconds != 45*60 {
		t.Errorf("check 3: %+v, want the next check at %s, 2700 s on", s.Check, monitor.FormatTimestamp(reset))
	}
	if cs := status(); cs.Status != monitor.StatusError || !strings.Contains(cs.Detail, "rate limit") {
		t.Errorf("custom status = %+v", cs)
	}

	// Check 4, after the reset: a new issue reaches the threshold.
	time.Sleep(time.Until(reset.Add(10 * time.Millisecond)))
	clock.now = reset.Add(time.Second)
	api.SetRateLimit(5000, 5000, reset.Add(time.Hour))
	api.OpenIssue("octo", "big")
	s = check()
	if *s.Check.OpenIssues != 211 || !s.Check.ConditionMet {
		t.Errorf("check 4: %+v", s.Check)
	}
}

// TestMonitorTargetRefused shows a check target on the metadata address or
// a private address failing the monitor with a clear message, on the AWS
// configuration: the monitor's own input is at fault, so the check ends it
// Failed and returns no error for the state machine.
func TestMonitorTargetRefused(t *testing.T) {
	for _, url := range []string{"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/jobs/1"} {
		store := memstore.New()
		now := time.Now().UTC().Truncate(time.Second)
		tasks := &monitor.Tasks{Store: store, Clock: &fixedClock{now}, Checkers: map[string]monitor.Checker{
			monitor.TargetHTTP: checks.NewHTTPJob(checks.HTTPJobOptions{Client: egress.New(egress.Options{}).Client(0)}),
		}}
		spec := monitor.Spec{Target: monitor.Target{Type: monitor.TargetHTTP, URL: url, Method: "GET", StatusPath: "$.status",
			DoneValues: []string{"Completed"}, FailedValues: []string{"Failed"}, RequestTimeoutSeconds: 5},
			PollingIntervalSeconds: 10, TimeoutSeconds: 60}
		s := newMonitor(t, store, "http-1", spec, now)
		s, err := tasks.Check(context.Background(), monitor.TaskInput{State: s})
		if err != nil {
			t.Fatalf("%s: err = %v, want the monitor failed as data", url, err)
		}
		if !s.Check.Done || s.Check.Output == nil || s.Check.Output.FinalStatus != monitor.FinalFailed ||
			!strings.Contains(s.Check.Output.Detail, "does not allow private targets") {
			t.Errorf("%s: check = %+v, want done and failed with the refusal", url, s.Check)
		}
		rec, err := store.Get(context.Background(), "http-1")
		if err != nil || rec.RuntimeStatus != monitor.RuntimeFailed {
			t.Errorf("%s: record %+v, %v; want Failed", url, rec.RuntimeStatus, err)
		}
	}
}

// TestHTTPMonitorSurvivesFaults drives a job monitor through 500s,
// garbage, a hang and a huge body to its right final status.
func TestHTTPMonitorSurvivesFaults(t *testing.T) {
	answers := []func(w http.ResponseWriter, r *http.Request){
		func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<<garbage>>")) },
		func(w http.ResponseWriter, r *http.Request) { time.Sleep(1500 * time.Millisecond) },
		func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"status":"` + strings.Repeat("x", 2<<20) + `"}`))
		},
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"Running"}`)) },
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"Failed"}`)) },
	}
	var n atomic.Int64
	srv := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(answers)-1)
		answers[i](w, r)
	})
	store := memstore.New()
	clock := &fixedClock{now: time.Now().UTC().Truncate(time.Second)}
	tasks := &monitor.Tasks{Store: store, Clock: clock, Checkers: map[string]monitor.Checker{
		monitor.TargetHTTP: checks.NewHTTPJob(checks.HTTPJobOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)}),
	}}
	spec := monitor.Spec{Target: monitor.Target{Type: monitor.TargetHTTP, URL: srv + "/jobs/1", Method: "GET", StatusPath: "$.status",
		DoneValues: []string{"Completed"}, FailedValues: []string{"Failed"}, RequestTimeoutSeconds: 1},
		PollingIntervalSeconds: 10, TimeoutSeconds: 600}
	s := newMonitor(t, store, "job-1", spec, clock.now)
	var statuses []string
	for i := 0; i < 10 && !s.Check.Done; i++ {
		var err error
		s, err = tasks.Check(context.Background(), monitor.TaskInput{State: s})
		if err != nil {
			t.Fatalf("check %d: %v", i+1, err)
		}
		statuses = append(statuses, s.Check.Status)
		clock.now = clock.now.Add(10 * time.Second)
	}
	want := "Error Unknown Error Unknown Running Failed"
	if got := strings.Join(statuses, " "); got != want {
		t.Errorf("statuses = %s, want %s", got, want)
	}
	if s.Check.Output == nil || s.Check.Output.FinalStatus != monitor.FinalFailed {
		t.Errorf("output = %+v, want final status Failed", s.Check.Output)
	}
}

func httptestServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
