package monitor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

func TestParseSMSChannels(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"none", []string{}, false},
		{"", []string{}, false},
		{"sns", []string{"sns"}, false},
		{" twilio , sns,twilio", []string{"twilio", "sns"}, false},
		{"sms", nil, true},
	}
	for _, tt := range tests {
		got, err := monitor.ParseSMSChannels(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && strings.Join(got, ",") != strings.Join(tt.want, ",")) || (!tt.wantErr && got == nil) {
			t.Errorf("ParseSMSChannels(%q) = %#v, %v; want %#v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// Start refuses a phone alert that the deployment has no channel for,
// which would otherwise fail only when the alert is sent.
func TestStartChecksSMSChannel(t *testing.T) {
	const phone = `"phone":"+14255550100"`
	tests := []struct {
		name      string
		channels  monitor.SMSChannels // nil: every channel
		alert     string              // the native body's alert; a body of its own when it starts with {"repo"
		wantField string              // "" for success
		wantText  string
	}{
		{"every channel", nil, `{` + phone + `}`, "", ""},
		{"direct SMS", monitor.SMSChannels{"sns"}, `{` + phone + `}`, "", ""},
		{"twilio", monitor.SMSChannels{"twilio"}, `{` + phone + `,"channel":"twilio"}`, "", ""},
		{"no SMS at all", monitor.SMSChannels{}, `{` + phone + `}`, "alert.phone", "allowDirectSms"},
		{"no direct SMS", monitor.SMSChannels{"twilio"}, `{` + phone + `}`, "alert.phone", "through twilio only, not sns: set alert.channel to twilio"},
		{"no twilio", monitor.SMSChannels{"sns"}, `{` + phone + `,"channel":"twilio"}`, "alert.channel", "through sns only, not twilio"},
		{"topics need no SMS", monitor.SMSChannels{}, `{"topicArn":"` + stackTopic + `"}`, "", ""},
		{"webhooks need no SMS", monitor.SMSChannels{}, `{"webhookUrl":"https://hooks.example.com/x"}`, "", ""},
		// The GitHub seed spells the field phone, and so does its problem.
		{"seed without SMS", monitor.SMSChannels{}, `{"repo":"octo/hello",` + phone + `}`, "phone", "allowDirectSms"},
		{"seed without direct SMS", monitor.SMSChannels{"twilio"}, `{"repo":"octo/hello",` + phone + `}`, "phone", "through twilio only, not sns: send the native shape with alert.channel twilio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.api.SMSChannels = tt.channels
			body := `{"instanceId":"m","target":{"type":"simulated"},"alert":` + tt.alert + `}`
			if strings.HasPrefix(tt.alert, `{"repo"`) {
				body = tt.alert
				e.api.NewID = func() string { return "m" }
			}
			_, err := e.api.Start(context.Background(), parse(t, body))
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			wantKind(t, err, monitor.KindInvalid)
			var me *monitor.Error
			if !errors.As(err, &me) || len(me.Fields) != 1 || me.Fields[0].Field != tt.wantField || !strings.Contains(me.Fields[0].Problem, tt.wantText) {
				t.Errorf("error = %v, want one problem with field %s saying %q", err, tt.wantField, tt.wantText)
			}
			if len(e.wf.starts) != 0 {
				t.Errorf("workflow started: %+v", e.wf.starts)
			}
			if _, err := e.store.Get(context.Background(), "m"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("record after a refused start: %v, want none", err)
			}
		})
	}
}
