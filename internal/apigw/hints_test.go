package apigw

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/monitor"
)

// A '+' in a query string is a space once decoded: a time whose offset
// lost its '+' that way is refused with the reason and the fix.
func TestListTimeWithDecodedPlus(t *testing.T) {
	const rfc = "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not "
	const plus = "; a '+' in a query string means a space: write it as %2B, "
	tests := []struct {
		name, param, value string
		want               string
	}{
		{"offset lost its plus", "createdTimeFrom", "2026-01-01T00:00:00 01:00", rfc + `"2026-01-01T00:00:00 01:00"` + plus + "2026-01-01T00:00:00%2B01:00"},
		{"fraction and offset", "createdTimeTo", "2026-01-01T00:00:00.5 05:30", rfc + `"2026-01-01T00:00:00.5 05:30"` + plus + "2026-01-01T00:00:00.5%2B05:30"},
		{"space that was no plus", "createdTimeFrom", "2026-01-01 00:00:00Z", rfc + `"2026-01-01 00:00:00Z"`},
		{"no space", "createdTimeFrom", "yesterday", rfc + `"yesterday"`},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, withQuery(local("GET", "/monitors", ""), tc.param, tc.value))
			wantStatus(t, resp, 400)
			want := []monitor.FieldError{{Field: tc.param, Problem: tc.want}}
			if got := decode[ErrorBody](t, resp).Fields; !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q", got, want)
			}
		})
	}
}

// RFC 3339 lets a time's T and Z be lower case (section 5.6): a list
// query takes them so, as the same time.
func TestListTimeInLowerCase(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"m1","target":{"type":"simulated"}}`) // created at t0
	before, after := t0.Add(-time.Second), t0.Add(time.Second)
	lower := func(at time.Time, layout string) string { return strings.ToLower(at.Format(layout)) }
	for _, tc := range []struct {
		param, value string
		want         int // monitors listed
	}{
		{"createdTimeFrom", lower(before, time.RFC3339), 1},
		{"createdTimeFrom", lower(after, time.RFC3339), 0},
		{"createdTimeTo", lower(after, time.RFC3339Nano), 1},
		{"createdTimeTo", lower(before.In(time.FixedZone("", 5400)), time.RFC3339), 0},
	} {
		resp := e.do(t, withQuery(local("GET", "/monitors", ""), tc.param, tc.value))
		wantStatus(t, resp, 200)
		if got := len(decode[ListResponse](t, resp).Monitors); got != tc.want {
			t.Errorf("%s=%s: %d monitors, want %d", tc.param, tc.value, got, tc.want)
		}
	}
}

// Terminate takes its reason in the query. A body that says anything is
// refused, so that a reason sent in it is not lost; a blank body or an
// empty object says nothing and is accepted, with a byte order mark too
// (dropped from start and raiseEvent bodies).
func TestTerminateRefusesABody(t *testing.T) {
	refused := []monitor.FieldError{{Field: "body", Problem: "must be empty: terminate takes the reason in the query: ?reason=..."}}
	b64 := func(s string) func(*events.APIGatewayProxyRequest) {
		return func(r *events.APIGatewayProxyRequest) {
			r.Body = base64.StdEncoding.EncodeToString([]byte(s))
			r.IsBase64Encoded = true
		}
	}
	tests := []struct {
		name, body string
		edit       func(*events.APIGatewayProxyRequest) // nil: none
		want       []monitor.FieldError                 // nil: accepted
	}{
		{"reason in the body", `{"reason":"in body"}`, nil, refused},
		{"string", `"no longer needed"`, nil, refused},
		{"not JSON", `reason=no+longer+needed`, nil, refused},
		{"base64 reason", "", b64(`{"reason":"x"}`), refused},
		{"no body", "", nil, nil},
		{"blank", " \n\t", nil, nil},
		{"empty object", `{ }`, nil, nil},
		{"base64 empty object", "", b64(`{}`), nil},
		{"byte order mark only", "\ufeff", nil, nil},
		{"byte order mark and empty object", "\ufeff{}\n", nil, nil},
		{"byte order mark and reason", "\ufeff{\"reason\":\"x\"}", nil, refused},
	}
	e := newEnv(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("t%d", i)
			e.start(t, `{"instanceId":"`+id+`","target":{"type":"simulated"}}`)
			_, stops0 := e.wf.calls()
			req := withQuery(local("POST", "/monitors/"+id+"/terminate", tc.body), "reason", "done")
			if tc.edit != nil {
				tc.edit(&req)
			}
			resp := e.do(t, req)
			_, stops := e.wf.calls()
			if tc.want == nil {
				wantStatus(t, resp, http.StatusAccepted)
				if st := decode[StatusResponse](t, resp); st.Output.Detail != "terminated: done" {
					t.Errorf("detail = %q, want %q", st.Output.Detail, "terminated: done")
				}
				return
			}
			wantStatus(t, resp, http.StatusBadRequest)
			if got := decode[ErrorBody](t, resp).Fields; !slices.Equal(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
			if stops != stops0 {
				t.Errorf("%d stops, want none", stops-stops0)
			}
			wantStatus(t, e.do(t, local("GET", "/monitors/"+id, "")), http.StatusAccepted)
		})
	}
}
