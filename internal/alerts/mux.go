package alerts

import (
	"context"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Mux is a monitor.Sender that hands each alert to the sender for its
// channel (monitor.Alert.ChannelOf: "sns", "twilio" or "webhook"). The
// local runtime can register one Outbox for every channel.
type Mux map[string]monitor.Sender

var _ monitor.Sender = Mux(nil)

// Send calls the sender for alert's channel. A channel with no sender is a
// *monitor.PermanentError: this deployment cannot deliver such alerts.
func (m Mux) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	ch := alert.ChannelOf()
	s, ok := m[ch]
	if !ok || s == nil {
		return "", permanent("alerts: channel %s is not configured in this deployment", ch)
	}
	return s.Send(ctx, alert, msg)
}
