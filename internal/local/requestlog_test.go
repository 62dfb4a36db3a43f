package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// At --log-level debug serve logs each API request and each step of a
// monitor's execution (its check and alert tasks, its timers, its end),
// and none of the monitor's secrets: a header's value, the webhook URL's
// path and query. At info it logs none of that.
func TestDebugLog(t *testing.T) {
	const secret = "s3cr3t"
	var checks atomic.Int32
	job := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := "Running"
		if checks.Add(1) > 1 {
			status = "Completed"
		}
		fmt.Fprintf(w, `{"status":%q}`, status)
	}))
	defer job.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	body := fmt.Sprintf(`{"instanceId":"dbg","target":{"type":"http","url":%q,"headers":{"Authorization":"Bearer %s"}},
		"alert":{"webhookUrl":%q},"pollingIntervalSeconds":1,"timeoutSeconds":60}`,
		job.URL+"/jobs/1?key="+secret, secret, hook.URL+"/services/"+secret+"?token="+secret)

	tests := []struct {
		level slog.Level
		want  []string // in the log
		none  []string // not in the log
	}{
		{slog.LevelDebug, []string{
			`level=DEBUG msg="http: request" component=http method=POST path=/monitors status=202 took=`,
			`level=DEBUG msg="http: request" component=http method=GET path=/monitors/dbg status=200 took=`,
			`level=DEBUG msg="engine: execution runs" component=engine execution=arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:dbg`,
			`msg="engine: task" component=engine execution=arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:dbg`,
			` state=Check resource=arn:aws:states:::lambda:invoke function=arn:aws:lambda:us-east-1:000000000000:function:stepmon-check took=`,
			` state=Alert resource=arn:aws:states:::lambda:invoke function=arn:aws:lambda:us-east-1:000000000000:function:stepmon-alert took=`,
			`msg="engine: timer armed" component=engine execution=arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:dbg`,
			` state=Wait phase=wait due=`,
			`msg="engine: execution ended" component=engine execution=arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:dbg status=SUCCEEDED ran=`,
			`level=DEBUG msg="retention: swept" component=runtime statusRecords=0 executions=0 outboxLines=0 before=`,
		}, []string{secret}},
		{slog.LevelInfo, nil, []string{"level=DEBUG", secret}},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			checks.Store(0)
			logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
			if err != nil {
				t.Fatal(err)
			}
			defer logs.Close()
			ctx := context.Background()
			rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: tt.level}))})
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- rt.Serve(ctx) }()
			shutdown := sync.OnceFunc(func() {
				rt.Shutdown(ctx)
				<-errc
			})
			defer shutdown()
			waitHealthy(t, rt.URL())
			wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
			rec := waitFinal(t, rt.URL()+"/monitors/dbg", 30*time.Second)
			arn, _ := rec["executionArn"].(string)
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if _, err := rt.engine.Wait(wctx, arn); err != nil {
				t.Fatalf("the execution did not end: %v", err)
			}
			shutdown() // every line written: a request's is after its answer
			b, err := os.ReadFile(logs.Name())
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("the log lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tt.none {
				if strings.Contains(text, s) {
					t.Errorf("the log has %q:\n%s", s, text)
				}
			}
		})
	}
}

// BenchmarkLogRequests measures what logRequests adds to a request: at
// Info a level check ("info" against "none"), at Debug a line.
func BenchmarkLogRequests(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, bc := range []struct {
		name    string
		handler http.Handler
	}{
		{"none", h},
		{"info", logRequests(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})), h)},
		{"debug", logRequests(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})), h)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/monitors/m-1", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.handler.ServeHTTP(w, req)
			}
		})
	}
}

// The request log records the status the client got: 200 for an answer
// that wrote nothing or only a body, the final status after an
// informational one, the first of two WriteHeader calls; and the time
// taken to the microsecond.
func TestLogRequestsStatus(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    int
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, http.StatusOK},
		{"a body only", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, http.StatusOK},
		{"after 103 Early Hints", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, http.StatusNoContent},
		{"a second WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusNotFound},
		{"a body, then WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h := logRequests(log, tt.handler)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/monitors?secret=x", nil))
			var rec struct {
				Msg    string `json:"msg"`
				Path   string `json:"path"`
				Status int    `json:"status"`
				Took   int64  `json:"took"` // nanoseconds
			}
			if err := json.Unmarshal([]byte(logs.String()), &rec); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if rec.Msg != "http: request" || rec.Path != "/monitors" || rec.Status != tt.want {
				t.Errorf("logged %+v, want path /monitors and status %d", rec, tt.want)
			}
			if rec.Took%int64(time.Microsecond) != 0 {
				t.Errorf("took %d ns, want it rounded to the microsecond", rec.Took)
			}
		})
	}
}
