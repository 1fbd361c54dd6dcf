# gavel — make targets. `make test` is what CI runs.
GO       ?= go
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test lint bench bench-compare demo fuzz screenshots clean

build: ## build bin/gavel
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/gavel ./cmd/gavel

test: ## the whole test suite, with the race detector
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd examples/tracing/faqbot && $(GO) vet ./...
	cd examples/gotest && $(GO) vet ./...
	$(GO) run $(STATICCHECK) $(PKGS)

bench: ## Go benchmarks (see docs/BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x $(PKGS)

bench-compare: ## side-by-side figures and goals: runner, score vs DuckDB, startup, HTML report (see docs/BENCHMARKS.md)
	$(GO) build -o bin/gavel ./cmd/gavel && $(GO) run ./scripts/bench -gavel bin/gavel

demo: build ## run the shipped offline example; prints where the run is
	./bin/gavel run examples/arithmetic/gavel.yaml

screenshots: ## regenerate the screenshots of the HTML report in docs/img (needs Chromium)
	GAVEL_REQUIRE_BROWSER=1 $(GO) test -count=1 -run TestScreenshots ./internal/browsertest/ -args -screenshots=$(CURDIR)/docs/img

fuzz: ## short fuzz runs of every parser of outside input
	$(GO) test -run '^$$' -fuzz FuzzJSONL -fuzztime 40000x ./datasets/
	$(GO) test -run '^$$' -fuzz FuzzCSV -fuzztime 40000x ./datasets/
	$(GO) test -run '^$$' -fuzz FuzzParseSpec -fuzztime 40000x ./eval/
	$(GO) test -run '^$$' -fuzz FuzzPromptFile -fuzztime 10000x ./eval/
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 10000x ./prompts/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 10000x ./otlp/
	$(GO) test -run '^$$' -fuzz FuzzExtractNumber -fuzztime 40000x ./judges/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20000x ./internal/yamlstrict/
	$(GO) test -run '^$$' -fuzz FuzzAppend -fuzztime 40000x ./internal/canonjson/

clean:
	rm -rf bin runs
