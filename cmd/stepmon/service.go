package main

import (
	"context"
	"errors"
	"fmt"
)

// servable is what a command runs in its own process: *local.Runtime.
type servable interface {
	Serve(ctx context.Context) error
}

// background is a service that a command (demo, bench load) runs in a
// goroutine while it talks to it over HTTP.
type background struct {
	// ctx is the command's context until Serve fails; then it is
	// cancelled with the failure as its cause, so that requests to the
	// service end at once instead of waiting for their timeout on a
	// listener that nobody serves.
	ctx context.Context
	// errc receives Serve's result once.
	errc chan error
}

// serviceStopped is the cause background.ctx is cancelled with.
type serviceStopped struct{ err error }

func (e *serviceStopped) Error() string { return "the service stopped: " + e.err.Error() }
func (e *serviceStopped) Unwrap() error { return e.err }

// serveInBackground calls s.Serve in a goroutine.
func serveInBackground(ctx context.Context, s servable) *background {
	ctx, cancel := context.WithCancelCause(ctx)
	b := &background{ctx: ctx, errc: make(chan error, 1)}
	go func() {
		err := s.Serve(ctx)
		if err != nil {
			cancel(&serviceStopped{err: err})
		}
		b.errc <- err
	}()
	return b
}

// failure returns the error Serve failed with, nil while it serves or
// after a clean stop.
func (b *background) failure() error {
	var stopped *serviceStopped
	if errors.As(context.Cause(b.ctx), &stopped) {
		return stopped
	}
	return nil
}

// explain returns the service's failure in place of err when err is a
// request that ended because the service stopped, and err otherwise.
func (b *background) explain(err error) error {
	if f := b.failure(); err != nil && f != nil {
		return fmt.Errorf("%w (%v)", f, err)
	}
	return err
}
