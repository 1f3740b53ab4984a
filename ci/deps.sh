#!/usr/bin/env bash
# ci/deps.sh — install the build and test tools xchan needs, only those that
# are missing.  Idempotent and quiet: a machine that has everything does not
# touch apt at all.  Runs as root (CI) or through sudo (a developer machine).
#
#   ci/deps.sh [demo|test]       "demo" adds Node, Maven and a JDK for the
#                                cross-language demo; "test" adds those and
#                                the aarch64 stage's tools
#   XCHAN_DEPS_EXTRA="pkg ..."   more Debian packages to make sure of
set -euo pipefail

# Debian package name -> a command that proves it is installed.
declare -A probe=(
	[cmake]=cmake
	[ninja-build]=ninja
	[gcc]=gcc
	[g++]=g++
	[clang-format]=clang-format
	[valgrind]=valgrind
	[python3]=python3
	[make]=make
	[binutils]=nm
	[util-linux]=setarch
	[clang]=clang
	# native workers (xchan_native_run) and the SWIG binding (bindings/ruby)
	[pkg-config]=pkg-config
	[libffi-dev]=true
	[swig]=swig
	[ruby]=ruby
	[ruby-dev]=true
	# the Python binding (bindings/python): a venv, Python.h
	[python3-venv]=true
	[python3-dev]=true
	# cJSON: the conformance suite's C runner parses its cases with it.
	[libcjson-dev]=true
)
# `ci/deps.sh test` adds what only the test run needs: the aarch64 stage's
# cross compiler, its libc and the user-mode emulator; Node, npm and the
# Node-API headers for the node stage.
# `ci/deps.sh demo` adds what the cross-language demo needs beyond the
# build: Node, npm and the Node-API headers, Maven and JDK 17 (`test`
# includes all of it).
want_demo=""
case "${1:-}" in test | demo) want_demo=1 ;; esac
if [ "${1:-}" = test ]; then
	probe[gcc-aarch64-linux-gnu]=aarch64-linux-gnu-gcc
	probe[libc6-dev-arm64-cross]=true
	probe[qemu-user]=qemu-aarch64
fi
if [ -n "$want_demo" ]; then
	probe[nodejs]=node
	probe[npm]=npm
	# the java stage: Maven and JDK 17 (the Temurin JDK comes with the
	# machine image; the stage skips its run when there is none)
	probe[maven]=mvn
	probe[openjdk-17-jdk]=true
fi

missing=()
for pkg in "${!probe[@]}"; do
	if [ "${probe[$pkg]}" = true ]; then
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	else
		command -v "${probe[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
	fi
done
# The node stage builds against the running Node's headers (Debian ships
# them in libnode-dev; NodeSource's nodejs carries them itself).
if [ -n "$want_demo" ] && ! [ -f /usr/include/node/node_api.h ] &&
	! { command -v node >/dev/null 2>&1 &&
		[ -f "$(dirname "$(readlink -f "$(command -v node)")")/../include/node/node_api.h" ]; }; then
	missing+=(libnode-dev)
fi
# The fuzz stage links clang's libFuzzer and sanitizer runtimes: Debian 12's
# clang only recommends them (libclang-rt-dev), which --no-install-recommends
# skips.
if ! command -v clang >/dev/null 2>&1 ||
	! [ -f "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]; then
	missing+=(libclang-rt-dev)
fi
for pkg in ${XCHAN_DEPS_EXTRA:-}; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ci/deps.sh: missing ${missing[*]}, and this is not a Debian/Ubuntu" \
		"machine: install them with your package manager" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "ci/deps.sh: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
fi

echo "ci/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# apt is chatty on stderr even when it works; show its output only on failure.
if ! { $sudo apt-get update -qq &&
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
	>"$log" 2>&1; then
	cat "$log" >&2
	echo "ci/deps.sh: apt-get failed" >&2
	exit 1
fi
