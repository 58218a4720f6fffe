# Hub: `make run` serves on :8080 with the embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash

.PHONY: deps test-deps build run test fuzz bench soak image-check clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	swift build -c release --product hub

run: build
	@mkdir -p data
	.build/release/hub serve

test: test-deps
	scripts/test.sh

# Each fuzz target FUZZ_SECONDS (0: no limit) from its corpus; FUZZ_TARGETS picks some (HubFuzz list).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

bench: deps
	Benchmarks/run.sh
	Benchmarks/redis.sh
	Benchmarks/web.sh
	Benchmarks/gateway.sh
	Benchmarks/images.sh
	Benchmarks/reference.sh
	Benchmarks/speech.sh
	Benchmarks/voice.sh
	swift build -c release --product DecodeBench && taskset -c 0 .build/release/DecodeBench

# 30 minutes of mixed load with reconnects, a Redis restart and a flaky upstream (SOAK_SECONDS=120 to try it).
# Not part of `make test`; see Benchmarks/README.md.
soak:
	@scripts/install-deps.sh --soak
	Benchmarks/soak/soak.sh

# Builds deploy/Dockerfile's runtime stage with podman from a debootstrap-made bookworm and a
# release binary built here, then has the image's hub answer /health by chroot (root; needs the
# Debian mirror). Not part of `make test`; see deploy/README.md.
image-check: deps
	@scripts/install-deps.sh --image
	deploy/image-check.sh

clean:
	rm -rf .build .build-fuzz
