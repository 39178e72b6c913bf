#!/usr/bin/env bash
# Install the host packages the Xen rig needs on Debian 12. Idempotent: when
# everything is present it only runs dpkg-query and exits.
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

PKGS=(qemu-system-x86 qemu-utils debootstrap e2fsprogs cpio rsync zstd xz-utils gzip
	make gcc-12 gcc libelf-dev bc flex bison kmod dpkg-dev curl ca-certificates
	coreutils util-linux bsdextrautils python3)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	log "deps: all ${#PKGS[@]} host packages present"
	exit 0
fi
require_root
log "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Empty or stale package lists make apt-get install fail to find anything.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
log "deps: done"
