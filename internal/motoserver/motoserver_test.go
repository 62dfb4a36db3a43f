package motoserver_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/motoserver"
)

func TestStartStop(t *testing.T) {
	var endpoint string
	t.Run("start", func(t *testing.T) {
		endpoint = motoserver.Start(t)
		if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
			t.Fatalf("endpoint = %q, want http://127.0.0.1:PORT", endpoint)
		}
		resp, err := http.Get(endpoint + "/moto-api/data.json")
		if err != nil {
			t.Fatalf("GET moto-api: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET moto-api: %s", resp.Status)
		}
		if err := motoserver.Reset(t.Context(), endpoint); err != nil {
			t.Fatalf("Reset: %v", err)
		}
	})
	if endpoint == "" {
		t.Skip("moto_server did not start")
	}
	// The cleanup of the subtest stopped the server.
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after the test ended", endpoint)
	}
}

func TestSkipWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	var sub *testing.T
	t.Run("start", func(t *testing.T) {
		sub = t
		motoserver.Start(t)
		t.Error("Start returned without moto_server on PATH")
	})
	if !sub.Skipped() {
		t.Fatal("Start without moto_server did not skip the test")
	}
}
