# astcti — build, test and demo targets. Everything CI runs is under `test`.
GO       ?= go
PKGS     := ./...
FUZZTIME ?= 30s
BIN      := bin

.PHONY: all build test check race unit demo bench fuzz lint clean

all: build

## build: compile every binary into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: what CI runs: formatting, vet, staticcheck and every test with the race detector
test: check race

## check: gofmt, go vet and staticcheck
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## lint: go vet + staticcheck
lint: check

## race: every test, shuffled, with the race detector
race:
	$(GO) test -race -shuffle=on -timeout 20m $(PKGS)

## unit: every test without the race detector (quicker, for development)
unit:
	$(GO) test -shuffle=on $(PKGS)

## demo: run the demo (the fake PBX with the demo dialplan, for now)
demo:
	$(GO) run ./cmd/fakeami --listen 127.0.0.1:5038 --user astcti --secret astcti --dialect modern --control 127.0.0.1:5080

## bench: benchmarks, 6 rounds each, for benchstat
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (not part of CI)
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN) dist
