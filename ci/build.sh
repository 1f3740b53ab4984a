#!/usr/bin/env bash
# ci/build.sh NAME [cmake args...] — configure and build xchan with Ninja.
#
# NAME "default" builds into build/ (the tree `make demo` and `make build`
# use); any other NAME builds into build-NAME/.  The remaining arguments go
# to cmake at configure time, e.g.
#
#   ci/build.sh asan -DXCHAN_SANITIZER=address
#   ci/build.sh default -DCMAKE_BUILD_TYPE=Release
#
# Environment: XCHAN_JOBS (default 2: the CI machine has two cores);
# XCHAN_QUIET_BUILD=1 keeps the compiler output in DIR/build.log unless the
# build fails.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: ci/build.sh NAME [cmake args...]" >&2
	exit 2
fi
name=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$name" = default ]; then
	dir=$root/build
else
	dir=$root/build-$name
fi

generator=()
# A tree configured before keeps its generator; a new one gets Ninja when
# available (ci/deps.sh installs it).
if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
	generator=(-G Ninja)
fi

mkdir -p "$dir"
# Configure quietly; the log stays in the tree and is shown on failure.
cmake -S "$root" -B "$dir" "${generator[@]}" "$@" >"$dir/configure.log" 2>&1 || {
	cat "$dir/configure.log" >&2
	echo "ci/build.sh: cmake configure failed for $dir" >&2
	exit 1
}
if [ "${XCHAN_QUIET_BUILD:-0}" = 1 ]; then
	# Quiet mode (make demo/build): one line, the log only on failure.
	echo "building $(basename "$dir")/ ..."
	cmake --build "$dir" --parallel "${XCHAN_JOBS:-2}" >"$dir/build.log" 2>&1 || {
		tail -n 60 "$dir/build.log" >&2
		echo "ci/build.sh: build failed (full log: $dir/build.log)" >&2
		exit 1
	}
else
	cmake --build "$dir" --parallel "${XCHAN_JOBS:-2}"
fi
