package monitor_test

import (
	"context"
	"errors"
	"go/ast"
	"slices"
	"strconv"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// A deployment's floor on the polling interval refuses a shorter interval
// at start, in either request shape and in ParseStartRequest's list with
// the other problems, and in a setInterval event; an interval out of the
// API's own range keeps the API's problem.
func TestIntervalFloor(t *testing.T) {
	const floorProblem = "must be at least 30 seconds in this deployment (and at most 86400)"
	for _, tc := range []struct {
		name  string
		floor int
		body  string
		want  []monitor.FieldError // nil: accepted
	}{
		{"native under the floor", 30, `{"target":{"type":"simulated"},"pollingIntervalSeconds":10}`,
			[]monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: floorProblem}}},
		{"native at the floor", 30, `{"target":{"type":"simulated"},"pollingIntervalSeconds":30}`, nil},
		{"seed job under the floor", 30, `{"job_id":"j1","polling_interval_seconds":5}`,
			[]monitor.FieldError{{Field: "polling_interval_seconds", Problem: floorProblem}}},
		{"seed job default under the floor", 30, `{"job_id":"j1"}`,
			[]monitor.FieldError{{Field: "polling_interval_seconds", Problem: floorProblem}}},
		{"with a refused host", 30, `{"target":{"type":"http","url":"http://10.0.0.5/j"},"pollingIntervalSeconds":10}`,
			[]monitor.FieldError{{Field: "target.url", Problem: "must not name a private address: this deployment does not allow private targets"},
				{Field: "pollingIntervalSeconds", Problem: floorProblem}}},
		{"no floor", 0, `{"target":{"type":"simulated"},"pollingIntervalSeconds":1}`, nil},
		{"floor under the API's", -3, `{"target":{"type":"simulated"},"pollingIntervalSeconds":1}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.api.MinIntervalSeconds = tc.floor
			e.api.PermitHost = strictHosts
			_, err := e.api.ParseStartRequest([]byte(tc.body))
			wantFields(t, "ParseStartRequest", err, tc.want)
			_, err = e.api.Start(context.Background(), parse(t, tc.body))
			if tc.want != nil {
				// Start stops at the first of the deployment's checks.
				wantFields(t, "Start", err, tc.want[:1])
				if len(e.wf.starts) != 0 {
					t.Errorf("workflow started: %+v", e.wf.starts)
				}
			} else if err != nil {
				t.Errorf("Start: %v", err)
			}
		})
	}

	// The API's own range is reported as it is, not as under the floor.
	e := newEnv(t)
	e.api.MinIntervalSeconds = 30
	_, err := e.api.ParseStartRequest([]byte(`{"target":{"type":"simulated"},"pollingIntervalSeconds":0}`))
	wantFields(t, "ParseStartRequest(0)", err, []monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: "must be between 1 and 86400 seconds"}})

	for _, tc := range []struct {
		data string
		want []monitor.FieldError
	}{
		{`{"pollingIntervalSeconds": 29}`, []monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: floorProblem}}},
		{`{"pollingIntervalSeconds": 30}`, nil},
		{`{"pollingIntervalSeconds": 0}`, []monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: "must be between 1 and 86400 seconds"}}},
	} {
		e := newEnv(t)
		e.running(t, "r1", 1) // started before the floor was raised
		e.api.MinIntervalSeconds = 30
		err := e.api.RaiseEvent(context.Background(), "r1", monitor.EventSetInterval, []byte(tc.data))
		wantFields(t, "RaiseEvent("+tc.data+")", err, tc.want)
		if n, want := len(e.get(t, "r1").Events), map[bool]int{true: 1, false: 0}[tc.want == nil]; n != want {
			t.Errorf("RaiseEvent(%s): %d events stored, want %d", tc.data, n, want)
		}
	}
}

// wantFields checks that err is nil (want nil) or invalid with exactly
// the fields of want.
func wantFields(t *testing.T, what string, err error, want []monitor.FieldError) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	var me *monitor.Error
	if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, want) {
		t.Errorf("%s = %v; want invalid with fields %q", what, err, want)
	}
}

// The CDK app (infra/, a module of its own) refuses a floor above the
// longest interval the API accepts.
func TestInfraFloorLimit(t *testing.T) {
	lit, ok := testtool.InfraValuesIn(t, "config.go")["maxPollingInterval"].(*ast.BasicLit)
	if !ok {
		t.Fatal("infra/config.go declares no maxPollingInterval literal")
	}
	if n, err := strconv.Atoi(lit.Value); err != nil || n != monitor.MaxIntervalSeconds {
		t.Errorf("infra maxPollingInterval = %s, want monitor.MaxIntervalSeconds %d", lit.Value, monitor.MaxIntervalSeconds)
	}
}
