# CSCS build, test and demo. Run `make help` for the targets.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BIN      := bin
AGENTS   := $(BIN)/agents
# Every platform the core can serve an agent to.
AGENT_PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64
CORE_LDFLAGS  := -s -w -X main.version=$(VERSION)
AGENT_LDFLAGS := -s -w -X main.version=$(VERSION)
# Every package of every module of the workspace (go.work): the core, the
# SDK (a module of its own) and each example plugin (one module each).
PKGS     := github.com/cscs-dev/cscs/...

.PHONY: all build build-deps core agents test-windows dist dist-check package-test demo test test-deps vet lint modules validate-examples fuzz fuzz-short bench bench-rounds bench-fleet bench-serve bench-mail bench-cluster sizes clean help proto

all: build

help:
	@echo "make            build bin/cscs and bin/agents/* for every platform"
	@echo "make demo       one real round against an in-process SSH fleet (needs only Go)"
	@echo "make test       install test dependencies (as root), vet, lint, run every test (test-windows too), then fuzz-short"
	@echo "make test-windows  the windows/amd64 agent's tests and a smoke run under Wine (installs wine64, mingw-w64 as root)"
	@echo "make fuzz       run every fuzz target for FUZZTIME each (default $(FUZZTIME)); make fuzz-short: $(FUZZTIME_SHORT) each"
	@echo "make bench      every benchmark: bench-rounds, bench-fleet, bench-serve, bench-mail, then bench-cluster (~45 min)"
	@echo "make bench-rounds  round wall time against real sshd fleets of 1, 10 and 50 hosts; storage rows/s; host CPU of a round"
	@echo "make bench-fleet  floor vs cscs run (cached, cold) vs pssh and Ansible on 50, 200 and 500 sshd hosts; core CPU/RSS up to 10,000 hosts (~28 min)"
	@echo "make bench-serve  cscs serve against 2000 in-process hosts: schedule kept, core CPU, RSS, goroutines and open fds per round (~6 min)"
	@echo "make bench-mail   round wall time with mail to a working SMTP server, a tarpit and a refused port; 2,000 mails to a local SMTP server (~3 min)"
	@echo "make bench-cluster  cscs serve --cluster with 1, 2, 3 instances and plain serve on PostgreSQL, 300 in-process hosts (~6 min)"
	@echo "make sizes      agent size per platform"
	@echo "make dist       dist/: release archives and Debian packages for linux/amd64 and arm64, SHA256SUMS"
	@echo "make dist-check the linux/amd64 archive built twice, apart, must be the same bytes (DIST_ARCH=arm64 too)"
	@echo "make package-test  as root with dpkg: build the .deb, install, run it, purge, check nothing is left"

build: core agents

core: build-deps
	$(GO) build -trimpath -ldflags "$(CORE_LDFLAGS)" -o $(BIN)/cscs ./core/cmd/cscs

