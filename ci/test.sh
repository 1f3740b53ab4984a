#!/usr/bin/env bash
# ci/test.sh — every test stage of xchan, the one command behind `make test`
# and CI (.ci/run).  Each stage runs even when an earlier one failed (unless
# it needs that one's build), and a summary closes the run:
#
#   build      build/ (Release): the library, tests, demo, header checks
#   test       ctest on build/
#   demo       `make demo` (examples/demo/run.sh): C, Ruby, Python, Node and
#              Java parts, none skipped, reusing the bindings' stage builds;
#              and the README still shows examples/hello.c (runs after java)
#   headers    xchan.h alone as strict C99 (-pedantic -Werror) and as C++
#   symbols    exported symbols of build/libxchan.so == core/xchan.abi
#   asan       build-asan/ (ASan+UBSan) + ctest
#   tsan       build-tsan/ (TSan) + ctest
#   ucontext   build-ucontext/ (ucontext context switch, and the debug
#              checks: use after release aborts, XCHAN_DEBUG_CHECKS) + ctest
#   aarch64    build-aarch64/ (cross gcc) + ctest under qemu-aarch64
#   valgrind   memcheck over build/'s tests
#   stress-tsan  core/src/stress_all_test (every channel kind and op, threads
#              and go tasks, exact value accounting) for XCHAN_STRESS_TSAN_SECONDS
#              (75) on build-tsan/
#   fuzz       build-fuzz/ (clang, libFuzzer, ASan+UBSan): the op-script
#              fuzzer for XCHAN_FUZZ_SECONDS (60), then the corpus replayed
#   format     every C file under core/, examples/, tests/cross/ and the C
#              conformance runner, tests/fuzz/ and tests/gochan/ match
#              .clang-format
#   swig       the SWIG-generated Ruby binding's suite (bindings/ruby/test) and
#              the conformance cases Ruby can express (runners/ruby)
#   python     pip install ./bindings/python into build-python/venv + pytest
#   python-asan  the same suite on a Debug core built with ASan+UBSan
#              (build-python/venv-asan, libasan preloaded, leak check off:
#              CPython does not free everything at exit)
#   node       the Node binding: `npm install ./bindings/node` into a scratch
#              project (builds addon + core, no download), then npm test
#   node-asan  the Node suite again with the addon and core under ASan+UBSan
#   java       the Java binding: `mvn install` on JDK 17 (core + JNI library
#              built by Maven, the JUnit suite, the jar into ~/.m2), the
#              README example from a scratch project that depends on it,
#              then the suite on the Temurin JDK (21+: virtual threads, JFR
#              pinning check; skipped with a warning when none is installed)
#   java-asan  the Java suite (JDK 17) on the JNI library and core built
#              with ASan+UBSan, libasan preloaded (bindings/java-jni/asan-test.sh)
#   conformance  tests/conformance/run --strict (C, Python, Node and Java; a
#                missing language fails) on build/, the C runner also on
#                build-tsan/ and build-asan/
#   cross      tests/cross/run: the interop test (C produces every interop type
#              from a pthread into Python, Node, Java and Ruby channels and
#              verifies what they send back) and each binding's own
#              tests/cross tests, reusing the bindings' stage builds (the
#              python venv, node's addon, java's jar and test classes, the
#              build stage's Ruby extension); none may be skipped
#
# Environment:
#   XCHAN_STAGES="build test ..."  run only these stages (default: all)
#   XCHAN_SKIP="valgrind ..."      skip these stages
#   XCHAN_JOBS=2                   build and ctest parallelism
#   XCHAN_FUZZ_SECONDS=60          how long the fuzz stage fuzzes
# Exit status: 0 when every stage passed, 1 otherwise.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${XCHAN_JOBS:-2}
export XCHAN_JOBS=$jobs
export CTEST_OUTPUT_ON_FAILURE=1
all_stages="build test demo headers symbols asan tsan ucontext aarch64 valgrind stress-tsan fuzz format swig python python-asan node node-asan java java-asan conformance cross"
stages=${XCHAN_STAGES:-$all_stages}

declare -a names=() results=() times=() notes=()
declare -A status=()
t_start=$SECONDS

want() {
	[[ " $stages " == *" $1 "* ]] && [[ " ${XCHAN_SKIP:-} " != *" $1 "* ]]
}

