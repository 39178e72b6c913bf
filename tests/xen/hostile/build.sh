#!/usr/bin/env bash
# Build the hostile test frontend (pgnt-hostile.ko) for one kernel.
# Usage: build.sh KVER HEADERS_BUILD_DIR OUTDIR
# Called by tests/xen/build-modules.sh; a test tool, never packaged. Built
# from a scratch copy (others build in the work tree at the same time).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 KVER HEADERS_BUILD_DIR OUTDIR" >&2; exit 3; }
kver=$1 headers=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$headers/Makefile" ] || { echo "hostile: no kernel headers at $headers, not built" >&2; exit 1; }
scratch=$(mktemp -d /var/tmp/xen-blk-pgnt-hostile.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cp "$here/Kbuild" "$here/pgnt-hostile.c" "$scratch/"
if ! make -C "$headers" M="$scratch" modules >"$scratch/build.log" 2>&1; then
	tail -n 20 "$scratch/build.log" >&2
	echo "hostile: build for $kver FAILED" >&2
	exit 1
fi
mkdir -p "$out"
cp "$scratch/pgnt-hostile.ko" "$out/"
echo "hostile: pgnt-hostile.ko built for $kver"
