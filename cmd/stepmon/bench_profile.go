package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
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
	p := &benchProfile{dir: dir, cpu: f}
	if err := p.write("allocs-start"); err != nil {
		pprof.StopCPUProfile()
		f.Close()
		return nil, err
	}
	return p, nil
}

// stop writes cpu.pprof, block.pprof, mutex.pprof, goroutine.pprof and
// allocs.pprof: every allocation since the start of the process, sampled.
// The window's own are those since allocs-start.pprof:
// go tool pprof -sample_index=alloc_space -base allocs-start.pprof allocs.pprof.
func (p *benchProfile) stop() error {
	pprof.StopCPUProfile()
	var errs []error
	if err := p.cpu.Close(); err != nil {
		errs = append(errs, fmt.Errorf("bench: profile cpu: %w", err))
	}
	for _, name := range []string{"block", "mutex", "goroutine", "allocs"} {
		errs = append(errs, p.write(name))
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	return errors.Join(errs...)
}

// write writes the named runtime profile to NAME.pprof; "allocs-start" is
// the allocs profile.
func (p *benchProfile) write(name string) error {
	f, err := os.Create(filepath.Join(p.dir, name+".pprof"))
	if err != nil {
		return fmt.Errorf("bench: profile %s: %w", name, err)
	}
	lookup := strings.TrimSuffix(name, "-start")
	if err := pprof.Lookup(lookup).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("bench: profile %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: profile %s: %w", name, err)
	}
	return nil
}

// checkWritableDir makes dir if it is missing and checks that a file can
// be created in it.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".stepmon-write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
