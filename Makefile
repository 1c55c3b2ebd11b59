# swift-nex — see README.md
SWIFT ?= swift
ONLY ?=
BENCH_ARGS ?=

.PHONY: bootstrap build run test bench clean

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

# The node runs every workload in an agent (`nex-agent`, found beside `nex`), sandboxed unless
# NOSANDBOX=1 (or the configuration says no_sandbox).
NOSANDBOX ?=

run: bootstrap
	$(SWIFT) build --product nex-agent
	$(SWIFT) run nex node up $(if $(NOSANDBOX),--no-sandbox)

# Swift Testing runs every test in parallel by default; on 2 cores hundreds of concurrent nats-servers,
# Python interop clients and compilers stall each other for seconds, so the width is bounded.
TEST_WIDTH ?= 8

test: bootstrap
	$(SWIFT) build --build-tests
	NO_COLOR=1 "$$($(SWIFT) build --show-bin-path)/swift-nexPackageTests.xctest" --testing-library swift-testing \
		--experimental-maximum-parallelization-width $(TEST_WIDTH) $(if $(FILTER),--filter $(FILTER))

bench: bootstrap
	$(SWIFT) build -c release --product nex-bench
	$(SWIFT) build -c release --product nex-agent
	$(SWIFT) build -c release --product nex
	.build/release/nex-bench $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

clean:
	rm -rf .build
