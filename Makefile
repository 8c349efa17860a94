# The two commands: `make run` and `make test`. Each installs what is missing
# (Debian packages, the buf CLI from npm), builds, then runs.
#
# `make test` runs the suite (test-fast, with every fuzz corpus replayed).
# The sanitizer and fuzzer runs, each alone: test-asan (the suite under
# AddressSanitizer + UndefinedBehaviorSanitizer), fuzz (a short run of every
# fuzzer), test-tsan (the concurrency tests under ThreadSanitizer); `make
# test-all` runs test-fast, test-asan and fuzz. They join `make test` once
# measured on a clean clone against CI's time limit (README "Tests").
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:50051
DB ?= var/kpi.sqlite3
# Language of the projections `make run` prints: ja or en (kpictl --lang).
LANG_CODE ?= ja
# Sanitizer and fuzzer builds use Debian's clang (deploy/debian-packages.txt).
CLANGXX ?= clang++-14
# Seconds each fuzzer runs in `make fuzz` / `make test`.
FUZZ_SECONDS ?= 45

.PHONY: deps build build-asan build-tsan run test test-all test-fast \
	test-asan test-tsan fuzz bench clean

deps:
	@deploy/install-deps.sh

build:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Everything under ASan + UBSan, the fuzzers with coverage (KPI_FUZZ).
build-asan:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER=$(CLANGXX) -DKPI_SANITIZE=address,undefined \
	  -DKPI_FUZZ=ON -DKPI_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(ASAN_DIR) -j $(JOBS)

# Only the concurrency tests are built under TSan (kpi_cc_test CONCURRENCY).
build-tsan:
	cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER=$(CLANGXX) -DKPI_SANITIZE=thread
	cmake --build $(TSAN_DIR) -j $(JOBS)

run: deps build
	@deploy/run-local.sh $(BUILD_DIR) $(LISTEN) $(DB) $(LANG_CODE)

test: test-fast

test-all: test-fast test-asan fuzz

test-fast: deps build
	@tests/run-all.sh $(BUILD_DIR)

test-asan: deps build-asan
	@tests/run-all.sh $(ASAN_DIR) -LE '^fuzz$$'

test-tsan: deps build-tsan
	@tests/run-all.sh $(TSAN_DIR)

fuzz: deps build-asan
	@tests/run-all.sh $(ASAN_DIR) -L '^fuzz$$'

bench: deps build
	@bench/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
