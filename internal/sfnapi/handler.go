package sfnapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/jsonpos"
)

// targetPrefix starts the X-Amz-Target header of every operation.
const targetPrefix = "AWSStepFunctions."

// MaxBody bounds a request body at AWS's hard quota "Maximum request
// size: 1 MB per request", which the Step Functions quotas page counts
// over the whole request, headers included, and in the unit in which it
// gives the 1 MB definition limit that the API model states as 1,048,576
// characters: 1 MiB. Only the body is counted here: the headers a client
// sends to a local endpoint (another host, a dummy or no signature) are
// not the ones it sends to AWS, while its body is the same. So a body
// over the limit is refused as on AWS whatever its headers, and one a
// few hundred bytes under it, which AWS may refuse for its headers, is
// taken.
const MaxBody = 1 << 20

// contentType is the media type of awsJson1_0 requests and responses.
const contentType = "application/x-amz-json-1.0"

// Handler serves the Step Functions API over a Backend. Mount it at the
// root of its own listener or under a path prefix stripped with
// http.StripPrefix: the SDKs post to "/".
type Handler struct {
	backend Backend
	log     *slog.Logger
	tokens  *tokenSigner
	ops     map[string]func(ctx context.Context, body []byte) (any, error)
}

// NewHandler returns a Handler over b. A nil logger discards logs of
// internal failures.
func NewHandler(b Backend, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{backend: b, log: log, tokens: newTokenSigner()}
	h.ops = map[string]func(context.Context, []byte) (any, error){
		"CreateStateMachine":               op(h.createStateMachine),
		"DescribeStateMachine":             op(h.describeStateMachine),
		"ListStateMachines":                op(h.listStateMachines),
		"UpdateStateMachine":               op(h.updateStateMachine),
		"DeleteStateMachine":               op(h.deleteStateMachine),
		"StartExecution":                   op(h.startExecution),
		"StartSyncExecution":               op(h.startSyncExecution),
		"DescribeExecution":                op(h.describeExecution),
		"StopExecution":                    op(h.stopExecution),
		"GetExecutionHistory":              op(h.getExecutionHistory),
		"ListExecutions":                   op(h.listExecutions),
		"DescribeStateMachineForExecution": op(h.describeStateMachineForExecution),
		"ValidateStateMachineDefinition":   op(h.validateStateMachineDefinition),
		"ListStateMachineVersions":         op(h.listStateMachineVersions),
		"TagResource":                      op(h.tagResource),
		"UntagResource":                    op(h.untagResource),
		"ListTagsForResource":              op(h.listTagsForResource),
	}
	return h
}

// validator is a request that checks its own members before the
// operation runs.
type validator interface {
	validate() error
}

// op adapts a typed operation to the dispatch table: it decodes the body
// into In, whose member names must match exactly (dropMiscased), and
// validates it when In is a validator.
func op[In any](fn func(context.Context, *In) (any, error)) func(context.Context, []byte) (any, error) {
	inType := reflect.TypeFor[In]()
	ids := identifierMembers(inType)
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(body) > 0 {
			// json.Unmarshal would take each invalid byte as U+FFFD:
			// names that differ in those bytes would be one name.
			if where, bad := jsonpos.NotUTF8(body); bad {
				return nil, apiErrorf(ErrTypeSerializationException, "Malformed request body: not UTF-8 text (%s)", where)
			}
			body, _ = dropMiscased(body, inType)
			if err := json.Unmarshal(body, in); err != nil {
				return nil, apiErrorf(ErrTypeSerializationException, "%s", serializationMessage(err))
			}
		}
		if v, ok := any(in).(validator); ok {
			if err := v.validate(); err != nil {
				return nil, err
			}
		}
		if err := loneSurrogates(body, ids); err != nil {
			return nil, err
		}
		return fn(ctx, in)
	}
}

// identifierMembers returns the members of the request type t that name
// a resource: its name ("name") and its ARNs ("...Arn"), strings all.
func identifierMembers(t reflect.Type) []string {
	var ids []string
	for name, ft := range membersOf(t) {
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.String && (name == "name" || strings.HasSuffix(name, "Arn")) {
			ids = append(ids, name)
		}
	}
	slices.Sort(ids)
	return ids
}

