package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// WantLogger fails t unless log is the functions' logger
// (lambdaenv.NewLogger) writing to out: it filters at the level
// AWS_LAMBDA_LOG_LEVEL set, which the caller set to ERROR, and writes a
// record as a JSON line with the request id of the invocation it was
// logged in.
func WantLogger(t *testing.T, log *slog.Logger, out *bytes.Buffer) {
	t.Helper()
	if log == nil {
		t.Fatal("no logger")
	}
	if log.Enabled(context.Background(), slog.LevelInfo) || !log.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("logger does not follow AWS_LAMBDA_LOG_LEVEL=ERROR")
	}
	out.Reset()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "probe-request"})
	log.ErrorContext(ctx, "probe")
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["msg"] != "probe" || rec["level"] != "ERROR" || rec["awsRequestId"] != "probe-request" {
		t.Errorf("logged %q (%v), want one JSON line with msg probe, level ERROR and awsRequestId probe-request", out.String(), err)
	}
}

// WantErr checks the error of a table case and reports whether the case
// ends there: with want set, err must be an error naming want; without,
// err must be nil.
func WantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want one naming %s", err, want)
		}
		return true
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	return false
}

// FakeAWS sets the AWS SDK's configuration for a test that must reach
// nothing real: region, static fake credentials, no session token or
// profile, no instance metadata. The caller points the endpoints.
func FakeAWS(t *testing.T, region string) {
	t.Helper()
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
