package local

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// openDynamoStatusStore keeps the status records in the DynamoDB table
// cfg.DynamoDBTable at cfg.DynamoDBEndpoint, creating the table (as the
// CDK stack defines it) when it does not exist.
func openDynamoStatusStore(ctx context.Context, cfg Config) (monitor.Store, func() error, error) {
	client := dynamodb.New(dynamodb.Options{
		Region:       cfg.awsRegion(),
		BaseEndpoint: aws.String(cfg.DynamoDBEndpoint),
		Credentials:  cfg.awsCredentials(),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	})
	if err := dynamostore.CreateTable(ctx, client, cfg.DynamoDBTable); err != nil {
		return nil, nil, fmt.Errorf("create the DynamoDB table %s: %w", cfg.DynamoDBTable, err)
	}
	// Records that never finish expire from the table (TTL) the
	// retention after their expiry, as finished ones do after their end.
	return dynamostore.New(client, cfg.DynamoDBTable, dynamostore.WithRetention(cfg.Retention)), func() error { return nil }, nil
}
