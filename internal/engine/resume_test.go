package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// runStateStore is a Store whose GetRunState reports that it was called
// and then returns what getRunState returns.
type runStateStore struct {
	Store
	called      chan struct{}
	getRunState func(ctx context.Context) error
}

func (s runStateStore) GetRunState(ctx context.Context, arn string) ([]byte, time.Time, error) {
	select {
	case s.called <- struct{}{}:
	default: // a resume tried again
	}
	if err := s.getRunState(ctx); err != nil {
		return nil, time.Time{}, fmt.Errorf("teststore: get run state %s: %w", arn, err)
	}
	return s.Store.GetRunState(ctx, arn)
}

// recordHandler is a slog.Handler that sends every record, at any level,
// to records.
type recordHandler struct{ records chan slog.Record }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.records <- r.Clone()
	return nil
}

func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

// A resume that fails because the engine is closing is the expected end
// of it, logged below ERROR; a resume that fails otherwise is logged at
// ERROR.
func TestResumeFailureLogLevel(t *testing.T) {
	tests := []struct {
		name        string
		getRunState func(ctx context.Context) error // once the resume reads the store
		closing     bool                            // whether the engine closes during the read
		want        slog.Level
	}{
		{
			name:        "engine closing",
			getRunState: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			closing:     true,
			want:        slog.LevelDebug,
		},
		{
			name:        "store failure",
			getRunState: func(context.Context) error { return errors.New("disk I/O error") },
			want:        slog.LevelError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := NewMemStore()
			populate(t, mem, 1) // waiting an hour, due at once on the virtual clock
			store := runStateStore{Store: mem, called: make(chan struct{}, 1), getRunState: tt.getRunState}
			records := make(chan slog.Record, 16)
			eng := New(Options{Store: store, Clock: NewVirtualClock(time.Now()), Logger: slog.New(recordHandler{records})})
			defer eng.Close()
			if _, err := eng.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-store.called
			if tt.closing {
				if err := eng.Close(); err != nil {
					t.Fatal(err)
				}
			}
			timeout := time.After(10 * time.Second)
			for {
				select {
				case r := <-records:
					if r.Message != "engine: resume" {
						continue
					}
					if r.Level != tt.want {
						t.Errorf("resume failure logged at %v, want %v", r.Level, tt.want)
					}
					return
				case <-timeout:
					t.Fatal("resume failure not logged")
				}
			}
		})
	}
}