# record NAME RESULT SECONDS [NOTE]
record() {
	names+=("$1")
	results+=("$2")
	times+=("$3")
	notes+=("${4:-}")
	status[$1]=$2
}

# stage NAME FUNCTION [NEEDS]: runs FUNCTION as stage NAME if wanted; a
# stage whose NEEDS stage ran and failed is recorded as failed, not run.
stage() {
	local name=$1 fn=$2 needs=${3:-} t0 rc
	want "$name" || return 0
	if [ -n "$needs" ] && [ "${status[$needs]:-}" = FAIL ]; then
		echo
		echo "=== $name: not run ($needs failed)"
		record "$name" FAIL 0 "not run: $needs failed"
		return 0
	fi
	echo
	echo "=== $name"
	t0=$SECONDS
	stage_note=""
	"$fn"
	rc=$?
	if [ $rc -eq 0 ]; then
		record "$name" PASS $((SECONDS - t0)) "$stage_note"
	elif [ $rc -eq 3 ]; then
		record "$name" WARN $((SECONDS - t0)) "$stage_note"
	else
		record "$name" FAIL $((SECONDS - t0)) "$stage_note"
	fi
	echo "=== $name: ${status[$name]} ($((SECONDS - t0)) s)"
}

# run_ctest DIR [PREFIX...]: ctest over DIR, optionally run under PREFIX
# (e.g. setarch).  Notes the number of tests in stage_note.
run_ctest() {
	local dir=$1 log rc
	shift
	log=$(mktemp)
	"$@" ctest --test-dir "$dir" -j"$jobs" --timeout 300 --no-tests=error \
		--output-on-failure 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1)
	rm -f "$log"
	return "$rc"
}

# ---- stages -----------------------------------------------------------------

st_build() {
	local log rc n
	log=$(mktemp)
	bash ci/build.sh default -DCMAKE_BUILD_TYPE=Release -DXCHAN_FFI=ON 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# Warnings do not fail the build (XCHAN_WERROR is off), but show.
	n=$(grep -c 'warning:' "$log" || true)
	[ "$n" -gt 0 ] && stage_note="$n compiler warnings"
	rm -f "$log"
	return "$rc"
}

st_test() {
	run_ctest build
}

st_demo() {
	local log rc
	# The README shows examples/hello.c verbatim; keep them one text.
	if ! python3 - <<'PY'
import sys
readme = open("README.md").read()
hello = open("examples/hello.c").read()
if "```c\n" + hello + "```" not in readme:
    sys.exit("demo: README.md no longer shows examples/hello.c verbatim")
PY
	then
		stage_note="README.md and examples/hello.c differ"
		return 1
	fi
	# The whole `make demo` (C, Ruby, Python, Node, Java), reusing the
	# builds of the stages before; on CI nothing may be skipped.
	log=$(mktemp)
	XCHAN_DEMO_STRICT=1 timeout 1200 bash examples/demo/run.sh 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(awk '/^  (C|Ruby|Python|Node|Java) +(ok|FAILED|skipped) /{printf "%s%s %s", sep, $1, $2; sep=", "}' "$log")
	rm -f "$log"
	return "$rc"
}

st_headers() {
	# The object libraries in tests/CMakeLists.txt compile xchan.h alone;
	# building them again is a no-op when the build stage made them.
	cmake --build build --target xchan_header_c99 xchan_header_cxx \
		xchan_header_ext_c99 xchan_header_ext_cxx
}

st_symbols() {
	bash ci/check-symbols.sh
}

st_asan() {
	bash ci/build.sh asan -DXCHAN_SANITIZER=address -DXCHAN_FFI=ON || return 1
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:check_initialization_order=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_ctest build-asan
}

# TSan of older compilers aborts with "unexpected memory mapping" on kernels
# with high mmap randomisation; the cure is to run without ASLR.
tsan_prefix() {
	local dir=build-tsan/tsan-probe out
	mkdir -p "$dir"
	printf '#include <pthread.h>\nstatic void *f(void *a) { return a; }\nint main(void) { pthread_t t; pthread_create(&t, 0, f, 0); return pthread_join(t, 0); }\n' >"$dir/probe.c"
	if ! cc -fsanitize=thread -o "$dir/probe" "$dir/probe.c" -lpthread 2>/dev/null; then
		return 0
	fi
	out=$("$dir/probe" 2>&1) && return 0
	if grep -q "unexpected memory mapping" <<<"$out"; then
		echo "setarch $(uname -m) -R"
	fi
}

