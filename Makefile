# The two commands: `make run` and `make test`. Each installs what is missing
# (Debian packages, the buf CLI from npm), builds, then runs.
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:50051
DB ?= var/kpi.sqlite3
# Language of the projections `make run` prints: ja or en (kpictl --lang).
LANG_CODE ?= ja

.PHONY: deps build run test bench clean

deps:
	@deploy/install-deps.sh

build:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: deps build
	@deploy/run-local.sh $(BUILD_DIR) $(LISTEN) $(DB) $(LANG_CODE)

test: deps build
	@tests/run-all.sh $(BUILD_DIR)

bench: deps build
	@bench/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
