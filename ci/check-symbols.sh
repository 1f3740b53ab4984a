#!/usr/bin/env bash
# ci/check-symbols.sh [--update] [LIB] — the exported-symbol check (STYLE
# rules 3 and 12).  LIB defaults to build/libxchan.so.
#
# Fails when
#   - the library exports a symbol that does not start with xchan_, or
#   - the sorted list of exported symbols differs from core/xchan.abi
#     (a diff is printed), or
#   - the library exports an xchan_ symbol no public header declares.
# Reports (without failing) functions the public headers declare that the
# library does not export yet.
#
# --update rewrites core/xchan.abi from LIB: a deliberate act (`make
# abi-update`), reviewed like any ABI change (docs/api-stability.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
update=0
if [ "${1:-}" = --update ]; then
	update=1
	shift
fi
lib=${1:-$root/build/libxchan.so}
abi=$root/core/xchan.abi

if [ ! -f "$lib" ]; then
	echo "check-symbols: $lib not found (run 'make build' first)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, names only.  Linkers of some versions add the
# section markers below to every shared library; they are not ours to check.
# The version nodes of core/xchan.map (absolute symbols such as XCHAN_0.1)
# are not functions either.
nm -D --defined-only "$lib" | awk 'NF >= 3 && !($2 == "A" && $3 ~ /^XCHAN_/) { print $3 }' \
	>"$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" |
	{ grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' || true; } |
	LC_ALL=C sort -u >"$tmp/exported"

# Functions declared by the public headers: the identifier before the first
# '(' on each XCHAN_API line.
cat "$root"/core/include/xchan/*.h |
	grep -E '^[[:space:]]*XCHAN_API\b' |
	grep -Eo '\bxchan_[A-Za-z0-9_]+[[:space:]]*\(' |
	sed 's/[[:space:]]*($//' | LC_ALL=C sort -u >"$tmp/declared" || true

if [ $update -eq 1 ]; then
	{
		echo "# Exported symbols of libxchan.so, one per line, sorted (LC_ALL=C)."
		echo "# Checked by ci/check-symbols.sh; regenerate deliberately with"
		echo "# 'make abi-update' (see docs/api-stability.md)."
		cat "$tmp/exported"
	} >"$abi"
	echo "check-symbols: wrote $(wc -l <"$tmp/exported") symbols to core/xchan.abi"
	exit 0
fi

fail=0
# Every exported function carries an ELF symbol version (core/xchan.map).
unversioned=$(grep '^xchan_' "$tmp/versioned" | grep -v '@@\?XCHAN_' || true)
if [ -n "$unversioned" ]; then
	echo "check-symbols: FAIL: exported without a symbol version (core/xchan.map):"
	sed 's/^/  /' <<<"$unversioned"
	fail=1
fi

# The function table (xchan_ext.h) has one field per function of xchan.h
# and xchan_combinators.h, named without the prefix.
cat "$root"/core/include/xchan/xchan.h "$root"/core/include/xchan/xchan_combinators.h |
	grep -E '^[[:space:]]*XCHAN_API\b' |
	grep -Eo '\bxchan_[A-Za-z0-9_]+[[:space:]]*\(' |
	sed 's/[[:space:]]*($//; s/^xchan_//' | LC_ALL=C sort -u >"$tmp/api_want"
sed -n '/^struct xchan_api {/,/^};/p' "$root"/core/include/xchan/xchan_ext.h |
	tr '\n' ' ' | grep -Eo '\([[:space:]]*\*[A-Za-z0-9_]+\)' |
	tr -d '()* \t' | LC_ALL=C sort -u >"$tmp/api_have"
missing_api=$(LC_ALL=C comm -23 "$tmp/api_want" "$tmp/api_have" || true)
if [ -n "$missing_api" ]; then
	echo "check-symbols: FAIL: public functions missing from struct xchan_api" \
		"(append them at its end, xchan_ext.h, and to core/src/api.c):"
	sed 's/^/  xchan_/' <<<"$missing_api"
	fail=1
fi

foreign=$(grep -Ev '^xchan_[A-Za-z0-9]' "$tmp/exported" || true)
if [ -n "$foreign" ]; then
	echo "check-symbols: FAIL: exported symbols that are not public xchan_ names:"
	sed 's/^/  /' <<<"$foreign"
	fail=1
fi

undeclared=$(LC_ALL=C comm -23 "$tmp/exported" "$tmp/declared" | grep '^xchan_' || true)
if [ -n "$undeclared" ]; then
	echo "check-symbols: FAIL: exported but declared in no public header" \
		"(give them hidden visibility or declare them):"
	sed 's/^/  /' <<<"$undeclared"
	fail=1
fi

if [ ! -f "$abi" ]; then
	echo "check-symbols: FAIL: core/xchan.abi is missing (make abi-update)"
	fail=1
else
	grep -Ev '^[[:space:]]*(#|$)' "$abi" | LC_ALL=C sort -u >"$tmp/abi"
	if ! diff -u --label core/xchan.abi --label "$(basename "$lib")" \
		"$tmp/abi" "$tmp/exported" >"$tmp/diff"; then
		echo "check-symbols: FAIL: exported symbols differ from core/xchan.abi" \
			"(- only in core/xchan.abi, + only in the library):"
		cat "$tmp/diff"
		echo "If the change is intended, run 'make abi-update' and commit core/xchan.abi."
		fail=1
	fi
fi

missing=$(LC_ALL=C comm -13 "$tmp/exported" "$tmp/declared" || true)
if [ -n "$missing" ]; then
	echo "check-symbols: note: $(wc -l <<<"$missing") functions declared in" \
		"the public headers are not exported (not implemented yet?):"
	sed 's/^/  /' <<<"$missing" | head -n 40
fi

if [ $fail -eq 0 ]; then
	echo "check-symbols: OK: $(wc -l <"$tmp/exported") exported symbols, all xchan_*, match core/xchan.abi"
fi
exit $fail