st_tsan() {
	local prefix
	bash ci/build.sh tsan -DXCHAN_SANITIZER=thread -DXCHAN_FFI=ON || return 1
	prefix=$(tsan_prefix)
	[ -n "$prefix" ] && echo "TSan needs ASLR off here: running under '$prefix'"
	local supp=""
	[ -f ci/tsan.supp ] && supp=":suppressions=$root/ci/tsan.supp"
	TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1$supp} \
		run_ctest build-tsan $prefix
}

st_ucontext() {
	# Also the debug build's use-after-release checks (debugcheck_test's
	# death cases run only where they are on; aarch64, a Debug build,
	# has them too).
	bash ci/build.sh ucontext -DXCHAN_FORCE_UCONTEXT=ON -DXCHAN_FFI=ON \
		-DXCHAN_DEBUG_CHECKS=ON || return 1
	run_ctest build-ucontext
}

# aarch64: cross-compiled with Debian's gcc-aarch64-linux-gnu and run under
# qemu-user (ctest starts each test through the emulator; tests that start
# a child process go through it too, via XTEST_EMULATOR).  It runs the
# hand-written aarch64 context switch; qemu on x86 does not reproduce ARM's
# weaker memory ordering, so this is not a memory-model test.
st_aarch64() {
	local sysroot=/usr/aarch64-linux-gnu emu
	emu=$(command -v qemu-aarch64) || { stage_note="qemu-aarch64 missing"; return 1; }
	# pkg-config must see the target's libraries, not the host's (x86
	# libcjson would be linked into the aarch64 conformance runner): with
	# none installed for arm64, what needs them is left out of this build.
	PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
		bash ci/build.sh aarch64 -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
		-DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc \
		-DCMAKE_ASM_COMPILER=aarch64-linux-gnu-gcc \
		-DCMAKE_CXX_COMPILER=g++ -DXCHAN_BUILD_EXAMPLES=OFF \
		"-DCMAKE_CROSSCOMPILING_EMULATOR=$emu;-L;$sysroot" || return 1
	QEMU_LD_PREFIX=$sysroot XTEST_EMULATOR=$emu run_ctest build-aarch64
}

st_valgrind() {
	local log rc
	log=$(mktemp)
	python3 ci/valgrind.py build 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -Eo '[0-9]+ of [0-9]+ tests clean' "$log" | tail -n1)
	rm -f "$log"
	return "$rc"
}

st_stress_tsan() {
	local prefix secs=${XCHAN_STRESS_TSAN_SECONDS:-75} log rc supp=""
	bash ci/build.sh tsan -DXCHAN_SANITIZER=thread >/dev/null || return 1
	prefix=$(tsan_prefix)
	[ -f ci/tsan.supp ] && supp=":suppressions=$root/ci/tsan.supp"
	log=$(mktemp)
	XCHAN_STRESS_ALL_SECONDS=$secs XTEST_DEADLINE_S=$((secs + 240)) \
	TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1$supp} \
		$prefix build-tsan/tests/stress_all_test 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note="$(grep -Eo 'total ops +[0-9]+' "$log" | grep -Eo '[0-9]+$') ops in $secs s, $(grep -Eo 'lost [0-9]+, duplicated [0-9]+' "$log")"
	rm -f "$log"
	return "$rc"
}

