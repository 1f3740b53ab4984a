#!/usr/bin/env bash
# examples/demo/run.sh — `make demo`: xchan at work in C, Ruby, Python, Node
# and Java, each in its own process, then a summary table.
#
#   bash examples/demo/run.sh [c ruby python node java]   (default: all)
#
# The C library examples/demo/sensors.c (build/examples/demo/
# libxchan_demo_sensors.so) produces sensor readings from pthreads; Python,
# Node and Java start it through their binding's native workers and consume
# through their bindings (see demo.py, demo.js, Demo.java).
#
# Builds: build/ comes from `make build` (the Makefile's demo targets depend
# on it).  The bindings' builds are the test stages' own, reused when they
# are newer than their sources, otherwise (re)built here:
#   Python  build-python/venv   pip install ./bindings/python
#   Node    bindings/node/build/Release/xchan.node   node scripts/build.js
#   Java    bindings/java-jni/target/xchan-*.jar     mvn -DskipTests package
# A part whose toolchain is missing is reported as skipped, with the reason;
# XCHAN_DEMO_STRICT=1 (CI) makes a skip a failure.  Exit status: 1 if any
# part failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${XCHAN_BUILD_DIR:-$root/build}
export XCHAN_DEMO_LIB=$build/examples/demo/libxchan_demo_sensors.so
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(c ruby python node java)

declare -a rows=()
failed=0
t_all=$SECONDS

bold=""
dim=""
off=""
if [ -t 1 ]; then
	bold=$'\e[1m'
	dim=$'\e[2m'
	off=$'\e[0m'
fi

header() {
	printf '\n%s── %s %s%s\n' "$bold" "$1" "$(printf '─%.0s' $(seq 1 $((60 - ${#1}))))" "$off"
}

# note TEXT: a line about what the runner does (builds), dimmed.
note() {
	printf '  %s%s%s\n' "$dim" "$1" "$off"
}

# record PART RESULT SECONDS MESSAGES MSG_PER_S WHAT
record() {
	rows+=("$1|$2|$3|$4|$5|$6")
}

# stale TARGET DIR...: true when TARGET is missing or a file under DIRs is newer.
stale() {
	local target=$1
	shift
	[ -e "$target" ] || return 0
	[ -n "$(find "$@" -newer "$target" -type f -print -quit 2>/dev/null)" ]
}

# quietly LOG CMD...: runs CMD with its output in LOG; shows LOG on failure.
quietly() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" | sed 's/^/    /'
		return 1
	fi
}

