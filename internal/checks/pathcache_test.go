package checks

import (
	"fmt"
	"sync"
	"testing"
)

func TestPathCache(t *testing.T) {
	var c pathCache
	a, err := c.parse("$.status")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.parse("$.status"); b != a {
		t.Error("a second parse of $.status returned another path")
	}
	if _, err := c.parse("$["); err == nil {
		t.Error(`parse("$[") succeeded`)
	}
	if _, ok := c.paths["$["]; ok {
		t.Error("an invalid path was cached")
	}
	for i := range maxCachedPaths + 10 {
		if _, err := c.parse(fmt.Sprintf("$.s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.paths) != maxCachedPaths {
		t.Errorf("%d cached paths, want the bound %d", len(c.paths), maxCachedPaths)
	}
	// One parsed path serves concurrent checks (go test -race).
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if got := a.Select(map[string]any{"status": i}); len(got) != 1 || got[0] != i {
					t.Errorf("Select = %v, want [%d]", got, i)
					return
				}
			}
		}()
	}
	wg.Wait()
}
