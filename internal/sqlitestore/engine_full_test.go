package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"

	sqlite3 "modernc.org/sqlite/lib"
)

// A commit that fails on a full database reports the full database only:
// SQLite has rolled the transaction back by itself, and the ROLLBACK's
// "cannot rollback - no transaction is active" is no second failure. Once
// there is room the same commit goes through.
func TestEngineCommitDiskFull(t *testing.T) {
	ctx := context.Background()
	s, err := OpenEngineStore(ctx, filepath.Join(t.TempDir(), "stepmon.db"), EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: sm, Name: "sm", Definition: "{}", Type: "STANDARD", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// A full disk, as SQLite reports it: no page beyond those in use.
	var pages int
	if err := s.conn.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	tr := engine.Transition{ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:a",
		Create:   &engine.Execution{Name: "a", StateMachineArn: sm, Input: `{}`, StartDate: t0},
		RunState: []byte(strings.Repeat("x", 1<<20))}
	err = s.Commit(ctx, tr)
	if err == nil || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("Commit on a full database: %v, want database or disk is full", err)
	}
	if strings.Contains(err.Error(), "rollback") {
		t.Errorf("Commit on a full database: %q, want no failed rollback in it", err)
	}
	if _, err := s.conn.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, tr); err != nil {
		t.Fatalf("Commit with room again: %v", err)
	}
}

// A failed transaction's error keeps the failure of the ROLLBACK after
// it, unless that only says SQLite had rolled the transaction back
// already, as it does after a full disk, an I/O error, no memory or a
// busy database.
func TestWithRollbackErr(t *testing.T) {
	full := &codedError{"database or disk is full (13)", sqlite3.SQLITE_FULL}
	constraint := &codedError{"constraint failed (2067)", sqlite3.SQLITE_CONSTRAINT_UNIQUE}
	noTx := errors.New("cannot rollback - no transaction is active")
	other := errors.New("rollback failed: disk I/O error")
	tests := []struct {
		name    string
		err, rb error
		want    string
	}{
		{"rolled back", constraint, nil, constraint.msg},
		{"rolled back by SQLite", full, noTx, full.msg},
		{"rollback failed after a full disk", full, other, full.msg + "\n" + other.Error()},
		{"no transaction after a constraint", constraint, noTx, constraint.msg + "\n" + noTx.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withRollbackErr(tt.err, tt.rb)
			if got.Error() != tt.want || !errors.Is(got, tt.err) {
				t.Errorf("withRollbackErr(%v, %v) = %q, want %q wrapping the transaction's error", tt.err, tt.rb, got, tt.want)
			}
		})
	}
}
