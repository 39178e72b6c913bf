# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by tests/dkms-check.sh and tests/pkg-check.sh: the kernel they
# build for and the check that DKMS installed both modules for it.

DKMS_NAME=xen-blk-pgnt
DKMS_VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../dkms.conf")

# dkms_kver [KVER]: KVER, else the newest kernel whose headers are installed.
dkms_kver() {
	echo "${1:-$(ls -d /lib/modules/*/build 2>/dev/null | sed 's#/lib/modules/##; s#/build##' | sort -V | tail -1)}"
}

# dkms_installed TAG KVER: dkms says installed for KVER, and both modules
# resolve to updates/dkms with our version; says why on stdout if not.
dkms_installed() {
	local m path got
	dkms status -m "$DKMS_NAME" -v "$DKMS_VER" -k "$2" | grep -q installed ||
		{ echo "$1: dkms status does not say installed for $2"; return 1; }
	for m in xen_blkfront_pgnt xen_blkback_pgnt; do
		path=$(modinfo -k "$2" -n "$m")
		case $path in
		/lib/modules/"$2"/updates/dkms/*) ;;
		*) echo "$1: $m resolves to '$path', not updates/dkms"; return 1 ;;
		esac
		got=$(modinfo -k "$2" -F version "$m")
		[ "$got" = "$DKMS_VER" ] || { echo "$1: $m version '$got' != $DKMS_VER"; return 1; }
		echo "$1: $m $got installed for $2 at $path"
	done
}