# fuzz: tests/fuzz's reference model against the core under libFuzzer
# (clang), seeded from the corpus in the tree; new inputs go to a scratch
# directory, a finding (crash-*) is kept under build-fuzz/ and fails the
# stage.  Then the tree's corpus is replayed by the fuzzer binary.
st_fuzz() {
	local dir=build-fuzz secs=${XCHAN_FUZZ_SECONDS:-60} log rc work runs
	command -v clang >/dev/null 2>&1 || { stage_note="clang missing"; return 1; }
	if [ ! -f "$dir/CMakeCache.txt" ]; then
		CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DXCHAN_SANITIZER=address \
			-DXCHAN_BUILD_FUZZER=ON -DXCHAN_BUILD_EXAMPLES=OFF \
			-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >"$dir.configure.log" 2>&1 ||
			{ cat "$dir.configure.log"; return 1; }
	fi
	cmake --build "$dir" --parallel "$jobs" --target fuzz_chan || return 1
	work=$(mktemp -d)
	log=$(mktemp)
	(cd "$dir" && ./tests/fuzz/fuzz_chan -max_total_time="$secs" -max_len=512 -len_control=0 \
		-print_final_stats=1 "$work" "$root/tests/fuzz/corpus") 2>&1 |
		grep -v '^#[0-9]' | tail -n 40 | tee "$log"
	rc=${PIPESTATUS[0]}
	runs=$(grep -Eo 'number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		stage_note="finding: see build-fuzz/crash-* (add it to tests/fuzz/corpus)"
		rm -f "$log"
		return 1
	fi
	"$dir/tests/fuzz/fuzz_chan" -runs=0 "$root/tests/fuzz/corpus" >"$log" 2>&1
	rc=$?
	tail -n 2 "$log"
	rm -f "$log"
	stage_note="${runs:-?} executions in ${secs} s, corpus replayed ($(ls tests/fuzz/corpus | wc -l) scripts)"
	return "$rc"
}

# The conformance matrix: the driver runs every language runner over the
# builds of the stages before it (the C runner over build/, Python in
# build-python/venv from the python stage, Node in bindings/node from the node
# stage, Java from the java stage's mvn install), then the C runner again on
# the TSan build and on the ASan+UBSan build.  Any mismatch, hang or binding
# gap fails the stage, except the binding results listed (with why) in
# tests/conformance/known-failures.txt, which show as "known".  The run is
# --strict: a language whose binding was not built (missing) fails the stage
# too, so every case must have run in C, Python, Node and Java.
st_conformance() {
	local log rc=0 prefix supp=""
	log=$(mktemp)
	if [ ! -x build/tests/conformance/runners/c/xchan-conformance ]; then
		stage_note="the C runner was not built (libcjson-dev missing?)"
		return 1
	fi
	python3 tests/conformance/run --build build -q --strict \
		--known tests/conformance/known-failures.txt 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	stage_note=$(grep -Eo '^conformance: [0-9]+ cases' "$log" | tail -n1)
	stage_note="$stage_note; $(grep -E '^  [a-z]+/(thread|task)' "$log" |
		sed -E 's/ \([^)]*\)//; s/^ +//; s/ +/ /g' | tr '\n' ';')"
	bash ci/build.sh tsan -DXCHAN_SANITIZER=thread || return 1
	prefix=$(tsan_prefix)
	[ -f ci/tsan.supp ] && supp=":suppressions=$root/ci/tsan.supp"
	echo "--- the C runner on the TSan build"
	XCHAN_RUNNER_PREFIX="$prefix" \
	TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1$supp} \
		python3 tests/conformance/run --build build-tsan --langs c -q 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	grep -q '^conformance: PASS' "$log" || stage_note="$stage_note; TSan run failed"
	bash ci/build.sh asan -DXCHAN_SANITIZER=address || return 1
	echo "--- the C runner on the ASan+UBSan build (leaks fail)"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		python3 tests/conformance/run --build build-asan --langs c -q 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	grep -q '^conformance: PASS' "$log" || stage_note="$stage_note; ASan run failed"
	rm -f "$log"
	return "$rc"
}

st_format() {
	bash ci/format-check.sh && return 0
	stage_note="files differ from .clang-format: run make format"
	return 1
}

# The Ruby binding is generated from core/xchan.i by the build stage (when
# SWIG and Ruby's headers are present: ci/deps.sh installs them); its suite
# drives libsensor.so through the native runner.
st_swig() {
	local ext=build/bindings/ruby/lib/xchan/Raw.so log rc
	if [ ! -f "$ext" ]; then
		stage_note="$ext was not built (swig or ruby-dev missing?)"
		return 1
	fi
	log=$(mktemp)
	XCHAN_BUILD_DIR=$root/build timeout 600 ruby bindings/ruby/test/run.rb 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -Eo '[0-9]+ runs, [0-9]+ assertions, [0-9]+ failures, [0-9]+ errors' "$log" | tail -n1)
	# The conformance cases Ruby can express (thread kind).
	XCHAN_BUILD_DIR=$root/build timeout 600 tests/conformance/runners/ruby/runner \
		--cases tests/conformance/cases 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	stage_note="$stage_note; conformance $(grep -Eo '[0-9]+ of [0-9]+ cases passed' "$log" | tail -n1)"
	rm -f "$log"
	return "$rc"
}