# The agent is static (no cgo) and stripped: every host receives it.
agents:
	@mkdir -p $(AGENTS)
	@for p in $(AGENT_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "agent $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(AGENT_LDFLAGS)" \
			-o $(AGENTS)/cscs-agent-$$os-$$arch$$ext ./agent/cmd/cscs-agent || exit 1; \
	done

# Release: dist/cscs-<version>-linux-{amd64,arm64}.tar.gz (cscs, the agents for
# every platform, sample configuration, systemd files, docs), the Debian
# packages (goreleaser's nfpm, packaging/nfpm.yaml) and dist/SHA256SUMS.
# Reproducible: see scripts/dist.sh. The arm64 core needs Debian's cross
# compiler (installed as root by install-deps.sh dist).
DIST_ARCH ?= amd64
# make test checks with the same build cache (DIST_CHECK_CACHED=1: two
# directories, compiled packages from the cache, linking and packing done
# twice; under a minute); make dist and make dist-check build the second
# core from an empty cache (about 3 minutes for amd64 on 2 cores).
DIST_CHECK_CACHED ?= 0
dist:
	@bash scripts/install-deps.sh dist
	GO=$(GO) VERSION=$(VERSION) AGENT_PLATFORMS="$(AGENT_PLATFORMS)" bash scripts/dist.sh all
	GO=$(GO) VERSION=$(VERSION) AGENT_PLATFORMS="$(AGENT_PLATFORMS)" bash scripts/dist.sh check arm64

dist-check: build-deps
	GO=$(GO) VERSION=$(VERSION) AGENT_PLATFORMS="$(AGENT_PLATFORMS)" DIST_CHECK_CACHED=$(DIST_CHECK_CACHED) bash scripts/dist.sh check $(DIST_ARCH)

# Builds the amd64 .deb, installs it with dpkg, runs cscs version and
# validate on the packaged configuration, purges it and checks nothing of
# it is left. Only as root where dpkg is: else it says so and succeeds.
package-test:
	@GO=$(GO) VERSION=$(VERSION) AGENT_PLATFORMS="$(AGENT_PLATFORMS)" bash scripts/package-test.sh

demo: build
	$(BIN)/cscs demo

build-deps:
	@bash scripts/install-deps.sh build

test-deps:
	@bash scripts/install-deps.sh test

# The windows/amd64 agent under Wine (scripts/wine.sh): go test ./agent/...
# with -exec wine64, then the built agent on a core request, its report
# opened by core/report. Part of make test: ~16 s warm; the first time
# also apt (~20 s) and wineboot (5-10 s). See docs/windows.md.
test-windows:
	@bash scripts/install-deps.sh windows
	GO=$(GO) bash scripts/wine.sh

vet:
	$(GO) vet $(PKGS)
	GOOS=windows $(GO) vet $(PKGS)
	GOOS=darwin $(GO) vet $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)

# The configurations shipped in examples/ must load (warnings allowed).
validate-examples: core
	@for f in config.xml examples/configs/*.xml; do \
		$(BIN)/cscs validate --config $$f --email-config email_config.json >/dev/null || exit 1; \
	done; echo "examples validate"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(GO) build -o $$tmp/notifier-webhook ./examples/notifier-webhook && \
	$(BIN)/cscs plugins install --data-dir $$tmp/data $$tmp/notifier-webhook >/dev/null && \
	for f in examples/overlays/*.hcl; do \
		CSCS_PG_PASSWORD=example $(BIN)/cscs validate --data-dir $$tmp/data --overlay $$f >/dev/null || exit 1; \
	done; echo "example overlays validate"

# The SDK and each example are modules of their own: outside the
# workspace, their go.mod and go.sum must be tidy and they must build and
# pass their tests with nothing of the core reachable.
modules:
	@for m in sdk examples/*/; do \
		[ -f $$m/go.mod ] || continue; \
		echo "module $$m (alone)"; \
		(cd $$m && GOWORK=off $(GO) mod tidy -diff && GOWORK=off $(GO) vet ./... && \
			! GOWORK=off $(GO) list -deps -test ./... | grep -E '^github.com/cscs-dev/cscs/(core|agent|plugins)(/|$$)') || exit 1; \
	done
	cd sdk && GOWORK=off $(GO) test -count=1 ./...

# Fuzzing: every Fuzz target (found by scripts/fuzz.sh), one at a time, for
# FUZZTIME each; a failing input is left in the package's testdata/fuzz/.
# fuzz-short is the brief run `make test` ends with. `go test` alone runs
# the seed corpora (f.Add and testdata/fuzz/) as ordinary tests.
FUZZTIME       ?= 30s
FUZZTIME_SHORT ?= 2s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

fuzz-short:
	GO=$(GO) FUZZTIME=$(FUZZTIME_SHORT) bash scripts/fuzz.sh

test: test-deps build vet lint modules validate-examples
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -count=1 -timeout 20m $(PKGS)
	@$(MAKE) --no-print-directory test-windows
	@$(MAKE) --no-print-directory dist-check package-test DIST_CHECK_CACHED=1
	@$(MAKE) --no-print-directory fuzz-short

# Every benchmark: round times, storage, host cost, the fleet comparison,
# serve's rounds, what mail costs a round, then the cluster (about 26
# minutes on 2 cores). bench-rounds, bench-fleet, bench-serve, bench-mail
# and bench-cluster run a part.
bench: bench-rounds bench-fleet bench-serve bench-mail bench-cluster

