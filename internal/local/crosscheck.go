package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// ErrStoresMismatch is the error of a start refused because the data
// directory's engine database and the status store do not belong
// together: one of them is missing, empty, or from another time.
var ErrStoresMismatch = errors.New("the engine's database and the status store do not match")

// openStores opens the engine's database (DatabaseFile) and the status
// store, and checks them against each other before any execution is
// re-armed. The two are opened independently, and a start on a pair that
// does not belong together destroys data or hides it:
//
//   - running monitor executions without any status record each fail for
//     good at their next check (their record is not found);
//   - live status records (Running, or Pending with an execution) without
//     any execution of the monitor state machine show Running for ever.
//
// Such a start is refused with ErrStoresMismatch. A missing or empty
// database file is looked at before it would be created, and a refused
// start does not create it. The file that holds data is opened first, so
// a stepmon.db of an earlier version is brought to the current schema
// (its data unchanged) even when the start is then refused.
//
// Both checks read one index entry (EXISTS); counting is for the message.
func (r *Runtime) openStores(ctx context.Context) (err error) {
	enginePath := filepath.Join(r.cfg.DataDir, DatabaseFile)
	statusPath := filepath.Join(r.cfg.DataDir, StatusDatabaseFile)
	sqliteStatus := r.cfg.DynamoDBEndpoint == ""
	engineNew := newFile(enginePath)
	statusNew, statusFile := "", "" // statusFile: the status store's file, if it has one
	if sqliteStatus {
		statusNew, statusFile = newFile(statusPath), statusPath
	}
	smArn := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", localRegion, localAccount, StateMachineName)

	if engineNew != "" && sqliteStatus && statusNew == "" {
		// The status records first: the engine's file does not exist
		// yet (or is empty), and a refused start must not create it. It
		// holds no records of an earlier version to import either.
		if r.statusStore, r.closeStatus, err = openStatusStore(ctx, r.cfg); err != nil {
			return openError("status store", statusFile, err)
		}
		if err := r.checkLiveRecords(ctx, enginePath+" "+engineNew); err != nil {
			return err
		}
		if r.engineStore, err = sqlitestore.OpenEngineStore(ctx, enginePath, sqlitestore.EngineOptions{FullSync: r.cfg.FSync, Logger: r.rlog}); err != nil {
			return openError("engine store", enginePath, err)
		}
		return nil
	}

	if r.engineStore, err = sqlitestore.OpenEngineStore(ctx, enginePath, sqlitestore.EngineOptions{FullSync: r.cfg.FSync, Logger: r.rlog}); err != nil {
		return openError("engine store", enginePath, err)
	}
	running, err := r.engineStore.HasExecutions(ctx, smArn, engine.StatusRunning)
	if err != nil {
		return fmt.Errorf("local: look for running executions in %s: %w", enginePath, err)
	}
	if running && statusNew != "" {
		// Unless the engine's file holds the records, in the layout
		// before status.db: opening the status store moves them.
		var old bool
		if err := r.engineStore.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM monitors)`).Scan(&old); err != nil {
			return fmt.Errorf("local: status records in %s: %w", enginePath, err)
		}
		if !old {
			return r.noStatusRecords(ctx, smArn, statusPath+" "+statusNew)
		}
	}
	if r.statusStore, r.closeStatus, err = openStatusStore(ctx, r.cfg); err != nil {
		return openError("status store", statusFile, err)
	}
	if running {
		if p, ok := r.statusStore.(interface {
			HasRecords(context.Context) (bool, error)
		}); ok {
			has, err := p.HasRecords(ctx)
			if err != nil {
				return fmt.Errorf("local: look for status records: %w", err)
			}
			if !has {
				where := statusPath + " has no status records"
				if !sqliteStatus {
					where = fmt.Sprintf("the DynamoDB table %s at %s has no status records", r.cfg.DynamoDBTable, r.cfg.DynamoDBEndpoint)
				}
				return r.noStatusRecords(ctx, smArn, where)
			}
		}
	}
	// Live records without executions only with the records in a file of
	// this directory's: a DynamoDB table may be shared by other
	// runtimes, whose executions are not in this engine.
	if !sqliteStatus {
		return nil
	}
	execs, err := r.engineStore.HasExecutions(ctx, smArn, "")
	if err != nil {
		return fmt.Errorf("local: look for monitor executions in %s: %w", enginePath, err)
	}
	if !execs {
		return r.checkLiveRecords(ctx, enginePath+" has no executions of the monitor state machine")
	}
	return nil
}

// newFile says why the database file at path would be a new one when
// opened: "is missing" or "is empty"; "" when it holds data (or cannot be
// looked at, which opening it reports).
func newFile(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "is missing"
	case err == nil && fi.Mode().IsRegular() && fi.Size() == 0:
		return "is empty"
	}
	return ""
}

// noStatusRecords is the error of running monitor executions without
// status records (where says what the status store lacks).
func (r *Runtime) noStatusRecords(ctx context.Context, smArn, where string) error {
	n, err := r.engineStore.CountExecutions(ctx, smArn, engine.StatusRunning)
	if err != nil {
		return fmt.Errorf("local: count running executions: %w", err)
	}
	enginePath := filepath.Join(r.cfg.DataDir, DatabaseFile)
	restore := filepath.Join(r.cfg.DataDir, StatusDatabaseFile)
	if r.cfg.DynamoDBEndpoint != "" {
		restore = "the table (or choose the table and endpoint that hold the records)"
	}
	executions, fail := "running monitor executions", "every one of them"
	if n == 1 {
		executions, fail = "running monitor execution", "it"
	}
	return r.mismatch(fmt.Sprintf("%s has %d %s but %s; "+
		"starting would fail %s at its next check", enginePath, n, executions, where, fail), restore, enginePath)
}

// mismatch is the ErrStoresMismatch of a start refused because problem,
// with what to do: restore the one store from the backup of the other, or
// start afresh.
func (r *Runtime) mismatch(problem, restore, backupOf string) error {
	return fmt.Errorf("local: %w: %s. Restore %s from the same backup as %s, or, to start afresh, "+
		"move the data directory %s away (or use another --data)", ErrStoresMismatch, problem, restore, backupOf, r.cfg.DataDir)
}

// checkLiveRecords refuses live status records (Running, or Pending with
// an execution) in the SQLite status store when the engine holds no
// execution of the monitor state machine (where says why).
func (r *Runtime) checkLiveRecords(ctx context.Context, where string) error {
	st, ok := r.statusStore.(*sqlitestore.Store)
	if !ok {
		return nil
	}
	live, err := st.HasLiveExecutions(ctx)
	if err != nil {
		return fmt.Errorf("local: look for live status records: %w", err)
	}
	if !live {
		return nil
	}
	n, err := st.CountLiveExecutions(ctx)
	if err != nil {
		return fmt.Errorf("local: count live status records: %w", err)
	}
	statusPath := filepath.Join(r.cfg.DataDir, StatusDatabaseFile)
	return r.mismatch(fmt.Sprintf("%s has %d running or pending monitors with an execution but %s; "+
		"they would show Running for ever and never be checked again", statusPath, n, where),
		filepath.Join(r.cfg.DataDir, DatabaseFile), statusPath)
}

// openError is the error of opening the store at path ("" for one that
// is no file): it names path unless err does already, and for a damaged file (or one that is not a
// database) it says what mends it.
func openError(store, path string, err error) error {
	what := "local: open the " + store
	if path != "" && !strings.Contains(err.Error(), path) {
		what += " " + path
	}
	if sqlitestore.IsDamaged(err) {
		return fmt.Errorf("%s: %w (the file is damaged or is not a stepmon database: restore %s and %s together from a backup, or start afresh in another data directory)",
			what, err, DatabaseFile, StatusDatabaseFile)
	}
	return fmt.Errorf("%s: %w", what, err)
}
