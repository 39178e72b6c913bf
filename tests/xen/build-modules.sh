#!/usr/bin/env bash
# Build xen-blkfront-pgnt.ko and xen-blkback-pgnt.ko for one exact kernel.
# Usage: build-modules.sh KVER HEADERS_BUILD_DIR OUTDIR
# The sources are COPIED to a scratch dir first (others build in the repo
# tree concurrently). Results are cached by (kver, source hash).
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

[ $# -eq 3 ] || die "usage: $0 KVER HEADERS_BUILD_DIR OUTDIR"
kver=$1 headers=$2 out=$3
SRC=(Kbuild common blkfront-pgnt blkback-pgnt)
[ -f "$headers/Makefile" ] || die "no kernel headers at $headers"

srchash=$(cd "$XR_REPO" && find "${SRC[@]}" -type f \( -name '*.[ch]' -o -name 'Kbuild' -o -name 'Makefile' \) \
	-print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
cached="$XR_CACHE/modules/$kver/$srchash"
if [ ! -f "$cached/done" ]; then
	scratch=$(mktemp -d /var/tmp/xen-blk-pgnt-modbuild.XXXXXX)
	trap 'rm -rf "$scratch"' EXIT
	for s in "${SRC[@]}"; do
		[ -e "$XR_REPO/$s" ] || die "module source $s missing in $XR_REPO"
		rsync -a --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' --exclude='*.mod*' "$XR_REPO/$s" "$scratch/"
	done
	log "modules: building for $kver (sources $srchash)"
	if ! make -C "$headers" M="$scratch" modules >"$scratch/build.log" 2>&1; then
		tail -n 40 "$scratch/build.log" >&2
		die "module build for $kver failed"
	fi
	mkdir -p "$cached"
	find "$scratch" -name '*.ko' -exec cp {} "$cached/" \;
	cp "$scratch/build.log" "$cached/"
	touch "$cached/done"
else
	log "modules: cache hit for $kver (sources $srchash)"
fi
mkdir -p "$out"
cp "$cached"/*.ko "$out/"
for ko in "$out"/*.ko; do
	vm=$(modinfo -F vermagic "$ko")
	[ "${vm%% *}" = "$kver" ] || die "$ko has vermagic '$vm', expected $kver"
	log "modules: $(basename "$ko") vermagic ${vm%% *}"
done