bench-rounds: test-deps build
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkRound' -benchtime 1x -count 3 -timeout 30m ./core/cli/
	$(GO) test -run '^$$' -bench 'BenchmarkWriteBatch' -benchtime 5x -count 3 ./plugins/storage/sqlite/ ./plugins/storage/postgres/
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkHostCommand' -benchtime 30x -count 3 ./core/transport/
	$(GO) test -run '^$$' -bench 'BenchmarkAuthMethods' -benchtime 200x -count 3 ./core/transport/

# Fleet speed (docs/performance.md): the floor (a minimal x/crypto/ssh client)
# against `cscs run` on real sshd fleets of 50, 200 and 500 hosts
# (FLEETBENCH_SIZES picks others), then the core's CPU and peak RSS against an
# in-process fleet (in a child) of up to 10,000 hosts (FLEETBENCH_LARGE_SIZES).
bench-fleet: test-deps build
	@bash scripts/install-deps.sh bench || echo "parallel-ssh or Ansible could not be installed: the benchmark reports them as not installed"
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkFleet$$|BenchmarkFleetLarge$$' -benchtime 1x -timeout 90m ./core/internal/fleetbench/

# serve's rounds against 2000 in-process hosts (a child process), every interval
# a little longer than a round: start lateness, duration, core CPU and RSS per
# round (docs/performance.md). FLEETBENCH_SERVE_ROUNDS=60 for an hour's worth
# of 1-minute rounds; FLEETBENCH_SERVE_HOSTS and FLEETBENCH_SERVE_INTERVAL too.
bench-serve: test-deps build
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkServe$$' -benchtime 1x -timeout 3h ./core/internal/fleetbench/

# What mail costs a round (docs/operations.md): a round of cscs serve (the
# deliverer beside it) and a cscs run (mail beside the store, within
# round.MailWait) with the mail going to a working SMTP server, to a tarpit
# (accepts, never answers) and to a refused port; and the time 2,000 queued
# notifications take to reach a local SMTP server (BenchmarkOutbox2000).
bench-mail: test-deps agents
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkRoundMail$$' -benchtime 3x -count 3 -timeout 20m ./core/serve/
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkRunMail$$' -benchtime 1x -count 3 -timeout 20m ./core/round/
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkOutbox2000$$' -benchtime 1x -count 5 -timeout 20m ./core/round/

# `cscs serve --cluster` with 1, 2 and 3 instances, and plain `cscs serve`,
# as processes against 300 in-process hosts (a child process), the state
# and the storage on PostgreSQL (docs/performance.md, docs/scaling.md):
# time from an interval's start to its last host, CPU per host of cscs and
# of PostgreSQL, River jobs and transactions per interval. Needs the
# PostgreSQL of the tests (pgtest; skipped without one).
# FLEETBENCH_CLUSTER_HOSTS, _INTERVAL (15s), _INTERVALS (3) and _CASES
# ("plain,1,1:all,2,3") change it.
bench-cluster: build-deps agents
	CSCS_AGENT_DIR=$(CURDIR)/$(AGENTS) $(GO) test -run '^$$' -bench 'BenchmarkCluster$$' -benchtime 1x -timeout 20m ./core/internal/fleetbench/

sizes: agents
	@ls -l $(AGENTS) | awk 'NR>1 {printf "%-32s %10d bytes\n", $$9, $$5}'

clean:
	rm -rf $(BIN)

# Regenerate the plugin protocol code in sdk/proto from its .proto files
# (generated files are committed). The generators are installed into
# GOPATH/bin at pinned versions when missing. The "cscs/" prefix is the
# path the files are registered under in the protobuf registry.
proto:
	@bash scripts/install-deps.sh proto
	@gobin="$$($(GO) env GOPATH)/bin"; \
	test -x "$$gobin/protoc-gen-go" || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 || exit 1; \
	test -x "$$gobin/protoc-gen-go-grpc" || $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2 || exit 1; \
	for f in sdk/proto/*/v*/*.proto; do \
		echo "protoc $$f"; \
		PATH="$$gobin:$$PATH" protoc --proto_path=cscs=sdk/proto \
			--go_out=. --go_opt=module=github.com/cscs-dev/cscs \
			--go-grpc_out=. --go-grpc_opt=module=github.com/cscs-dev/cscs \
			"cscs/$${f#sdk/proto/}" || exit 1; \
	done
