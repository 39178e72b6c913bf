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
# shellcheck source=dkms-lib.sh
. "$top/tests/dkms-lib.sh"
name=$DKMS_NAME ver=$DKMS_VER
src_ver=$(sed -n 's/^#define PGNT_VERSION[[:space:]]*"\(.*\)"/\1/p' "$top/common/pgnt.h")
if [ "$ver" != "$src_ver" ]; then
	echo "dkms-check: dkms.conf PACKAGE_VERSION $ver != PGNT_VERSION $src_ver"
	exit 1
fi
kver=$(dkms_kver "${1:-}")
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
dkms_installed dkms-check "$kver"
