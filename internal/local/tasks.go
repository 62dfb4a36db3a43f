package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// tasks builds the check and alert handlers' logic with the local
// checkers and senders. Outbound requests go through an egress guard that
// allows loopback and private targets.
func (r *Runtime) tasks(senders map[string]monitor.Sender) (*monitor.Tasks, error) {
	guard := egress.New(egress.Options{AllowPrivate: true, IdleConnsPerHost: maxIdleConnsPerHost})
	var token checks.TokenFunc
	if r.cfg.GitHubToken != "" {
		token = checks.StaticToken(r.cfg.GitHubToken)
	}
	log := r.log.With("component", "tasks")
	gh, err := checks.NewGitHub(checks.GitHubOptions{
		BaseURL:    r.cfg.GitHubAPIURL,
		Token:      token,
		HTTPClient: guard.Client(30 * time.Second),
		Logger:     log,
	})
	if err != nil {
		return nil, fmt.Errorf("local: github checker: %w", err)
	}
	return &monitor.Tasks{
		Store: r.statusHealth,
		Checkers: map[string]monitor.Checker{
			monitor.TargetGitHub:    gh,
			monitor.TargetHTTP:      checks.NewHTTPJob(checks.HTTPJobOptions{Client: guard.Client(0)}),
			monitor.TargetSimulated: checks.Simulated{},
		},
		Senders:   senders,
		Retention: r.cfg.Retention,
		Logger:    log,
	}, nil
}

// maxIdleConnsPerHost is how many idle connections the local clients keep
// per host. Locally many monitors often poll one service (a test server,
// a job API on localhost) at the same second: with Go's default of 2 (4
// for the egress guard) every check past those would dial a connection
// and close it, burning CPU and filling the ephemeral ports with
// TIME_WAIT sockets at thousands of checks per second. It is above the
// engine's bound on running executions (engine.Options.MaxRunning, 512),
// so that a saturated runtime, with that many checks of one service in
// flight, does not churn connections either (at 256, dialling and closing
// them cost about 2 % of the CPU at 10,000 monitors). Idle connections
// close after 90 s.
const maxIdleConnsPerHost = 1024

// openStatusStore opens the status store: SQLite in a database file of
// its own (StatusDatabaseFile), or DynamoDB at an endpoint.
//
// The status records have a file of their own so that their writer and
// the engine's never wait for each other: each file has one write lock,
// and both writers group-commit at the rate of the checks.
func openStatusStore(ctx context.Context, cfg Config) (monitor.Store, func() error, error) {
	if cfg.DynamoDBEndpoint != "" {
		return openDynamoStatusStore(ctx, cfg)
	}
	db, err := sqlitestore.OpenWith(ctx, filepath.Join(cfg.DataDir, StatusDatabaseFile), sqlitestore.Options{FullSync: cfg.FSync, Logger: cfg.Logger.With("component", "runtime")})
	if err != nil {
		return nil, nil, err
	}
	if err := importStatusRecords(ctx, db, filepath.Join(cfg.DataDir, DatabaseFile)); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db.Monitors(), db.Close, nil
}

// statusTablesQuery counts the status tables of the attached engine file
// (2 in a data directory of the earlier layout). A variable so that a
// test can make it fail: SQLite reads the schema at ATTACH, so a file
// whose schema cannot be read fails there, and this query fails only on
// a busy database or an I/O error.
var statusTablesQuery = `SELECT count(*) FROM old.sqlite_schema WHERE type = 'table' AND name IN ('monitors', 'monitor_events')`

// importStatusRecords moves the status records that a data directory of
// an earlier version kept in the engine's database file into the status
// database: copied (records already there are kept), then deleted from the
// engine's file. A crash between the two steps repeats the copy, which
// changes nothing, at the next start.
func importStatusRecords(ctx context.Context, db *sqlitestore.DB, enginePath string) error {
	if _, err := os.Stat(enginePath); err != nil {
		return nil
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return fmt.Errorf("local: import status records: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, enginePath); err != nil {
		return fmt.Errorf("local: import status records: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	var n int
	if err := conn.QueryRowContext(ctx, statusTablesQuery).Scan(&n); err != nil {
		return fmt.Errorf("local: import status records: %w", err)
	}
	if n != 2 {
		return nil // not a stepmon database with status tables
	}
	var any int
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM old.monitors)`).Scan(&any); err != nil {
		return fmt.Errorf("local: import status records: %w", err)
	}
	if any == 0 {
		return nil
	}
	for _, step := range []string{
		`BEGIN IMMEDIATE;
		INSERT OR IGNORE INTO main.monitors SELECT * FROM old.monitors;
		INSERT OR IGNORE INTO main.monitor_events SELECT * FROM old.monitor_events;
		COMMIT`,
		`BEGIN IMMEDIATE;
		DELETE FROM old.monitor_events;
		DELETE FROM old.monitors;
		COMMIT`,
	} {
		if _, err := conn.ExecContext(ctx, step); err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			return fmt.Errorf("local: import status records: %w", err)
		}
	}
	return nil
}
