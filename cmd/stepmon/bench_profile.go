package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// benchProfile records the CPU, block and mutex profiles of a benchmark's
// measurement window.
type benchProfile struct {
	dir string
	cpu *os.File
}

// startBenchProfile starts the CPU profile and turns on block and mutex
// profiling.
func startBenchProfile(dir string) (*benchProfile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	runtime.SetBlockProfileRate(10_000) // one sample per 10 µs blocked
	runtime.SetMutexProfileFraction(10)
	return &benchProfile{dir: dir, cpu: f}, nil
}

// stop writes cpu.pprof, block.pprof, mutex.pprof, goroutine.pprof and
// allocs.pprof (every allocation since the start of the process, sampled:
// go tool pprof -sample_index=alloc_space).
func (p *benchProfile) stop() error {
	pprof.StopCPUProfile()
	errs := []error{p.cpu.Close()}
	for _, name := range []string{"block", "mutex", "goroutine", "allocs"} {
		f, err := os.Create(filepath.Join(p.dir, name+".pprof"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, pprof.Lookup(name).WriteTo(f, 0), f.Close())
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	return nil
}
