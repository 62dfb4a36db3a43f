package sfnapi

import "slices"

// Operations returns the names of the operations h serves, sorted.
func Operations(h *Handler) []string {
	names := make([]string, 0, len(h.ops))
	for name := range h.ops {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
