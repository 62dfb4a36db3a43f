package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

func ExampleNew() {
	ctx := context.Background()
	store := memstore.New()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = store.Create(ctx, monitor.Record{InstanceID: "job-42", RuntimeStatus: monitor.RuntimePending, CreatedTime: now})

	_, claimed, _ := store.ClaimAlert(ctx, "job-42", now, monitor.ChannelSNS, now)
	_, again, _ := store.ClaimAlert(ctx, "job-42", now, monitor.ChannelSNS, now)
	fmt.Println(claimed, again)
	// Output: true false
}
