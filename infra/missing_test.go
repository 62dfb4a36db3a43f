package main

import (
	"fmt"
	"runtime"
	"testing"
)

// toolRecorder is a testing.TB that records Skip and Fatal and, like the
// real ones, stops the goroutine that calls them. Any other method panics
// (the embedded TB is nil): requireTool must not call it.
type toolRecorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *toolRecorder) Helper() {}

func (r *toolRecorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *toolRecorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// TestRequireTool: a missing tool skips the test, saying what to install,
// and fails it under CI=true, saying why, as internal/testtool's Require
// does (this module cannot import it).
func TestRequireTool(t *testing.T) {
	const noSuchTool = "stepmon-infra-no-such-tool"
	for _, tt := range []struct {
		ci         string
		skip, fail bool
		wantSuffix string
	}{
		{"", true, false, "install it"},
		{"false", true, false, "install it"},
		{"true", false, true, "install it (required under CI=true)"},
	} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &toolRecorder{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				requireTool(r, noSuchTool, "", "install it")
			}()
			<-done
			if r.skipped != tt.skip || r.failed != tt.fail {
				t.Errorf("skipped %v, failed %v; want %v, %v", r.skipped, r.failed, tt.skip, tt.fail)
			}
			if n := len(tt.wantSuffix); len(r.msg) < n || r.msg[len(r.msg)-n:] != tt.wantSuffix {
				t.Errorf("message %q, want it to end in %q", r.msg, tt.wantSuffix)
			}
		})
	}
}