# The Python binding, installed as a user would (pip install
# ./bindings/python builds the core from this checkout through
# scikit-build-core) into a venv under build-python/, so the system Python
# is untouched; then its pytest suite.
st_python() {
	local venv=build-python/venv log rc
	if [ ! -x "$venv/bin/python" ]; then
		python3 -m venv "$venv" || { stage_note="python3 -m venv failed"; return 1; }
	fi
	"$venv/bin/python" -m pip install -q --disable-pip-version-check \
		./bindings/python pytest build mypy || { stage_note="pip install failed"; return 1; }
	# The sdist must hold the core: build it, then a wheel from it.
	rm -rf build-python/dist
	"$venv/bin/python" -m build -q --outdir build-python/dist bindings/python >/dev/null ||
		{ stage_note="python -m build (sdist + wheel from it) failed"; return 1; }
	tar tzf build-python/dist/xchan-*.tar.gz >build-python/dist/sdist.list &&
		grep -q '/_core/core/include/xchan/xchan.h$' build-python/dist/sdist.list ||
		{ stage_note="the sdist lacks the core sources"; return 1; }
	log=$(mktemp)
	(cd bindings/python && timeout 900 "$root/$venv/bin/python" -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -Eo '[0-9]+ (passed|failed)[^=]*' "$log" | tail -n1)
	rm -f "$log"
	return "$rc"
}

st_python_asan() {
	local venv=build-python/venv-asan log rc asan
	asan=$(cc -print-file-name=libasan.so)
	[ -f "$asan" ] || { stage_note="libasan.so not found"; return 1; }
	if [ ! -x "$venv/bin/python" ]; then
		python3 -m venv "$venv" || { stage_note="python3 -m venv failed"; return 1; }
	fi
	"$venv/bin/python" -m pip install -q --disable-pip-version-check \
		scikit-build-core pytest || { stage_note="pip install failed"; return 1; }
	"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
		-Ccmake.define.XCHAN_SANITIZER=address -Ccmake.build-type=Debug \
		-Cbuild-dir=build-python/asan ./bindings/python ||
		{ stage_note="pip install (ASan core) failed"; return 1; }
	log=$(mktemp)
	# use_sigaltstack=0: CPython ends threads that still hold a thread
	# state at finalization with pthread_exit, which skips ASan's stack
	# unpoisoning; ASan's own thread teardown then writes its sigaltstack
	# record into the stale redzones and reports a stack-buffer-overflow
	# in __interceptor_sigaltstack (1 exit in ~10 of
	# test_exit_with_values_in_flight_does_not_crash; 0 in 30 without the
	# ASan alternate stack).  Not an xchan access: no xchan frame is involved.
	(cd bindings/python && LD_PRELOAD=$asan XCHAN_PY_SANITIZED=1 \
		ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout 1200 "$root/$venv/bin/python" -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -Eo '[0-9]+ (passed|failed)[^=]*' "$log" | tail -n1)
	rm -f "$log"
	return "$rc"
}

# The Node binding, installed as a user would (npm install ./bindings/node
# from a project of their own builds the addon and the core from this
# checkout against the running Node's headers; --offline proves that nothing
# is downloaded), then its node:test suite with its devDependencies
# (typescript).
st_node() {
	local scratch log rc
	scratch=$(mktemp -d)
	(cd "$scratch" && npm init -y >/dev/null &&
		npm install --offline --no-audit --no-fund "$root/bindings/node" &&
		node -e "const x = require('xchan'); if (!new x.Chan(1).offer(1)) process.exit(1); console.log('xchan', x.version, 'loads from a user project')") ||
		{ rm -rf "$scratch"; stage_note="npm install ./bindings/node failed"; return 1; }
	rm -rf "$scratch"
	log=$(mktemp)
	(cd bindings/node && npm install --no-audit --no-fund && timeout 900 npm test) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -E '^# (pass|fail|skipped) ' "$log" | tr '\n' ' ')
	rm -f "$log"
	return "$rc"
}

