# stepmon: one entry point for building and testing.
#   make test       everything CI runs (gofmt, vet, staticcheck, unit, conformance,
#                   stores on moto, handlers, infra, the race detector on the
#                   concurrent packages)
#   make test-go    the root module's tests alone
#   make test-race  the concurrent packages (RACE_PKGS) under the race detector
#   make test-infra the CDK app's checks and tests (infra/Makefile)
#   make check      gofmt, vet, staticcheck, race tests of the root module
#   make cross      build the CLI, and vet every package, for Windows and macOS
#   make lambdas    the four Lambda bootstraps for linux/arm64 into bin/
#   make synth      the CloudFormation template (infra/cdk.out)
#   make golden     rewrite testdata/golden (statemachine.asl.json's histories)
#                   from the engine; make test compares them with moto's too
#   make bench      every Go benchmark (docs/benchmarks.md has the others)
#   make demo       go run ./cmd/stepmon demo
#   make serve      go run ./cmd/stepmon serve
#   make clean      remove bin/ and infra's build output
#   make help       this list

GO        ?= go
PKGS      := ./...
LAMBDAS   := start check alert status
STATICCHECK_VERSION := v0.7.0
# The packages whose goroutines share state: make test runs them under the
# race detector too (about 3.5-4 minutes on 2 cores, internal/local the
# longest); make check runs all.
RACE_PKGS := ./internal/engine ./internal/gopool ./internal/local ./internal/lambdainvoke ./internal/sfnapi ./internal/sqlitestore

.PHONY: all help test test-go test-race test-infra golden check fmt-check vet cross staticcheck lambdas synth demo serve bench clean

all: check lambdas

help:
	@sed -n '2,/^$$/s/^#//p' Makefile

test: fmt-check vet staticcheck cross test-go test-race lambdas test-infra

test-go:
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

test-infra:
	$(MAKE) -C infra deps test

golden:
	$(GO) test -count=1 -run '^TestGolden' . -update

check: fmt-check vet staticcheck
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^infra/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# The command builds for the systems developers run it on, not only this one.
cross:
	@for p in windows/amd64 darwin/arm64; do \
		echo "build ./cmd/stepmon and vet every package, tests too, for $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/stepmon || exit 1; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet $(PKGS) || exit 1; \
	done

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# The same build as infra/lambdabuild.go's BuildLambdas (its FunctionNames,
# flags and environment), so that bin/ holds the bytes cdk deploy ships;
# lambdabuild_test.go keeps the two equal.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid='

lambdas:
	@for f in $(LAMBDAS); do \
		echo "build lambdas/$$f -> bin/$$f/bootstrap"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./lambdas/$$f || exit 1; \
	done

synth:
	$(MAKE) -C infra synth

demo:
	$(GO) run ./cmd/stepmon demo

serve:
	$(GO) run ./cmd/stepmon serve

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin infra/cdk.out
