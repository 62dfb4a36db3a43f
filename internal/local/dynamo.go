package local

import (
	"context"
	"errors"

	"github.com/stepmon/stepmon/internal/monitor"
)

// openDynamoStatusStore keeps the status records in DynamoDB at
// cfg.DynamoDBEndpoint.
// HOOK: internal/dynamostore is not in the tree yet.
func openDynamoStatusStore(ctx context.Context, cfg Config) (monitor.Store, func() error, error) {
	return nil, nil, errors.New("local: the DynamoDB status store is not available in this build")
}
