package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A check of a Running monitor updates its row and no index: the
// statement's program has no index delete or insert.
func TestRecordRunningRewritesNoIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		sql         string
		wantRewrite bool
	}{
		{recordRunningSQL, false},
		// The control: the same update with runtime_status set.
		{`UPDATE monitors SET custom_status = ?, runtime_status = 'Running' WHERE instance_id = ?`, true},
	} {
		args := make([]any, strings.Count(tc.sql, "?"))
		rows, err := db.SQL().QueryContext(ctx, `EXPLAIN `+tc.sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		rewrites := 0
		for rows.Next() {
			var addr, p1, p2, p3, p5 int
			var op, p4, comment any
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			if s, _ := op.(string); s == "IdxDelete" || s == "IdxInsert" {
				rewrites++
			}
		}
		rows.Close()
		if got := rewrites > 0; got != tc.wantRewrite {
			t.Errorf("%.60s...: %d index entry rewrites, want rewrites: %v", tc.sql, rewrites, tc.wantRewrite)
		}
	}
}

// The purge of a machine's closed executions finds them through their
// partial index, in stop_date order: it reads neither every execution nor
// other machines' closed ones.
func TestPurgePickUsesMachineStopIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN `+purgePickSQL, "sm", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX engine_executions_by_machine_stop (state_machine_arn=? AND stop_date>? AND stop_date<?)") ||
		strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("plan %q: want a range of engine_executions_by_machine_stop in stop_date order", got)
	}
}
