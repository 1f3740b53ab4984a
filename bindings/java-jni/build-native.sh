#!/usr/bin/env bash
# build-native.sh ROOT BUILD_DIR CLASSES_DIR JAVA_HOME
# Called by Maven (exec-maven-plugin, phase process-classes).  Configures and
# builds src/main/c/CMakeLists.txt: libxchanjni.so (the xchan core linked in
# statically, only JNI symbols exported) and tests/cross/java's test library.
# Copies libxchanjni.so to CLASSES_DIR/io/xchan/native/linux-<arch>/ so the
# jar carries it.  XCHAN_JAVA_BUILD_TYPE (default Release) and
# XCHAN_JOBS (default 2) tune the build.
set -euo pipefail
root=$(cd "$1" && pwd)
build=$2
classes=$3
java_home=$4
here=$(cd "$(dirname "$0")" && pwd)
case "$(uname -m)" in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
*) arch=$(uname -m) ;;
esac
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
[ -f "$build/CMakeCache.txt" ] && gen=()
cmake -S "$here/src/main/c" -B "$build" "${gen[@]}" \
	-DCMAKE_BUILD_TYPE="${XCHAN_JAVA_BUILD_TYPE:-Release}" \
	-DXCHAN_ROOT="$root" -DJAVA_HOME="$java_home" >/dev/null
cmake --build "$build" -j"${XCHAN_JOBS:-2}"
dest="$classes/io/xchan/native/linux-$arch"
mkdir -p "$dest"
cp "$build/libxchanjni.so" "$dest/libxchanjni.so"
echo "build-native.sh: $dest/libxchanjni.so"
