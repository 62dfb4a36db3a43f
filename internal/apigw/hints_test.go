package apigw

import (
	"slices"
	"testing"

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