// loneSurrogates refuses a request whose name or ARN member (ids, as
// identifierMembers gives them) holds a lone UTF-16 surrogate escape
// (`"\ud800"`): a name must not contain surrogates, and encoding/json
// reads one as U+FFFD, so that two names, or an ARN and a name, that
// differ there would be one. A name is InvalidName, as on AWS; an ARN,
// which can then name nothing, InvalidArn. Members the operation does
// not have are ignored, as everywhere.
func loneSurrogates(body []byte, ids []string) error {
	if len(ids) == 0 || !bytes.Contains(body, []byte(`\u`)) {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	for _, id := range ids {
		raw, ok := obj[id]
		if !ok || !jsonpos.LoneSurrogate(raw) {
			continue
		}
		var v string
		_ = json.Unmarshal(raw, &v)
		if id == "name" {
			return apiErrorf(ErrTypeInvalidName, "Invalid Name: '%s'", v)
		}
		return apiErrorf(ErrTypeInvalidArn, "Invalid Arn: '%s'", v)
	}
	return nil
}

// serializationMessage describes a body that does not decode into the
// request's shape in the words of AWS's (Coral's) JSON deserializer,
// without naming Go types.
func serializationMessage(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "Malformed request body: " + err.Error()
	}
	switch v := te.Value; {
	case v == "object":
		return "Start of structure or map found where not expected."
	case v == "array":
		return "Start of list found where not expected."
	case v == "string":
		return "STRING_VALUE can not be converted to " + shapeName(te.Type)
	case v == "bool":
		return "BOOLEAN_VALUE can not be converted to " + shapeName(te.Type)
	case strings.HasPrefix(v, "number"):
		return "NUMBER_VALUE can not be converted to " + shapeName(te.Type)
	}
	return "Unexpected " + te.Value + " in the request body"
}

// shapeName names the kind of member a Go type decodes, as Coral does.
func shapeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a String"
	case reflect.Bool:
		return "a Boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an Integer"
	case reflect.Float32, reflect.Float64:
		return "a Double"
	case reflect.Slice, reflect.Array:
		return "a List"
	case reflect.Map:
		return "a Map"
	}
	return "a Structure"
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := asl.NewUUID() // as AWS puts in x-amzn-RequestId
	w.Header().Set("x-amzn-RequestId", reqID)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, apiErrorf(ErrTypeUnknownOperationException, "the Step Functions API accepts POST only"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	fn := h.ops[name]
	switch {
	case target == "":
		writeError(w, 0, apiErrorf(ErrTypeUnknownOperationException,
			"no operation: the X-Amz-Target header names it (%sListStateMachines, say), as the AWS CLI and SDKs send it", targetPrefix))
		return
	case !ok || fn == nil:
		writeError(w, 0, apiErrorf(ErrTypeUnknownOperationException, "unknown operation %q", target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, 0, apiErrorf(ErrTypeRequestEntityTooLarge, "the request body is over %d bytes", mbe.Limit))
		return
	case err != nil:
		writeError(w, 0, apiErrorf(ErrTypeSerializationException, "reading the request body: %v", err))
		return
	}
	out, err := fn(r.Context(), body)
	if err != nil {
		ae := toAPIError(err, "")
		if ae.Type == ErrTypeInternalFailure && r.Context().Err() != nil &&
			(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			// The client left, or the server closed the connection at
			// shutdown, and the operation ended with it: nobody reads the
			// answer, and nothing failed. A failure of its own is still
			// an error.
			h.log.InfoContext(r.Context(), "sfnapi: the request ended before its answer", "operation", name, "requestId", reqID, "err", err)
			return
		}
		if ae.Type == ErrTypeInternalFailure {
			h.log.ErrorContext(r.Context(), "sfnapi: operation failed", "operation", name, "requestId", reqID, "err", err)
		}
		writeError(w, 0, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.log.ErrorContext(r.Context(), "sfnapi: encode response", "operation", name, "err", err)
		writeError(w, 0, apiErrorf(ErrTypeInternalFailure, "encoding the response failed"))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// Misdirected answers r, a Step Functions request (it has an
// X-Amz-Target header) sent to another path than the API's, "/": 404
// UnknownOperationException saying where the API is, which the AWS CLI
// and SDKs show, rather than the other route's answer to a request it
// cannot read (an --endpoint-url with the API Gateway routes' path).
func Misdirected(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", asl.NewUUID())
	writeError(w, http.StatusNotFound, apiErrorf(ErrTypeUnknownOperationException,
		"%.100s is not the Step Functions API, which is at POST / on this server: give the endpoint without a path (--endpoint-url http://%.100s)",
		r.URL.Path, r.Host))
}

// writeError writes an API error; status 0 takes the type's status.
func writeError(w http.ResponseWriter, status int, e *Error) {
	if status == 0 {
		status = httpStatus(e.Type)
	}
	b, _ := json.Marshal(struct {
		Type         string `json:"__type"`
		Message      string `json:"message"`
		ResourceName string `json:"resourceName,omitempty"`
	}{wireType(e.Type), e.Message, e.ResourceName})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// epoch is a timestamp in the awsJson encoding: seconds since the Unix
// epoch with a fraction (milliseconds, as AWS sends them).
type epoch time.Time

// IsZero lets omitzero drop unset timestamps.
func (t epoch) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON implements json.Marshaler.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	return fmt.Appendf(nil, "%d.%03d", sec, frac), nil
}
