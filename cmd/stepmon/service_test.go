package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

type serverFunc func(ctx context.Context) error

func (f serverFunc) Serve(ctx context.Context) error { return f(ctx) }

// A request to the in-process service ends with the service's failure as
// soon as Serve fails, instead of waiting out its timeout on a listener
// that nobody serves (demo and bench load waited 10 and 60 s, and then
// reported only the timeout).
func TestServeInBackgroundFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	boom := errors.New("engine: recover: database disk image is malformed")
	fail := make(chan struct{})
	svc := serveInBackground(context.Background(), serverFunc(func(context.Context) error {
		<-fail
		return boom
	}))
	req, err := http.NewRequestWithContext(svc.ctx, http.MethodGet, "http://"+ln.Addr().String()+"/monitors", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Timeout: time.Hour}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	close(fail)
	select {
	case err := <-done:
		got := svc.explain(err)
		if !errors.Is(got, boom) || !strings.HasPrefix(got.Error(), "the service stopped: "+boom.Error()+" (") {
			t.Fatalf("explain(%v) = %v, want the service's failure, then the request's error", err, got)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing check
		t.Fatal("the request still waits after the service failed")
	}
	if err := <-svc.errc; !errors.Is(err, boom) {
		t.Fatalf("errc = %v, want %v", err, boom)
	}
	if err := svc.failure(); !errors.Is(err, boom) {
		t.Fatalf("failure() = %v, want %v", err, boom)
	}
	// No error stays no error after the service failed.
	if got := svc.explain(nil); got != nil {
		t.Fatalf("explain(nil) after the failure = %v, want nil", got)
	}
}

// A service that ends without an error (after Shutdown) cancels nothing,
// and errors that are not the service's pass through explain unchanged.
func TestServeInBackgroundClean(t *testing.T) {
	svc := serveInBackground(context.Background(), serverFunc(func(context.Context) error { return nil }))
	if err := <-svc.errc; err != nil {
		t.Fatalf("errc = %v, want nil", err)
	}
	if err := svc.ctx.Err(); err != nil {
		t.Fatalf("ctx.Err() = %v after a clean stop, want nil", err)
	}
	if err := svc.failure(); err != nil {
		t.Fatalf("failure() = %v after a clean stop, want nil", err)
	}
	other := errors.New("HTTP 400")
	if got := svc.explain(other); got != other {
		t.Fatalf("explain(%v) = %v, want it unchanged", other, got)
	}
	if got := svc.explain(nil); got != nil {
		t.Fatalf("explain(nil) = %v", got)
	}
}
