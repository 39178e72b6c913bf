#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms-check.sh [KVER]
#
# Adds, builds and installs the package with DKMS for KVER (default: the
# newest Debian kernel whose headers are installed), checks that both
# modules land in updates/dkms with our version, then removes the package
# again so no later kernel install rebuilds it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
name=xen-blk-pgnt
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src_ver=$(sed -n 's/^#define PGNT_VERSION[[:space:]]*"\(.*\)"/\1/p' "$top/common/pgnt.h")
if [ "$ver" != "$src_ver" ]; then
	echo "dkms-check: dkms.conf PACKAGE_VERSION $ver != PGNT_VERSION $src_ver"
	exit 1
fi
kver=${1:-$(ls -d /lib/modules/*/build 2>/dev/null | sed 's#/lib/modules/##; s#/build##' | sort -V | tail -1)}
[ -n "$kver" ] || { echo "dkms-check: no kernel headers installed"; exit 1; }
command -v dkms >/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms
}

stage=/usr/src/$name-$ver
cleanup() {
	dkms remove -m "$name" -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "$stage"
}
trap cleanup EXIT
cleanup
make -s -C "$top" install-src DESTDIR=
dkms add -m "$name" -v "$ver"
dkms build -m "$name" -v "$ver" -k "$kver"
dkms install -m "$name" -v "$ver" -k "$kver"
dkms status -m "$name" -v "$ver" -k "$kver" | grep -q installed ||
	{ echo "dkms-check: dkms status does not say installed"; exit 1; }
for m in xen_blkfront_pgnt xen_blkback_pgnt; do
	path=$(modinfo -k "$kver" -n "$m")
	case $path in
	/lib/modules/"$kver"/updates/dkms/*) ;;
	*) echo "dkms-check: $m resolves to '$path', not updates/dkms"; exit 1 ;;
	esac
	got=$(modinfo -k "$kver" -F version "$m")
	[ "$got" = "$ver" ] || { echo "dkms-check: $m version '$got' != $ver"; exit 1; }
	echo "dkms-check: $m $got installed for $kver at $path"
done
