#!/usr/bin/env bash
# ci/format-check.sh — lists the C files under core/, examples/, tests/cross/,
# tests/conformance/runners/c, bindings/python/src/ and
# bindings/java-jni/src/main/c that clang-format (with the committed
# .clang-format) would change.  Exit 0 when none would,
# 1 otherwise, 2 when clang-format is missing.  `make format` rewrites them.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v clang-format >/dev/null 2>&1; then
	echo "format-check: clang-format not found (ci/deps.sh installs it)"
	exit 2
fi

files=$(find core examples tests/cross tests/fuzz tests/gochan tests/conformance/runners/c bindings/python/src bindings/java-jni/src/main/c bindings/node/src bindings/node/include -name '*.[ch]' -not -path '*/vendor/*' 2>/dev/null | LC_ALL=C sort)
total=0
bad=()
for f in $files; do
	total=$((total + 1))
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "format-check: all $total files match .clang-format"
	exit 0
fi
echo "format-check: warning: ${#bad[@]} of $total files differ from .clang-format" \
	"($(clang-format --version | grep -Eo 'version [0-9.]+')):"
for f in "${bad[@]}"; do
	n=$(clang-format "$f" | diff "$f" - | grep -c '^>' || true)
	echo "  $f ($n lines would change)"
done
exit 1
