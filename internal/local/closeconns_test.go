package local

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServerReadTimeout checks that the API server bounds how long a
// request body may take to read, and that the bound does not cut an
// answer that comes later than it once the request is read:
// StartSyncExecution waiting for an EXPRESS execution. The runtime's
// ReadTimeout is shortened for the test.
func TestServerReadTimeout(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if rt.server.ReadTimeout != requestReadTimeout || requestReadTimeout <= 0 {
		t.Errorf("server ReadTimeout %v, want %v", rt.server.ReadTimeout, requestReadTimeout)
	}
	const readTimeout = 400 * time.Millisecond
	rt.server.ReadTimeout = readTimeout
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	defer func() {
		rt.Shutdown(ctx)
		<-errc
	}()
	waitHealthy(t, rt.URL())
	base := rt.URL()

	// An EXPRESS execution that waits three times the read timeout.
	a := sfnCall(t, base, "CreateStateMachine", `{"name":"slow","type":"EXPRESS","roleArn":"arn:aws:iam::123456789012:role/r",`+
		`"definition":"{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":1.2,\"End\":true}}}"}`)
	if a.status != http.StatusOK {
		// Wait takes whole seconds.
		a = sfnCall(t, base, "CreateStateMachine", `{"name":"slow","type":"EXPRESS","roleArn":"arn:aws:iam::123456789012:role/r",`+
			`"definition":"{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":2,\"End\":true}}}"}`)
	}
	wantStatus(t, a, http.StatusOK, "CreateStateMachine")
	smArn, _ := a.json(t)["stateMachineArn"].(string)
	a = sfnCall(t, base, "StartSyncExecution", `{"stateMachineArn":"`+smArn+`","name":"x1"}`)
	wantStatus(t, a, http.StatusOK, "StartSyncExecution")
	x := a.json(t)
	if st, _ := x["status"].(string); st != "SUCCEEDED" {
		t.Errorf("StartSyncExecution answered %s, want SUCCEEDED", a.body)
	}
	// The answer waited for the execution's Wait: it came no earlier
	// than the execution's stop, past the read timeout.
	started, _ := x["startDate"].(float64)
	stopped, _ := x["stopDate"].(float64)
	if ran := time.Duration((stopped - started) * float64(time.Second)); ran < readTimeout {
		t.Errorf("the execution ran %v (%s), less than the read timeout: the test proves nothing", ran, a.body)
	}

	// A body trickled slower than the read timeout is cut.
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /monitors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := io.WriteString(c, " "); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("a body trickled past the read timeout got %s", resp.Status)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server was still reading a trickled body after 20s, with a read timeout of %v", readTimeout)
	}
}

// Recovered may be asked while Serve starts up, from another goroutine
// (a test's, a supervisor's): it reads what the start-up writes under a
// lock (the race detector caught the bare read).
func TestRecoveredWhileServing(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	defer func() {
		rt.Shutdown(ctx)
		<-errc
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if n, took := rt.Recovered(); n == 0 && took > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Recovered said nothing of the start-up in 10 s")
		}
	}
}
