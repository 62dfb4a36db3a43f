package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FunctionNames are the Lambda functions of the stack, each built from
// lambdas/<name> in the root module.
var FunctionNames = []string{"start", "check", "alert", "status"}

// BuildLambdas cross-compiles every function in FunctionNames from repoRoot
// for provided.al2023 on arm64 and returns, per name, a directory under outDir
// that holds only the executable "bootstrap", ready for Code_FromAsset.
//
// The build is reproducible (-trimpath, no VCS stamp, empty build id), so an
// unchanged function keeps its asset hash and is not redeployed. One go
// command builds all four, sharing the module graph and the build cache.
func BuildLambdas(ctx context.Context, goCmd, repoRoot, outDir string) (map[string]string, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return nil, fmt.Errorf("infra: build lambdas: %w", err)
	}
	binDir := filepath.Join(outDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("infra: build lambdas: %w", err)
	}
	args := []string{"build", "-o", binDir + string(filepath.Separator),
		"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}
	for _, name := range FunctionNames {
		args = append(args, "./lambdas/"+name)
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("infra: build lambdas in %s: %s: %w\n%s", root, strings.Join(cmd.Args, " "), err, stderr.String())
	}

	dirs := make(map[string]string, len(FunctionNames))
	for _, name := range FunctionNames {
		dir := filepath.Join(outDir, name)
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("infra: build lambda %s: %w", name, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("infra: build lambda %s: %w", name, err)
		}
		if err := os.Rename(filepath.Join(binDir, name), filepath.Join(dir, "bootstrap")); err != nil {
			return nil, fmt.Errorf("infra: build lambda %s: %w", name, err)
		}
		dirs[name] = dir
	}
	if err := os.RemoveAll(binDir); err != nil {
		return nil, fmt.Errorf("infra: build lambdas: %w", err)
	}
	return dirs, nil
}