# run_part PART WHAT CMD...: runs the part's program, shows its output
# (without the @@result line) and records its result and throughput.
run_part() {
	local part=$1 what=$2 out=$logdir/$1.out t0 rc msgs secs rate
	shift 2
	t0=$(date +%s%N)
	timeout 120 "$@" >"$out" 2>"$out.err"
	rc=$?
	grep -v '^@@result ' "$out"
	grep -v -e '^WARNING: .*restricted method' -e '^WARNING: java.lang.System::load' \
		-e '^WARNING: Use --enable-native-access' -e '^WARNING: Restricted methods' \
		-e '^$' "$out.err" | sed 's/^/  /'
	secs=$((($(date +%s%N) - t0) / 1000000))
	secs=$((secs / 1000)).$(printf '%03d' $((secs % 1000)))
	if [ $rc -ne 0 ]; then
		echo "  ${bold}FAILED${off} (exit status $rc)"
		record "$part" FAILED "$secs" - - "$what"
		failed=1
		return
	fi
	read -r msgs rate < <(awk '/^@@result /{printf "%d %d\n", $2, $2 / $3}' "$out")
	# The C demo's ping-pong scene: "N round trips in M ms" = 2N messages.
	[ -z "${msgs:-}" ] && read -r msgs rate < <(awk '
		match($0, /[0-9]+ round trips in [0-9]+ ms/) {
			split(substr($0, RSTART, RLENGTH), w, " ")
			if (w[5] > 0) printf "%d %d\n", 2 * w[1], 2 * w[1] * 1000 / w[5]
		}' "$out")
	record "$part" ok "$secs" "${msgs:--}" "${rate:--}" "$what"
}

# thousands N: 1234567 -> 1,234,567 (whatever the locale)
thousands() {
	echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'
}

skip() {
	echo "  skipped: $2"
	record "$1" skipped 0 - - "$2"
	[ "${XCHAN_DEMO_STRICT:-0}" = 1 ] && failed=1
}

need_sensors() {
	if [ ! -f "$XCHAN_DEMO_LIB" ]; then
		skip "$1" "no $XCHAN_DEMO_LIB (xchan built without libffi: apt-get install libffi-dev pkg-config, then make build)"
		return 1
	fi
}

part_c() {
	header "C: examples/demo.c"
	if [ ! -x "$build/examples/xchan-demo" ]; then
		skip C "$build/examples/xchan-demo is not built (make build)"
		return
	fi
	run_part C "six core.async scenes; msg/s: go-task ping-pong" "$build/examples/xchan-demo"
}

part_ruby() {
	header "Ruby (SWIG): bindings/ruby/examples/demo.rb"
	if ! command -v ruby >/dev/null; then
		skip Ruby "ruby is not installed"
		return
	fi
	if [ ! -f "$build/bindings/ruby/lib/xchan/Raw.so" ]; then
		skip Ruby "the SWIG extension was not built (needs swig and ruby-dev, then make build)"
		return
	fi
	XCHAN_BUILD_DIR=$build run_part Ruby "SWIG binding, native workers, go, alts" \
		ruby bindings/ruby/examples/demo.rb
}

part_python() {
	local venv=build-python/venv py
	header "Python (asyncio): examples/demo/demo.py"
	need_sensors Python || return
	if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
		skip Python "python3 with venv is not installed (apt-get install python3-venv python3-dev)"
		return
	fi
	py=$venv/bin/python
	local ext
	ext=$(ls "$venv"/lib/python3*/site-packages/xchan/_xchan*.so 2>/dev/null | head -n1)
	if [ -z "$ext" ] || stale "$ext" bindings/python/src bindings/python/CMakeLists.txt core/src core/include; then
		note "installing the Python binding into $venv (pip install ./bindings/python; builds the core)..."
		[ -x "$py" ] || quietly "$logdir/venv.log" python3 -m venv "$venv" ||
			{ record Python FAILED 0 - - "python3 -m venv failed"; failed=1; return; }
		quietly "$logdir/pip.log" "$py" -m pip install -q --disable-pip-version-check ./bindings/python ||
			{ record Python FAILED 0 - - "pip install ./bindings/python failed"; failed=1; return; }
	fi
	run_part Python "asyncio: native.io_thread, mult, 2 go tasks, alts" "$py" examples/demo/demo.py
}

part_node() {
	local addon=bindings/node/build/Release/xchan.node
	header "Node (async + worker_threads): examples/demo/demo.js"
	need_sensors Node || return
	if ! command -v node >/dev/null; then
		skip Node "node is not installed (ci/deps.sh test installs nodejs, npm, libnode-dev)"
		return
	fi
	if stale "$addon" bindings/node/src bindings/node/CMakeLists.txt core/src core/include; then
		note "building the Node addon (node bindings/node/scripts/build.js; builds the core)..."
		quietly "$logdir/node-build.log" node bindings/node/scripts/build.js ||
			{ record Node FAILED 0 - - "building the addon failed"; failed=1; return; }
	fi
	XCHAN_NODE_MODULE=bindings/node run_part Node "async go task + worker takeSync, mult, alts" \
		node examples/demo/demo.js
}

# The newest JDK (17+) under JAVA_HOME or /usr/lib/jvm, preferring one
# with virtual threads (21+).
find_jdk() {
	local j v best="" best_v=0
	for j in ${JAVA_HOME:-} /usr/lib/jvm/*/; do
		[ -x "$j/bin/java" ] && [ -x "$j/bin/javac" ] || continue
		v=$("$j/bin/java" -XshowSettings:properties -version 2>&1 |
			awk -F'= ' '/java.specification.version/{print $2}')
		v=${v%%.*}
		if [ "${v:-0}" -ge 17 ] 2>/dev/null && [ "$v" -gt "$best_v" ]; then
			best=${j%/}
			best_v=$v
		fi
	done
	[ -n "$best" ] && echo "$best"
}

part_java() {
	local jdk jar
	header "Java (virtual threads): examples/demo/Demo.java"
	need_sensors Java || return
	if ! jdk=$(find_jdk); then
		skip Java "no JDK 17+ under JAVA_HOME or /usr/lib/jvm (ci/deps.sh test installs openjdk-17-jdk)"
		return
	fi
	jar=$(ls bindings/java-jni/target/xchan-*.jar 2>/dev/null | grep -v -e sources -e javadoc | head -n1)
	if [ -z "$jar" ] || stale "$jar" bindings/java-jni/src/main bindings/java-jni/pom.xml core/src core/include; then
		if ! command -v mvn >/dev/null; then
			skip Java "Maven is not installed (ci/deps.sh test installs it)"
			return
		fi
		note "building the Java binding (mvn -DskipTests package; builds the core and the JNI library)..."
		(cd bindings/java-jni && JAVA_HOME=$jdk quietly "$logdir/mvn.log" mvn -B -q -ntp -DskipTests package) ||
			{ record Java FAILED 0 - - "mvn package failed"; failed=1; return; }
		jar=$(ls bindings/java-jni/target/xchan-*.jar | grep -v -e sources -e javadoc | head -n1)
	fi
	# JDK 22+ warns about System.load without it; 17 knows it too.
	local native_access=--enable-native-access=ALL-UNNAMED
	# Compiled once into build/demo-java (the JVM then starts in a blink).
	local classes=$build/demo-java
	if stale "$classes/Demo.class" examples/demo/Demo.java "$jar"; then
		mkdir -p "$classes"
		quietly "$logdir/javac.log" "$jdk/bin/javac" -d "$classes" -cp "$jar" examples/demo/Demo.java ||
			{ record Java FAILED 0 - - "javac Demo.java failed"; failed=1; return; }
	fi
	run_part Java "NativeWorkers, mult, go + ioThread (virtual threads), alts" \
		"$jdk/bin/java" $native_access -cp "$jar:$classes" Demo
}

echo "${bold}xchan demo${off}: core.async channels in one C library, shared by every language."
echo "C pthreads (examples/demo/sensors.c) produce readings; Python, Node and Java start"
echo "them through their binding's native workers and consume them through their bindings."

for p in "${parts[@]}"; do
	case $p in
	c) part_c ;;
	ruby) part_ruby ;;
	python) part_python ;;
	node) part_node ;;
	java) part_java ;;
	*)
		echo "run.sh: unknown part '$p' (c ruby python node java)" >&2
		exit 2
		;;
	esac
done

header "summary"
printf '  %-7s %-8s %7s %10s %10s   %s\n' part result time messages msg/s "what it showed"
for row in "${rows[@]}"; do
	IFS='|' read -r part result secs msgs rate what <<<"$row"
	msgs=$(thousands "$msgs")
	rate=$(thousands "$rate")
	printf '  %-7s %-8s %6.1fs %10s %10s   %s\n' "$part" "$result" "$secs" "$msgs" "$rate" "$what"
done
echo "  (Python, Node, Java: readings C pthreads produced and the language consumed; msg/s"
echo "   counts each once, though the mult delivers it to two consumers.  C: the messages"
echo "   of its go-task ping-pong over unbuffered channels.)"
printf '  total %d s\n' $((SECONDS - t_all))
exit "$failed"
