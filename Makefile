# astcti — build, test and demo targets. Everything CI runs is under `test`.
GO       ?= go
PKGS     := ./...
FUZZTIME ?= 30s
BIN      := bin

# The Go toolchain: go.mod's toolchain line (go1.26.11, which fixes the
# standard library's vulnerabilities that govulncheck finds in go1.26.8)
# when the installed Go is older, the installed one when it is newer. The
# go command fetches it from the module proxy once (about 76 MB).
# GOTOOLCHAIN=local keeps the installed Go whatever its version.
GOTOOLCHAIN ?= auto
export GOTOOLCHAIN

# govulncheck's database: by default the copy of golang.org/x/vulndb pinned
# here, fetched through the module proxy (reproducible, and it works where
# vuln.go.dev cannot be reached); VULNDB=https://vuln.go.dev for the newest.
VULNDB_MODULE ?= golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018

# The build's version and commit, printed by every binary's --version and
# shown by the server's /healthz and astcti_build_info (cti/buildinfo).
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS  := -X github.com/astcti/astcti/cti/buildinfo.version=$(VERSION) -X github.com/astcti/astcti/cti/buildinfo.commit=$(COMMIT)

.PHONY: all build test check race unit demo bench bench-hub bench-compare fuzz lint vulncheck clean test-asterisk soak

all: build

## build: compile every binary into ./bin, stamped with VERSION and COMMIT from git
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

## test: what CI runs: formatting, vet, staticcheck and every test with the race detector
test: check race

## check: gofmt, go vet and staticcheck
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## lint: gofmt, go vet, staticcheck and govulncheck (known vulnerabilities
## in the code the binaries call, of the modules and of the standard library)
lint: check vulncheck

## vulncheck: govulncheck against VULNDB (default: the pinned VULNDB_MODULE)
vulncheck:
	@db="$(VULNDB)"; \
	if [ -z "$$db" ]; then \
	  dir=$$($(GO) mod download -json $(VULNDB_MODULE) | sed -n 's/^.*"Dir": "\(.*\)",*$$/\1/p'); \
	  if [ -z "$$dir" ]; then echo "vulncheck: cannot download $(VULNDB_MODULE)"; exit 1; fi; \
	  db="file://$$dir/data/osv"; \
	fi; \
	echo "govulncheck -db $$db"; \
	$(GO) tool govulncheck -db "$$db" $(PKGS)

## race: every test, shuffled, with the race detector
race:
	$(GO) test -race -shuffle=on -timeout 20m $(PKGS)

## test-asterisk: only the live suite, against the real Asterisk PBXes named by
## ASTCTI_TEST_AMI_22 and/or ASTCTI_TEST_AMI_14 (HOST:PORT; see testdata/realpbx/README.md)
test-asterisk:
	@if [ -z "$$ASTCTI_TEST_AMI_22$$ASTCTI_TEST_AMI_14" ]; then \
	  echo "test-asterisk: set ASTCTI_TEST_AMI_22=HOST:PORT (Asterisk 13 or newer) and/or ASTCTI_TEST_AMI_14=HOST:PORT (Asterisk 1.4); see testdata/realpbx/README.md"; exit 2; fi
	$(GO) test -race -count=1 -timeout 20m -run '^TestAsterisk$$' ./cmd/astcti

## unit: every test without the race detector (quicker, for development)
unit:
	$(GO) test -shuffle=on $(PKGS)

## demo: build every binary into ./bin, then run the demo with no PBX: fake PBX, CTI server,
## simulated seats and traffic, web configurator (Ctrl-C stops)
# Built, then run (rather than `go run`, which exits 1 on Ctrl-C whatever
# the program returns), so that stopping the demo is not reported as an error.
# Every binary, so that the `bin/astcti client ...` command the demo prints
# for the user's own seat runs as shown.
demo:
	@echo "building $(BIN)/ (the first build downloads and compiles the dependencies, about a minute)..."
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...
	exec $(BIN)/astcti-sim

## bench: benchmarks, BENCH_COUNT rounds each, for benchstat. The cti package's
## (the hub's input path, seat fan-out, memory per idle seat) run on one core
## (-cpu 1): their rates are per core (docs/performance.md)
BENCH_COUNT ?= 6
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) $$($(GO) list $(PKGS) | grep -v '/cti$$')
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -cpu 1 -timeout 30m ./cti/

