# xchan — the README's commands.  Everything real lives in ci/*.sh so that
# CI (.ci/run) and a developer run the same steps.
#
#   make demo         build (Release, into build/) and run the demo
#   make test         every test stage (see ci/test.sh); installs what is missing
#   make build        configure and build build/ (Release)
#   make bench        the side-by-side benchmarks (bench/run.py)
#   make bench-quick  a short benchmark run
#   make format       clang-format -i over core/, examples/ and the C runner
#   make format-check report files clang-format would change
#   make check-symbols  exported symbols of build/libxchan.so vs core/xchan.abi
#   make abi-update   rewrite core/xchan.abi from build/libxchan.so (deliberate)
#   make clean        remove the build trees

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3

.PHONY: help deps build demo demo-c test bench bench-quick format format-check \
	check-symbols abi-update clean

help:
	@sed -n '4,14p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@bash ci/deps.sh

build: deps
	@XCHAN_QUIET_BUILD=1 bash ci/build.sh default -DCMAKE_BUILD_TYPE=Release

# The demo is a list of steps, one per language; more are appended to
# DEMO_STEPS as bindings land (e.g. demo-python, demo-node, demo-java).
DEMO_STEPS := demo-c

demo: $(DEMO_STEPS)

demo-c: build
	@echo "==> demo (C): build/examples/xchan-demo"
	@./build/examples/xchan-demo

test: deps
	@bash ci/deps.sh test
	@bash ci/test.sh

bench: deps
	$(PYTHON) bench/run.py

bench-quick: deps
	$(PYTHON) bench/run.py --quick

FORMAT_FILES = $(shell find core examples tests/conformance/runners/c -name '*.[ch]' -not -path '*/vendor/*' 2>/dev/null)

format: deps
	clang-format -i $(FORMAT_FILES)

format-check: deps
	@bash ci/format-check.sh

check-symbols: build
	@bash ci/check-symbols.sh

abi-update: build
	@bash ci/check-symbols.sh --update

clean:
	rm -rf build build-*/
