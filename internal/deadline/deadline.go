package deadline

import (
	"context"
	"time"
)

// Reserve returns ctx with its deadline moved reserve earlier, or halfway
// to it when less than twice reserve is left, so that the caller keeps
// that time for what must follow. A ctx without a deadline keeps none.
func Reserve(ctx context.Context, reserve time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-kept(reserve, time.Until(deadline))))
}

// Detached returns the context of a clean-up after work under ctx: it is
// not cancelled with ctx, it ends keep before ctx's deadline (or halfway
// to it, when less than twice keep is left), so that an answer can still
// go out, and limit from now at the latest, the bound when ctx has no
// deadline.
func Detached(ctx context.Context, keep, limit time.Duration) (context.Context, context.CancelFunc) {
	end := time.Now().Add(limit)
	if deadline, ok := ctx.Deadline(); ok {
		if d := deadline.Add(-kept(keep, time.Until(deadline))); d.Before(end) {
			end = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}

// kept is how much of left to keep back for reserve: reserve, or half of
// left when less than twice reserve is left, and nothing once the
// deadline has passed (a reserve must never move a deadline later).
func kept(reserve, left time.Duration) time.Duration {
	return max(0, min(reserve, left/2))
}
