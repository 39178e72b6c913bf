#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs what building the modules, the packages and the unit tests need
# on a fresh Debian 12 machine (root): a compiler, make, python3, Debian's
# kernel headers, DKMS and the packaging tools (dpkg-dev, debhelper, dh-dkms,
# rpm).  The matrix and the Xen rig install their own extras
# (tests/matrix/deps.sh, tests/xen/deps.sh).  Quick when all is there.
set -euo pipefail

pkgs=(make gcc libc6-dev python3 rsync kmod dkms linux-headers-amd64 git dpkg-dev debhelper dh-dkms rpm)
missing=()
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
