package local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/testtool"
)

// Every line of the runtime's logger names one component: its logger's,
// the record's own, or "runtime" when neither names one.
func TestComponentDefault(t *testing.T) {
	var out bytes.Buffer
	base := withComponentDefault(slog.New(slog.NewJSONHandler(&out, nil)), "runtime")
	for _, tt := range []struct {
		name string
		log  func()
		want string // the line's component, as JSON
	}{
		{"none", func() { base.Info("x") }, `"component":"runtime"`},
		{"the logger's", func() { base.With("component", "api").Info("x") }, `"component":"api"`},
		{"the logger's, after other attributes", func() { base.With("a", 1).With("component", "api").Info("x") }, `"component":"api"`},
		{"the record's", func() { base.Info("x", "component", "engine") }, `"component":"engine"`},
		{"before a group", func() { base.WithGroup("g").Info("x", "k", "v") }, `"component":"runtime","g":{"k":"v"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out.Reset()
			tt.log()
			line := strings.TrimSpace(out.String())
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if !strings.Contains(line, tt.want) || strings.Count(line, `"component"`) != 1 {
				t.Errorf("logged %s, want one component: %s", line, tt.want)
			}
		})
	}
}

// A runtime's lines name their component, the API proxy's among them:
// a body over Lambda's invoke limit, answered 502 without the function,
// logged with none before.
func TestRuntimeLinesNameTheirComponent(t *testing.T) {
	logs := &testtool.SyncBuffer{}
	rt := newTestRuntimeWith(t, Config{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	resp, err := http.Post(rt.URL()+"/monitors", "application/json", bytes.NewReader(bytes.Repeat([]byte{1}, maxInvokePayload/5)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("HTTP %d, want 502", resp.StatusCode)
	}
	seen := false
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if rec["component"] == nil {
			t.Errorf("a line without a component: %s", line)
		}
		if strings.Contains(fmt.Sprint(rec["msg"]), "6 MiB invoke limit") {
			seen = true
			if rec["component"] != "api" {
				t.Errorf("the proxy's line names component %v, want api: %s", rec["component"], line)
			}
		}
	}
	if !seen {
		t.Errorf("no line about the invoke limit in:\n%s", logs.String())
	}
}
