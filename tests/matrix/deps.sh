#!/bin/bash
# Install the host packages the build matrix needs (Debian 12, as root).
# Idempotent: does nothing (and no apt-get update) when all are present.
set -euo pipefail

PKGS=(
	apt ca-certificates debian-archive-keyring # private apt views
	debootstrap util-linux                     # sid chroot, unshare
	dpkg xz-utils tar rsync                    # unpacking, scratch copies
	make gcc-12 gcc libc6-dev binutils bc      # host-side kernel builds
	dwarves                                    # pahole: BTF for 6.12
	libelf1 libssl3 zlib1g                     # what linux-kbuild binaries link
	libisl23 libmpc3 libmpfr6 libgmp10 libzstd1 # what the unpacked gcc-10 links
	sparse                                     # sparse 0.6.4 for <= 6.12
	perl                                       # checkpatch.pl
	bsdextrautils                              # column, for the table
)

missing=()
for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || s=''
	[[ $s == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "[matrix] installing host packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no (or old) package lists: update first.
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
