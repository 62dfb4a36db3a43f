// Package lambdatest holds checks the functions' tests share.
package lambdatest

import (
	"context"
	"log/slog"
	"testing"
)

// WantLogger fails t unless log writes JSON and filters at the level
// AWS_LAMBDA_LOG_LEVEL set, which the caller set to ERROR.
func WantLogger(t *testing.T, log *slog.Logger) {
	t.Helper()
	if log == nil {
		t.Fatal("no logger")
	}
	if _, ok := log.Handler().(*slog.JSONHandler); !ok {
		t.Errorf("logger handler is %T, want *slog.JSONHandler", log.Handler())
	}
	if log.Enabled(context.Background(), slog.LevelInfo) || !log.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("logger does not follow AWS_LAMBDA_LOG_LEVEL=ERROR")
	}
}
