package apigw

import (
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// StartResponse is the body of a 202 answer to POST /monitors: the instance
// id and the management URLs, named as in Durable Functions.
type StartResponse struct {
	ID                string `json:"id"`
	StatusQueryGetURI string `json:"statusQueryGetUri"`
	// SendEventPostURI contains the placeholder {eventName}.
	SendEventPostURI string `json:"sendEventPostUri"`
	// TerminatePostURI contains the placeholder {text}.
	TerminatePostURI      string `json:"terminatePostUri"`
	PurgeHistoryDeleteURI string `json:"purgeHistoryDeleteUri"`
}

// StatusResponse is a monitor's status as GET /monitors/{id} answers it.
// It shows a count of pending events, never the events themselves, and the
// spec with its secrets redacted (monitor.Spec.Redacted).
type StatusResponse struct {
	Name            string                `json:"name"`
	InstanceID      string                `json:"instanceId"`
	RuntimeStatus   monitor.RuntimeStatus `json:"runtimeStatus"`
	Input           monitor.Spec          `json:"input"`
	CustomStatus    *monitor.CustomStatus `json:"customStatus"`
	Output          *monitor.Output       `json:"output"`
	CreatedTime     time.Time             `json:"createdTime"`
	LastUpdatedTime time.Time             `json:"lastUpdatedTime"`
	ExecutionArn    string                `json:"executionArn"`
	ExpiresAt       time.Time             `json:"expiresAt"`
	Alert           *AlertSummary         `json:"alert,omitempty"`
	PendingEvents   int                   `json:"pendingEvents"`
}

// AlertUnknown is the alert status a finished monitor's answer shows for
// an alert whose send was cut off (a crash, or no answer from the
// provider): it may or may not have gone out, and is not sent again.
const AlertUnknown monitor.AlertStatus = "unknown"

// AlertSummary is what the status shows of a monitor's alert.
type AlertSummary struct {
	Status   monitor.AlertStatus `json:"status"`
	Channel  string              `json:"channel,omitempty"`
	Attempts int                 `json:"attempts,omitempty"`
	SentAt   time.Time           `json:"sentAt,omitzero"`
	// RetryAt is when a failed alert of a running monitor is sent again,
	// as far as the alert task planned it: shown for a retry the state
	// machine waits for (a webhook that failed transiently), not for the
	// few seconds between the sends of one attempt, nor in a list.
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// NewStatusResponse returns the status view of rec. Header values and the
// secret parts of URLs in its input are redacted: every answer that shows a
// monitor is built here.
func NewStatusResponse(rec monitor.Record) StatusResponse {
	s := StatusResponse{
		Name:            rec.Name,
		InstanceID:      rec.InstanceID,
		RuntimeStatus:   rec.RuntimeStatus,
		Input:           rec.Input.Redacted(),
		CustomStatus:    rec.CustomStatus,
		Output:          rec.Output,
		CreatedTime:     rec.CreatedTime,
		LastUpdatedTime: rec.LastUpdatedTime,
		ExecutionArn:    rec.ExecutionArn,
		ExpiresAt:       rec.ExpiresAt,
	}
	if a := rec.Alert; a.Status != monitor.AlertNone {
		s.Alert = &AlertSummary{Status: a.Status, Channel: a.Channel, Attempts: a.Attempts, SentAt: a.SentAt}
		if a.Status == monitor.AlertSending && rec.RuntimeStatus.Final() {
			// The claim stays "sending" so that nothing sends it again:
			// the send's outcome is unknown, as the output says.
			s.Alert.Status = AlertUnknown
		}
		if a.Status == monitor.AlertFailed && !rec.RuntimeStatus.Final() {
			s.Alert.RetryAt = a.RetryAt
		}
	}
	s.PendingEvents = rec.Pending()
	return s
}

// ListResponse is the body of GET /monitors.
type ListResponse struct {
	Monitors []StatusResponse `json:"monitors"`
	// ContinuationToken fetches the next page; null on the last one.
	ContinuationToken *string `json:"continuationToken"`
}

// purgeResponse is the body of DELETE /monitors/{id}.
type purgeResponse struct {
	InstancesDeleted int `json:"instancesDeleted"`
}

// EventResponse is the body of a 202 answer to POST
// /monitors/{id}/raiseEvent/{name}.
type EventResponse struct {
	InstanceID string `json:"instanceId"`
	EventName  string `json:"eventName"`
}
