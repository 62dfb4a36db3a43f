package asl

import "slices"

// sortedKeys returns the keys of m in ascending order, so that encoded
// objects are deterministic.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
