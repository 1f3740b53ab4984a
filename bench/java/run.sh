#!/usr/bin/env bash
# bench/java/run.sh [N] [REPEATS] — row 16 of bench/README.md.
# Installs the binding (bindings/java-jni, tests skipped) into ~/.m2, builds
# this harness, and runs it on the Temurin JDK (virtual-thread rows) and, if
# XCHAN_BENCH_JDK17=1, on JDK 17 too.  JAVA_HOME picks another JDK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-1000000}
repeats=${2:-5}
(cd "$here/../../bindings/java-jni" && mvn -B -q -ntp install -DskipTests >/dev/null)
cd "$here"
mvn -B -q -ntp package dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null
cp="target/classes:$(cat target/cp.txt)"
jdks=()
if [ -n "${JAVA_HOME:-}" ]; then
	jdks+=("$JAVA_HOME")
else
	tem=$(ls -d /usr/lib/jvm/temurin-*-jdk-* 2>/dev/null | sort -V | tail -n1)
	[ -n "$tem" ] && jdks+=("$tem")
	[ "${XCHAN_BENCH_JDK17:-0}" = 1 ] && jdks+=("$(ls -d /usr/lib/jvm/java-17-openjdk-* | head -n1)")
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for jdk in "${jdks[@]}"; do
	"$jdk/bin/java" --enable-native-access=ALL-UNNAMED -Xms512m -Xmx512m -cp "$cp" bench.Row16 "$n" "$repeats"
done
