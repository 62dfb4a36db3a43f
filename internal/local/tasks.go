package local

import (
	"context"
	"fmt"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// tasks builds the check and alert handlers' logic with the local
// checkers and senders. Outbound requests go through an egress guard that
// allows loopback and private targets.
func (r *Runtime) tasks() (*monitor.Tasks, error) {
	guard := egress.New(egress.Options{AllowPrivate: true})
	var token checks.TokenFunc
	if r.cfg.GitHubToken != "" {
		token = checks.StaticToken(r.cfg.GitHubToken)
	}
	gh, err := checks.NewGitHub(checks.GitHubOptions{
		BaseURL:    r.cfg.GitHubAPIURL,
		Token:      token,
		HTTPClient: guard.Client(30 * time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return &monitor.Tasks{
		Store: r.statusStore,
		Checkers: map[string]monitor.Checker{
			monitor.TargetGitHub:    gh,
			monitor.TargetHTTP:      checks.NewHTTPJob(checks.HTTPJobOptions{Client: guard.Client(0)}),
			monitor.TargetSimulated: checks.Simulated{},
		},
		Senders: map[string]monitor.Sender{
			monitor.ChannelSNS:     r.outbox,
			monitor.ChannelTwilio:  r.outbox,
			monitor.ChannelWebhook: &webhook{client: guard.Client(30 * time.Second)},
		},
		Retention: r.cfg.Retention,
		Logger:    r.log.With("component", "tasks"),
	}, nil
}

// openStatusStore opens the status store: SQLite in the engine's database
// file, or DynamoDB at an endpoint.
func openStatusStore(ctx context.Context, cfg Config, path string) (monitor.Store, func() error, error) {
	if cfg.DynamoDBEndpoint != "" {
		return openDynamoStatusStore(ctx, cfg)
	}
	db, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	return db.Monitors(), db.Close, nil
}
