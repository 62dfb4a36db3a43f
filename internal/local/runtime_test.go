package local

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/testtool"
)

// A Config without a data directory is refused before anything is made.
func TestNewRequiresDataDir(t *testing.T) {
	rt, err := New(context.Background(), Config{Addr: "127.0.0.1:0", Logger: quietLogger()})
	if err == nil {
		rt.Shutdown(context.Background())
		t.Fatal("New without a data directory succeeded")
	}
	if !strings.Contains(err.Error(), "a data directory is required") {
		t.Errorf("New without a data directory: %v; want it to say a data directory is required", err)
	}
}

// An empty Config.Addr is serve's default address, 127.0.0.1:8080: the
// runtime listens there, or says it cannot.
func TestNewDefaultAddr(t *testing.T) {
	rt, err := New(context.Background(), Config{DataDir: t.TempDir(), Logger: quietLogger()})
	if err != nil {
		if !strings.Contains(err.Error(), "127.0.0.1:8080") {
			t.Fatalf("New with the default address: %v; want a runtime on 127.0.0.1:8080, or an error naming it", err)
		}
		return
	}
	defer rt.Shutdown(context.Background())
	if got := rt.Addr().String(); got != "127.0.0.1:8080" || rt.URL() != "http://127.0.0.1:8080" {
		t.Errorf("the default address: %s, URL %s; want 127.0.0.1:8080", got, rt.URL())
	}
}

// anyAddrListener is a listener on loopback that reports the unspecified
// address of a listener on every interface.
type anyAddrListener struct{ net.Listener }

func (l anyAddrListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4zero, Port: l.Listener.Addr().(*net.TCPAddr).Port}
}

// A runtime listening on every interface (0.0.0.0) gives its URL with
// the loopback address, which its clients and the start function's sfn
// client can dial; urlHost does that for IPv4 and IPv6 and leaves other
// addresses alone.
func TestURLOfUnspecifiedAddress(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "127.0.0.1:9"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9}, "[::1]:9"},
		{&net.UnixAddr{Name: "/run/stepmon.sock", Net: "unix"}, "/run/stepmon.sock"},
	} {
		if got := urlHost(tt.addr); got != tt.want {
			t.Errorf("urlHost(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rt := newTestRuntimeWith(t, Config{Listener: anyAddrListener{l}})
	if want := "http://" + l.Addr().String(); rt.URL() != want {
		t.Errorf("URL() = %s, want %s", rt.URL(), want)
	}
	// The start function reaches the engine through that URL's client.
	body := `{"instanceId":"anyaddr","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
}

// A second runtime on a data directory in use is refused with an error
// that says why and what to do.
func TestDataDirectoryInUseMessage(t *testing.T) {
	dir := t.TempDir()
	newTestRuntimeWith(t, Config{DataDir: dir})
	rt, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: quietLogger()})
	if err == nil {
		rt.Shutdown(context.Background())
		t.Fatal("a second runtime on the same data directory started")
	}
	for _, want := range []string{dir, "is used by another stepmon runtime", "stop it or choose another directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the second runtime's error %q does not say %q", err, want)
		}
	}
}

// A restart with another definition (serve --definition) replaces the
// state machine's definition and keeps its role, and logs that; a monitor
// running at the restart keeps the revision it started with.
func TestRestartWithNewDefinition(t *testing.T) {
	dir := t.TempDir()
	rt := newTestRuntimeWith(t, Config{DataDir: dir})
	smArn := rt.StateMachineArn()
	const role = "arn:aws:iam::000000000000:role/kept"
	wantStatus(t, sfnCall(t, rt.URL(), "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`","roleArn":"`+role+`"}`), http.StatusOK, "role update")
	body := `{"instanceId":"across","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	var def map[string]any
	if err := json.Unmarshal([]byte(stepmon.Definition), &def); err != nil {
		t.Fatal(err)
	}
	def["Comment"] = "the definition of the second run"
	changed, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	var log testtool.SyncBuffer
	rt = newTestRuntimeWith(t, Config{DataDir: dir, Definition: string(changed), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	// The log says what the update means for the monitors: it said only
	// "state machine definition updated".
	if want := "running monitors keep the definition they started with"; !strings.Contains(log.String(), want) {
		t.Errorf("the restart's log does not say %q:\n%s", want, log.String())
	}

	var sm struct{ Definition, RoleArn string }
	if err := json.Unmarshal(sfnCall(t, rt.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`"}`).body, &sm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sm.Definition, "the second run") || sm.RoleArn != role {
		t.Errorf("the state machine after the restart: role %q, definition %.200s; want role %s and the new definition", sm.RoleArn, sm.Definition, role)
	}
	var list struct {
		Executions []struct{ ExecutionArn string }
	}
	if err := json.Unmarshal(sfnCall(t, rt.URL(), "ListExecutions", `{"stateMachineArn":"`+smArn+`"}`).body, &list); err != nil || len(list.Executions) != 1 {
		t.Fatalf("ListExecutions: %+v, %v; want the one monitor's execution", list, err)
	}
	var forExec struct{ Definition string }
	a := sfnCall(t, rt.URL(), "DescribeStateMachineForExecution", `{"executionArn":"`+list.Executions[0].ExecutionArn+`"}`)
	if err := json.Unmarshal(a.body, &forExec); err != nil || forExec.Definition == "" || strings.Contains(forExec.Definition, "the second run") {
		t.Errorf("the running monitor's definition after the restart (%v): %.200s; want the one it started with", err, forExec.Definition)
	}
}

// failingListener is a listener whose Accept fails for good.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) {
	return nil, errors.New("accept: the socket is gone")
}

// A runtime whose listener fails stops as at a graceful stop, the data
// directory unlocked for the next one, and Serve says why. Serve returned
// with the runtime still running: the executions Recover re-armed went on
// until the process ended, cut off as by a crash, and the directory stayed
// locked.
func TestServeFailureShutsDown(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rt, err := New(context.Background(), Config{DataDir: dir, Listener: failingListener{l}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "the socket is gone") {
			t.Fatalf("Serve = %v, want the listener's failure", err)
		}
	case <-time.After(30 * time.Second):
		rt.Shutdown(context.Background())
		t.Fatal("Serve still runs after its listener failed")
	}
	select {
	case <-rt.done:
	default:
		t.Fatal("Serve returned its failure with the runtime still running")
	}
	next, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("the next runtime on the data directory: %v", err)
	}
	next.Shutdown(context.Background())
}
