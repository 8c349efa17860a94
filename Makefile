# The two commands: `make run` and `make test`. Each installs what is missing
# (Debian packages, the buf CLI from npm), builds, then runs.
#
# `make test` (what CI's .ci/run calls) runs four phases, in this order, and
# stops at the first that fails; each is a target of its own too:
#   test-fast  the suite, gcc, build/ (every fuzz corpus replayed)
#   test-asan  the suite under AddressSanitizer + UBSan, clang, build-asan/
#   fuzz       each libFuzzer target FUZZ_SECONDS from its corpus, build-asan/
#   test-tsan  the concurrency tests under ThreadSanitizer, clang, build-tsan/
# The plain suite comes first, so that an ordinary failure shows quickly.
# Measured on a fresh clone, 2 cores, cold (README "Tests"): 1,610 s, about
# 27 minutes against CI's limit of 90; each phase prints its time.
# `make test-all` is `make test`.
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

# One phase after the other, whatever -j says: each builds with JOBS and
# runs ctest two at a time, and the two suites each start their own
# PostgreSQL cluster.
test: deps
	@for phase in test-fast test-asan fuzz test-tsan; do \
	  echo "make test: $$phase" >&2; \
	  start=$$SECONDS; \
	  $(MAKE) --no-print-directory $$phase || exit 1; \
	  echo "make test: $$phase took $$((SECONDS - start)) s" >&2; \
	done

test-all: test

test-fast: deps build
	@tests/run-all.sh $(BUILD_DIR)

# Label rss (e2e_test_limits.OversizedRequestTest: the server's peak RSS
# for oversized requests) is left out: ASan's allocator, with its redzones,
# shadow memory and quarantine of freed blocks, measures itself, not the
# server (+230 MiB where the plain build stays under 45).
test-asan: deps build-asan
	@tests/run-all.sh $(ASAN_DIR) -LE '^(fuzz|rss)$$'

test-tsan: deps build-tsan
	@tests/run-all.sh $(TSAN_DIR)

fuzz: deps build-asan
	@tests/run-all.sh $(ASAN_DIR) -L '^fuzz$$'

bench: deps build
	@bench/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
