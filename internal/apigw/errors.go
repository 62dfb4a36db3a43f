package apigw

import (
	"errors"
	"net/http"

	"github.com/stepmon/stepmon/internal/monitor"
)

// statusOf is the one table from error kinds to HTTP status codes.
var statusOf = map[monitor.Kind]int{
	monitor.KindInvalid:     http.StatusBadRequest,
	monitor.KindTooLarge:    http.StatusRequestEntityTooLarge,
	monitor.KindNotFound:    http.StatusNotFound,
	monitor.KindConflict:    http.StatusConflict,
	monitor.KindGone:        http.StatusGone,
	monitor.KindRateLimited: http.StatusTooManyRequests,
	monitor.KindUnavailable: http.StatusServiceUnavailable,
	monitor.KindInternal:    http.StatusInternalServerError,
}

// StatusOf returns the HTTP status code for err's kind.
func StatusOf(err error) int {
	if s, ok := statusOf[monitor.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error codes of answers that no domain error kind describes: they concern
// the HTTP request itself.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	// Error is the error kind ("invalid", "not_found", ...) or, for
	// problems with the HTTP request itself, "method_not_allowed" or
	// "unsupported_media_type".
	Error   string `json:"error"`
	Message string `json:"message"`
	// Fields lists the invalid fields of a request, in input order.
	Fields []monitor.FieldError `json:"fields,omitempty"`
}

// errorBodyOf returns the caller-safe body for err.
func errorBodyOf(err error) ErrorBody {
	body := ErrorBody{Error: string(monitor.KindOf(err)), Message: monitor.MessageOf(err)}
	var e *monitor.Error
	if errors.As(err, &e) && e.Kind != monitor.KindInternal {
		body.Fields = e.Fields
	}
	return body
}
