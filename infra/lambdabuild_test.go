package main

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestBuildLambdas: the output directory holds a directory for each
// function with one file, bootstrap: the function's main package built
// for Lambda's provided.al2023 on arm64, a static Linux arm64 executable
// without the RPC mode of aws-lambda-go (lambda.norpc) or a symbol table,
// reproducible (-trimpath, no VCS stamp).
func TestBuildLambdas(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	// The output directory holds the four function directories only.
	out := filepath.Dir(codeDirs[FunctionNames[0]])
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := slices.Sorted(slices.Values(FunctionNames)); !slices.Equal(names, want) {
		t.Errorf("%s holds %v, want %v", out, names, want)
	}
	for _, name := range FunctionNames {
		t.Run(name, func(t *testing.T) {
			dir := codeDirs[name]
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "bootstrap" {
				t.Fatalf("%s holds %v, want bootstrap only", dir, entries)
			}
			path := filepath.Join(dir, "bootstrap")
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 {
				t.Errorf("machine %v, want %v", f.Machine, elf.EM_AARCH64)
			}
			if f.Section(".interp") != nil {
				t.Error("has an ELF interpreter, want a static executable")
			}
			if f.Section(".symtab") != nil {
				t.Error("has a symbol table, want it stripped (-ldflags=-s)")
			}
			info, err := buildinfo.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := "github.com/stepmon/stepmon/lambdas/" + name; info.Path != want {
				t.Errorf("main package %s, want %s", info.Path, want)
			}
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			for key, want := range map[string]string{
				"GOOS":        "linux",
				"GOARCH":      "arm64",
				"CGO_ENABLED": "0",
				"-tags":       "lambda.norpc",
				"-trimpath":   "true",
				"vcs":         "",
			} {
				if got := settings[key]; got != want {
					t.Errorf("build setting %s = %q, want %q", key, got, want)
				}
			}
		})
	}
}
