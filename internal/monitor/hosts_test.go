package monitor_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// strictHosts refuses the hosts a strict deployment's egress guard
// refuses without resolving them (literal private addresses, localhost),
// as the start function's PermitHost does.
func strictHosts(host string) error {
	switch host {
	case "169.254.169.254", "127.0.0.1", "::1", "10.0.0.5", "localhost":
		return errors.New("must not name a private address: this deployment does not allow private targets")
	}
	return nil
}

// A start refuses a target URL or webhook URL whose host the deployment
// will not connect to, naming the field, instead of a monitor that fails
// on its first check or loses its alert when it fires.
func TestStartChecksHosts(t *testing.T) {
	const problem = "must not name a private address: this deployment does not allow private targets"
	const hook = `"alert":{"webhookUrl":"https://hooks.example.com/x"}`
	tests := []struct {
		name   string
		permit func(string) error // nil: every host
		body   string
		want   []monitor.FieldError
	}{
		{"metadata webhook", strictHosts, `{"target":{"type":"github","repo":"octo/big"},"alert":{"webhookUrl":"http://169.254.169.254/latest/"}}`,
			[]monitor.FieldError{{Field: "alert.webhookUrl", Problem: problem}}},
		{"loopback webhook with a port", strictHosts, `{"target":{"type":"github","repo":"octo/big"},"alert":{"webhookUrl":"http://127.0.0.1:8080/hook"}}`,
			[]monitor.FieldError{{Field: "alert.webhookUrl", Problem: problem}}},
		{"IPv6 loopback webhook", strictHosts, `{"target":{"type":"github","repo":"octo/big"},"alert":{"webhookUrl":"http://[::1]/hook"}}`,
			[]monitor.FieldError{{Field: "alert.webhookUrl", Problem: problem}}},
		{"private target", strictHosts, `{"target":{"type":"http","url":"http://10.0.0.5/jobs/1"},` + hook + `}`,
			[]monitor.FieldError{{Field: "target.url", Problem: problem}}},
		{"localhost target and webhook", strictHosts, `{"target":{"type":"http","url":"http://localhost:9000/jobs/1"},"alert":{"webhookUrl":"http://10.0.0.5/hook"}}`,
			[]monitor.FieldError{{Field: "target.url", Problem: problem}, {Field: "alert.webhookUrl", Problem: problem}}},
		{"public names", strictHosts, `{"target":{"type":"http","url":"https://jobs.example.com/jobs/1"},` + hook + `}`, nil},
		{"no host check", nil, `{"target":{"type":"http","url":"http://127.0.0.1:9000/jobs/1"},"alert":{"webhookUrl":"http://[::1]/hook"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.api.PermitHost = tt.permit
			e.api.NewID = func() string { return "m" }
			// The start lists the problems with the others...
			_, err := e.api.ParseStartRequest([]byte(tt.body))
			var me *monitor.Error
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ParseStartRequest: %v", err)
				}
			} else if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, tt.want) {
				t.Errorf("ParseStartRequest = %v, want fields %q", err, tt.want)
			}
			// ...and Start checks again.
			_, err = e.api.Start(context.Background(), parse(t, tt.body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, tt.want) {
				t.Errorf("Start = %v, want fields %q", err, tt.want)
			}
			if len(e.wf.starts) != 0 {
				t.Errorf("workflow started: %+v", e.wf.starts)
			}
		})
	}
}
