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

// BenchmarkSizeExceeds measures monitor states against the payload limit
// as the engine does in a check: the task's parameters holding the state,
// its result holding the next state (a new value at every check), and the
// next state again as the output of the task, the Choice and the Wait.
// "memo" remembers sizes between the measurements as a thread does.
func BenchmarkSizeExceeds(b *testing.B) {
	states := make([]any, 64)
	for i := range states {
		v, err := ParseJSON([]byte(monitorState))
		if err != nil {
			b.Fatal(err)
		}
		states[i] = v
	}
	check := func(i int, exceeds func(any) bool) {
		state, next := states[i%len(states)], states[(i+1)%len(states)]
		params := map[string]any{"FunctionName": "check", "Payload": map[string]any{"state": state, "executionArn": "arn"}}
		result := map[string]any{"Payload": next, "StatusCode": 200.0, "ExecutedVersion": "$LATEST"}
		for _, v := range []any{params, result, next, next, next} {
			if exceeds(v) {
				b.Fatal("exceeds")
			}
		}
	}
	b.Run("plain", func(b *testing.B) {
		i := 0
		for b.Loop() {
			check(i, func(v any) bool { return sizeExceeds(v, 256*1024) })
			i++
		}
	})
	b.Run("memo", func(b *testing.B) {
		var m SizeMemo
		i := 0
		for b.Loop() {
			check(i, func(v any) bool { return m.Exceeds(v, 256*1024) })
			i++
		}
	})
}
