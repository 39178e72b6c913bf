# shellcheck shell=bash
# Host-side helpers shared by deps.sh, build-images.sh, build-modules.sh, rig.sh and demo.sh.
# Sourced, never executed.

XR_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this
XR_REPO=$(cd "$XR_DIR/../.." && pwd)
# Everything the rig builds lives under one cache root; losing it only costs time.
XR_CACHE=${XR_CACHE:-/var/cache/xen-blk-pgnt/rig}
XR_MIRROR=${XR_MIRROR:-http://deb.debian.org/debian}
XR_SUITE=${XR_SUITE:-bookworm}
XR_T0=${XR_T0:-$(date +%s)}
export XR_T0

# log MSG...: progress line with the elapsed time since the top-level script started.
log() {
	local now
	now=$(date +%s)
	printf '[%4ds] %s\n' "$((now - XR_T0))" "$*"
}

die() {
	log "FATAL: $*" >&2
	exit 1
}

# hash_files FILE...: one sha256 over the names and contents of the given files.
hash_files() {
	local f
	for f in "$@"; do
		printf '%s\n' "${f#"$XR_DIR"/}"
		cat "$f"
	done | sha256sum | cut -c1-16
}

# require_root: the image build and module build need root (debootstrap, chroot).
require_root() {
	[ "$(id -u)" = 0 ] || die "run as root"
}