## bench-hub: only the server-side figures of docs/performance.md: the hub's
## input path, the call tracker, seat fan-out, memory per idle seat
bench-hub:
	$(GO) test -run '^$$' -bench 'BenchmarkInputPath|BenchmarkFanOut|BenchmarkIdleSeats' -benchmem -count $(BENCH_COUNT) -cpu 1 -timeout 30m ./cti/
	$(GO) test -run '^$$' -bench 'BenchmarkApply' -benchmem -count $(BENCH_COUNT) -cpu 1 ./cti/calls/

## bench-compare: the AMI parsers side by side (ami.Reader, bare scan, net/textproto,
## npm asterisk-manager in a temporary folder), ROUNDS interleaved rounds on one core;
## needs node and npm (see docs/performance.md)
ROUNDS ?= 10
bench-compare:
	sh loadgen/amibench-node/compare.sh $(ROUNDS)

## soak: SOAK_SEATS seats and SOAK_CPS calls a second for SOAK_DURATION with a
## fault every SOAK_EVERY (AMI link dropped, seat churn, a bad snapshot, a burst
## of connections that never log in, AMI link stalled, PBX restarted), the server
## noticing a stalled link by its AMI Ping every SOAK_AMI_PING; the report in
## soak.json and soak.html (docs/reliability.md, "Soak"). Not part of CI: its
## short version is TestSoakShort in ./loadgen
SOAK_SEATS    ?= 10000
SOAK_CPS      ?= 100
SOAK_DURATION ?= 10m
SOAK_EVERY    ?= 30s
SOAK_AMI_PING ?= 5s
soak:
	$(GO) build -o $(BIN)/astcti-loadgen ./cmd/astcti-loadgen
	$(BIN)/astcti-loadgen --quiet --seats $(SOAK_SEATS) --rate $(SOAK_CPS) --duration $(SOAK_DURATION) \
	  --faults all --fault-every $(SOAK_EVERY) --ami-ping $(SOAK_AMI_PING) --json soak.json --report soak.html

## fuzz: every fuzz target for FUZZTIME each (not part of CI); stops at the
## first failing input, which go test keeps in the package's testdata/fuzz
# A package whose tests do not build fails the run rather than having its
# targets skipped. go1.26's fuzz coordinator can end a run that found
# nothing with "context deadline exceeded" as its time is up
# (go.dev/issue/75804, fixed in go1.27): without a failing input written,
# that is said and not counted as a failure.
fuzz:
	@out=$$(mktemp); trap 'rm -f "$$out" "$$out.rc"' EXIT; \
	for pkg in $$($(GO) list $(PKGS)); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; echo "fuzz: cannot list the fuzz targets of $$pkg"; exit 1; }; \
	  for t in $$(echo "$$list" | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    { $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg 2>&1; echo $$? >"$$out.rc"; } | tee "$$out"; \
	    [ "$$(cat "$$out.rc")" = 0 ] && continue; \
	    if grep -q 'Failing input written' "$$out" || ! grep -q 'context deadline exceeded' "$$out"; then exit 1; fi; \
	    echo "fuzz: $$t: Go's fuzztime race (go.dev/issue/75804), no failing input: not a failure"; \
	  done; \
	done

clean:
	rm -rf $(BIN) dist

# The release platforms: every binary is built for each, with no cgo.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST      := dist

.PHONY: cross release

## test also cross-compiles, so that a break on another platform shows at once
test: cross

## cross: compile every binary for every release platform (CGO_ENABLED=0), output discarded
cross:
	@for p in $(PLATFORMS); do \
	  echo "== cross $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/... || exit 1; \
	done

## release: every binary (main package) of cmd/... for every release platform into dist/, with dist/SHA256SUMS
release:
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; if [ $$os = windows ]; then ext=.exe; fi; \
	  for pkg in $$($(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cmd/...); do \
	    out=$(DIST)/$$(basename $$pkg)-$$os-$$arch$$ext; \
	    echo "== $$out"; \
	    GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w $(LDFLAGS)' -o $$out $$pkg; \
	  done; \
	done
	cd $(DIST) && files=$$(ls | grep -v '^SHA256SUMS$$'); \
	  if command -v sha256sum >/dev/null; then sha256sum $$files; else shasum -a 256 $$files; fi > SHA256SUMS.tmp && \
	  mv SHA256SUMS.tmp SHA256SUMS
