# xchan — the README's commands.  Everything real lives in ci/*.sh so that
# CI (.ci/run) and a developer run the same steps.
#
#   make demo         build what it needs, run the demo in C, Ruby, Python, Node, Java
#   make test         every test stage (see ci/test.sh); installs what is missing
#   make build        configure and build build/ (Release)
#   make bench        the side-by-side benchmarks (bench/run.py)
#   make bench-quick  a short benchmark run (results in bench/results/quick/)
#   make format       clang-format -i over core/, examples/ and the C runner
#   make format-check report files clang-format would change
#   make check-symbols  exported symbols of build/libxchan.so vs core/xchan.abi
#   make abi-update   rewrite core/xchan.abi from build/libxchan.so (deliberate)
#   make clean        remove the build trees

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3

.PHONY: help deps build demo demo-c demo-ruby demo-python demo-node demo-java test bench bench-quick format format-check \
	check-symbols abi-update clean

help:
	@sed -n '4,14p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@bash ci/deps.sh

build: deps
	@XCHAN_QUIET_BUILD=1 bash ci/build.sh default -DCMAKE_BUILD_TYPE=Release

# The demo is a list of steps, one per language (examples/demo/run.sh runs
# them and ends with a summary table); `make demo-node` etc. run one.  Each
# binding's build is the test stages' own, reused when up to date.
DEMO_STEPS := demo-c demo-ruby demo-python demo-node demo-java

demo: build
	@bash ci/deps.sh demo
	@bash examples/demo/run.sh $(DEMO_STEPS:demo-%=%)

$(DEMO_STEPS): build
	@bash ci/deps.sh demo
	@bash examples/demo/run.sh $(@:demo-%=%)

test: deps
	@bash ci/deps.sh test
	@bash ci/test.sh

bench: deps
	$(PYTHON) bench/run.py

bench-quick: deps
	$(PYTHON) bench/run.py --quick

FORMAT_FILES = $(shell find core examples tests/cross tests/fuzz tests/gochan tests/conformance/runners/c bindings/python/src bindings/java-jni/src/main/c bindings/node/src bindings/node/include -name '*.[ch]' -not -path '*/vendor/*' 2>/dev/null)

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
