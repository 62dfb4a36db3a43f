package local

import (
	"context"
	"log/slog"
	"slices"
)

// componentDefault is a handler that names a record's component when
// neither its logger (With) nor the record itself does: every line the
// runtime logs names one (docs/local.md), also one a new part of it logs
// through the base logger without adding its own.
type componentDefault struct {
	next  slog.Handler
	named bool   // a With gave "component"
	def   string // the component of records without one
}

// withComponentDefault returns l, whose records without a component name
// def.
func withComponentDefault(l *slog.Logger, def string) *slog.Logger {
	return slog.New(componentDefault{next: l.Handler(), def: def})
}

func (h componentDefault) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h componentDefault) Handle(ctx context.Context, r slog.Record) error {
	if !h.named {
		own := false
		r.Attrs(func(a slog.Attr) bool {
			own = a.Key == "component"
			return !own
		})
		if !own {
			r = r.Clone()
			r.AddAttrs(slog.String("component", h.def))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h componentDefault) WithAttrs(attrs []slog.Attr) slog.Handler {
	named := h.named || slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == "component" })
	return componentDefault{next: h.next.WithAttrs(attrs), named: named, def: h.def}
}

// WithGroup names the component before the group opens: added to a
// record later, it would be a member of the group.
func (h componentDefault) WithGroup(name string) slog.Handler {
	next := h.next
	if !h.named {
		next = next.WithAttrs([]slog.Attr{slog.String("component", h.def)})
	}
	return componentDefault{next: next.WithGroup(name), named: true, def: h.def}
}
