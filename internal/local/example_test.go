package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/local"
)

// The whole service on a free loopback port: start a monitor of the
// simulated job over HTTP, as curl would, and read its status until it
// finishes.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "stepmon-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	rt, err := local.New(ctx, local.Config{
		Addr:    "127.0.0.1:0",
		DataDir: dir,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan error, 1)
	go func() { served <- rt.Serve(ctx) }()
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = rt.Shutdown(sctx)
		<-served
	}()

	resp, err := http.Post(rt.URL()+"/monitors", "application/json", strings.NewReader(`{
		"instanceId": "nightly-build",
		"target": {"type": "simulated", "completeAfterChecks": 2},
		"pollingIntervalSeconds": 1
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location") == rt.URL()+"/monitors/nightly-build")

	var status struct {
		RuntimeStatus string `json:"runtimeStatus"`
		Output        struct {
			FinalStatus     string `json:"final_status"`
			ChecksPerformed int    `json:"checks_performed"`
		} `json:"output"`
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(rt.URL() + "/monitors/nightly-build")
		if err != nil {
			fmt.Println(err)
			return
		}
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		if status.RuntimeStatus != "Running" && status.RuntimeStatus != "Pending" {
			break
		}
	}
	fmt.Println(status.RuntimeStatus, status.Output.FinalStatus, status.Output.ChecksPerformed)
	// Output:
	// 202 true
	// Completed Completed 2
}
