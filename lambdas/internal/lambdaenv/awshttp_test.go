package lambdaenv

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

// An attempt that gets no answer ends after the attempt timeout, and the
// SDK's retryer tries again: one hung connection costs one attempt, not
// the caller's whole deadline.
func TestAWSHTTPClientEndsHungAttempts(t *testing.T) {
	url, requests := lambdatest.HungFirstAttempt(t, `{}`)
	const attempt = 200 * time.Millisecond
	client := dynamodb.New(dynamodb.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("id", "secret", ""),
		HTTPClient:   AWSHTTPClient(attempt),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 2
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("GetItem with its first attempt hung = %v after %v, want the second attempt's answer", err, took.Round(time.Millisecond))
	}
	// The first attempt hangs until the test ends, so a second request and
	// an answer within the 5 s context prove that the attempt timeout cut
	// it, without timing the call.
	if got := requests.Load(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}
