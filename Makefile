# swift-nex — see README.md
SWIFT ?= swift
ONLY ?=
BENCH_ARGS ?=

.PHONY: bootstrap build run test bench clean

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

run: bootstrap
	$(SWIFT) run nex-demo

test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: bootstrap
	$(SWIFT) build -c release --product nex-bench
	.build/release/nex-bench $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

clean:
	rm -rf .build
