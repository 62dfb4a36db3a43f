package asl

import "testing"

// monitorState is a monitor's workflow state as the check function
// returns it: the value whose text the engine writes into most history
// events.
const monitorState = `{"check":{"checkCount":8,"conditionMet":false,"done":false,"expired":false,"generationChecks":8,` +
	`"intervalSeconds":1,"nextCheckAt":"2026-12-03T08:55:44Z","nextGeneration":0,"rollover":false,"status":"Running",` +
	`"waitSeconds":1},"expiresAt":"2026-12-04T08:55:35Z","generation":0,"instanceId":"m1","spec":{"jobId":"m1",` +
	`"pollingIntervalSeconds":1,"target":{"doneValues":["Completed"],"failedValues":["Failed"],"method":"GET",` +
	`"requestTimeoutSeconds":10,"statusPath":"$.status","type":"http","url":"http://127.0.0.1:18080/job/m1"},` +
	`"timeoutSeconds":86400},"startedAt":"2026-12-03T08:55:35.85142763Z"}`

func BenchmarkText(b *testing.B) {
	v, err := ParseJSON([]byte(monitorState))
	if err != nil {
		b.Fatal(err)
	}
	if got := Text(v); got != monitorState {
		b.Fatalf("Text = %s\nwant %s", got, monitorState)
	}
	b.SetBytes(int64(len(monitorState)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Text(v)
	}
}

// BenchmarkParseJSON parses a monitor's state, as the engine parses the
// check function's result at every check.
func BenchmarkParseJSON(b *testing.B) {
	b.SetBytes(int64(len(monitorState)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJSON([]byte(monitorState)); err != nil {
			b.Fatal(err)
		}
	}
}
