package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestList lists more monitors than one page of the API holds (1,000),
// with status filters and limits, against the local runtime.
func TestList(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	const n = 1005
	startJobMonitors(t, rt.url(), "list", n, 3600, 100)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     int // records listed, with --json
		wantErr  string
	}{
		{name: "all", args: []string{"--json"}, want: n},
		{name: "status list", args: []string{"--status", "Running,Completed,Pending", "--json"}, want: n},
		{name: "status list with spaces", args: []string{"--status", " Running , Pending ", "--json"}, want: n},
		{name: "status none match", args: []string{"--status", "Completed,Failed", "--json"}, want: 0},
		{name: "top beyond a page", args: []string{"--top", "2000", "--json"}, want: n},
		{name: "top across pages", args: []string{"--top", "1003", "--json"}, want: 1003},
		{name: "top within a page", args: []string{"--top", "7", "--json"}, want: 7},
		{name: "top and status", args: []string{"--top", "1001", "--status", "Running,Pending", "--json"}, want: 1001},
		{name: "negative top", args: []string{"--top", "-1"}, wantCode: 2, wantErr: "--top"},
		{name: "bad status", args: []string{"--status", "Running,Sleeping"}, wantCode: 1, wantErr: "runtimeStatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(context.Background(), rt.url(), append([]string{"list"}, tt.args...)...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if tt.wantErr != "" {
				if !strings.Contains(res.stderr, tt.wantErr) {
					t.Errorf("stderr %q does not mention %q", res.stderr, tt.wantErr)
				}
				return
			}
			var recs []record
			if err := json.Unmarshal([]byte(res.stdout), &recs); err != nil {
				t.Fatalf("output is not a JSON array of records: %v", err)
			}
			if len(recs) != tt.want {
				t.Errorf("listed %d monitors, want %d", len(recs), tt.want)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				if seen[r.InstanceID] {
					t.Fatalf("%s listed twice", r.InstanceID)
				}
				seen[r.InstanceID] = true
			}
		})
	}
}
