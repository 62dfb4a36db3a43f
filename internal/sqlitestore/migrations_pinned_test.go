package sqlitestore

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// shippedSteps pins each migration step that has shipped by the SHA-256
// of its text. A data directory already past a step never runs it again,
// so a step edited in place reaches new directories only, and the two
// kinds of directory then differ without an error: edits are refused
// here. A new step is appended to its schema's list in the code and its
// hash to this table (the test's failure prints it), in the same change.
var shippedSteps = map[string][]string{
	"engine": {
		"747c5ec974fcc0c678dddf03b1f6f07583b08dea913209fd037ca34ab88df42c",
		"8df82e87a2cf29401608de0ac2fb7ebe55c0644baa523c214d8df6b062c44670",
		"6433a091dff9f4b199b43de5d42cea38e976d346bff2428d12f4bdce6a054584",
		"94cf3adbcbf0e7880c5c84ead66304a55d98f02d9cf9f339f2dacb314391f407",
		"3342f03af4ea5ee1ab2a849198aa959876117571a9f68cab9ca6a06e55399dc3",
		"b1e4f754078b886e815c661bd02df5215bbacf522c137f85059117383eff4dab",
		"8ec17ef96cbe5bc8d498691d2aea4f65a570774cb8c9bb975ca467d217f1abdd",
		"1b3af5f889b4e016449cf5885cca0bbba779bfd956bab7709f98c2eadc0e65df",
		"41be975ba666abe429389c78be37e00ce09895d90b0c9090a669a220f23dd61a",
		"17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a",
	},
	"monitor": {
		"2e5507956b3e4a440597acb8cb9b72e53c8867c313712190d05a1bf9fb56aeb2",
		"9732c871e2f34b790909c8857753a37a06aa10ec35a0016d7c2e68dd51d68d86",
	},
}

// TestShippedMigrationsUnchanged holds the rule of docs/development.md's
// migration recipe: a step that has shipped is never edited, removed or
// reordered, and every step is pinned.
func TestShippedMigrationsUnchanged(t *testing.T) {
	registered := map[string]bool{}
	for _, s := range schemas {
		registered[s.name] = true
		pinned, ok := shippedSteps[s.name]
		if !ok {
			t.Errorf("schema %q is not in shippedSteps: add it with its steps' hashes", s.name)
		}
		for i, step := range s.steps {
			sum := sha256.Sum256([]byte(step))
			got := hex.EncodeToString(sum[:])
			switch {
			case i >= len(pinned):
				t.Errorf("schema %q step %d is not pinned: once it is final, add %q to shippedSteps[%q]", s.name, i+1, got, s.name)
			case got != pinned[i]:
				t.Errorf("schema %q step %d differs from the step that shipped (sha256 %s, pinned %s): "+
					"directories already at version %d never run it again; append a new step instead", s.name, i+1, got, pinned[i], i+1)
			}
		}
		if len(s.steps) < len(pinned) {
			t.Errorf("schema %q has %d steps, %d shipped: a shipped step was removed", s.name, len(s.steps), len(pinned))
		}
	}
	for name := range shippedSteps {
		if !registered[name] {
			t.Errorf("schema %q is pinned but no longer registered", name)
		}
	}
}
