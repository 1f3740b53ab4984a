#!/usr/bin/env bash
# asan-test.sh [JAVA_HOME] — the JUnit suite against a Debug build of the JNI
# library and the core with ASan+UBSan (target/native-asan), libasan and
# libubsan preloaded into the forked JVM.  Leak detection is off (the JVM
# does not free everything at exit); the leak test still checks global refs
# and the C heap.  Run `mvn test-compile` (or the normal build) first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && export JAVA_HOME=$1
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
build=$here/target/native-asan
cmake -S "$here/src/main/c" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DXCHAN_ROOT="$here/../.." -DJAVA_HOME="$java_home" -DXCHAN_SANITIZER=address \
	-DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	-DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j"${XCHAN_JOBS:-2}"
cd "$here"
LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	mvn -B -ntp surefire:test -DargLine="--enable-native-access=ALL-UNNAMED -Dxchan.library.path=$build/libxchanjni.so -Dxchan.test.native=$build -Djdk.virtualThreadScheduler.parallelism=2 -Djdk.virtualThreadScheduler.maxPoolSize=2"