# The Java binding on JDK 17 (installed by ci/deps.sh test) and on the newest
# Temurin JDK under /usr/lib/jvm.  Maven caches downloads in ~/.m2.
java_tests_run() {
	grep -E '^\[(INFO|WARNING|ERROR)\] Tests run:' "$1" | grep -v ' -- in ' |
		sed 's/^\[[A-Z]*\] //' | tr '\n' ' '
}
st_java() {
	local jdk17 tem log rc
	jdk17=$(ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -n1)
	if [ -z "$jdk17" ]; then
		stage_note="no JDK 17 under /usr/lib/jvm (ci/deps.sh test installs it)"
		return 1
	fi
	log=$(mktemp)
	(cd bindings/java-jni && JAVA_HOME=$jdk17 timeout 1500 mvn -B -ntp install) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note="jdk17: $(java_tests_run "$log")"
	if [ "$rc" -ne 0 ]; then
		rm -f "$log"
		return 1
	fi
	if ! bash bindings/java-jni/check-readme.sh "$jdk17"; then
		stage_note+="; README example failed"
		rm -f "$log"
		return 1
	fi
	tem=$(ls -d /usr/lib/jvm/temurin-*-jdk-* 2>/dev/null | sort -V | tail -n1)
	if [ -z "$tem" ]; then
		echo "java: no Temurin JDK under /usr/lib/jvm: the JDK 21+ run" \
			"(virtual threads, JFR pinning check) is SKIPPED"
		stage_note+="; no Temurin JDK: 21+ run skipped"
		rm -f "$log"
		return 3
	fi
	(cd bindings/java-jni && JAVA_HOME=$tem timeout 1500 mvn -B -ntp test) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note+="; $(basename "$tem"): $(java_tests_run "$log")"
	rm -f "$log"
	return "$rc"
}

st_java_asan() {
	local jdk17 log rc
	jdk17=$(ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -n1)
	[ -n "$jdk17" ] || { stage_note="no JDK 17 under /usr/lib/jvm"; return 1; }
	log=$(mktemp)
	(cd bindings/java-jni && JAVA_HOME=$jdk17 mvn -B -q -ntp test-compile &&
		JAVA_HOME=$jdk17 timeout 1500 bash asan-test.sh) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note="$(java_tests_run "$log")"
	grep -q 'ERROR: AddressSanitizer\|runtime error' "$log" && rc=1
	rm -f "$log"
	return "$rc"
}

# The same suite with the addon and the core built with ASan+UBSan and
# preloaded into node (npm run test:asan).
st_node_asan() {
	local log rc
	log=$(mktemp)
	(cd bindings/node && timeout 1200 npm run test:asan) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(grep -E '^# (pass|fail) ' "$log" | tr '\n' ' ')
	grep -q 'ERROR: AddressSanitizer\|runtime error:' "$log" && { stage_note="$stage_note sanitizer report"; rc=1; }
	rm -f "$log"
	return "$rc"
}

# The cross-language tests (tests/cross/run), after the bindings' stages
# whose builds they reuse, as the demo does; on CI nothing may be skipped.
st_cross() {
	local log rc
	log=$(mktemp)
	XCHAN_CROSS_STRICT=1 timeout 1200 bash tests/cross/run 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	stage_note=$(awk '/^── summary/{s=1; next} s && $3 ~ /^(PASS|FAIL|SKIP)$/{printf "%s%s %s %s", sep, $1, $2, $3; sep=", "}' "$log")
	rm -f "$log"
	return "$rc"
}

# ---- run --------------------------------------------------------------------

echo "xchan ci/test.sh: $(nproc) cores, $(uname -sm), $(cc --version | head -n1)"
stage build st_build
stage test st_test build
stage headers st_headers build
stage symbols st_symbols build
stage asan st_asan
stage tsan st_tsan
stage ucontext st_ucontext
stage aarch64 st_aarch64
stage valgrind st_valgrind build
stage stress-tsan st_stress_tsan
stage fuzz st_fuzz
stage format st_format
stage swig st_swig build
stage python st_python
stage python-asan st_python_asan
stage node st_node
stage node-asan st_node_asan node
stage java st_java
stage java-asan st_java_asan
# After the bindings' stages: the demo reuses their builds.
stage demo st_demo build
stage conformance st_conformance build
stage cross st_cross build

passed=0
failed=0
echo
echo "=== summary ($((SECONDS - t_start)) s)"
for i in "${!names[@]}"; do
	printf '  %-11s %-4s %5s s  %s\n' "${names[$i]}" "${results[$i]}" \
		"${times[$i]}" "${notes[$i]}"
	if [ "${results[$i]}" = FAIL ]; then
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
