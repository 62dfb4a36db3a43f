package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stepmon/stepmon/internal/testtool"
)

// Region is the region Config uses; moto accepts any.
const Region = "us-east-1"

// AccountID is the account moto reports in ARNs.
const AccountID = "123456789012"

// StartTimeout bounds how long Start waits for the server to answer.
const StartTimeout = 30 * time.Second

// Start starts moto_server on a free loopback port and returns its
// endpoint ("http://127.0.0.1:PORT"). The server is stopped by t.Cleanup.
// Start skips the test when moto_server is not on PATH, or fails it when
// the environment has CI=true (see testtool.Require).
//
// infra/smoke_test.go's startMoto is a copy (the infra module cannot
// import this one): a fix to one belongs in both.
func Start(t testing.TB) string {
	t.Helper()
	bin := testtool.Require(t, "moto_server", `install it with: pip install "moto[server]"`)
	// Another process may take the port between Close and moto binding
	// it; retry on a fresh port when the server dies early.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("motoserver: free port: %v", err)
		}
		endpoint, stop, err := start(bin, port)
		if err == nil {
			t.Cleanup(stop)
			return endpoint
		}
		lastErr = err
	}
	t.Fatalf("motoserver: %v", lastErr)
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs moto_server on port and waits until it answers.
func start(bin string, port int) (endpoint string, stop func(), err error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = sysProcAttr()
	// Fake credentials keep moto (and anything it spawns) away from real
	// ones. MOTO_PORT is where moto's own clients reach it: its Step Functions
	// interpreter calls Lambda and Step Functions there.
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+Region,
		"MOTO_PORT="+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	// The process group: moto may run helpers.
	stop = func() { testtool.StopGroup(cmd.Process.Pid, exited, 5*time.Second) }
	endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return "", nil, fmt.Errorf("moto_server on port %d exited early:\n%s", port, out.String())
		case <-ctx.Done():
			stop()
			return "", nil, fmt.Errorf("moto_server on port %d did not answer within %v:\n%s", port, StartTimeout, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint, stop, nil
			}
		}
	}
}

// Config returns an aws.Config for clients of the server at endpoint:
// static fake credentials, Region, the endpoint as every service's base
// endpoint, and few retries so that tests fail fast.
//
// Its HTTP client sends one request at a time. moto's backends take no
// lock, so two concurrent conditional writes can both pass their
// condition there (DynamoDB itself applies each atomically); serialising
// the requests keeps concurrency tests about the caller's logic instead of
// moto's races. The goroutines of such a test still interleave freely
// between requests.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 2,
		HTTPClient:       &http.Client{Transport: &serialTransport{base: http.DefaultTransport}},
	}
}

// serialTransport lets one request at a time reach the server: the next
// one starts when the previous response's headers have arrived, by which
// time moto has applied the request.
type serialTransport struct {
	mu   sync.Mutex
	base http.RoundTripper
}

func (t *serialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.base.RoundTrip(req)
}

// Reset clears every service's state in the server at endpoint, for tests
// that share one server.
func Reset(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("motoserver: reset: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("motoserver: reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("motoserver: reset: " + resp.Status)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for the process's output goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil // enough to diagnose a failed start
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
