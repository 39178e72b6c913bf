#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pkg-check.sh [KVER]
#
# Builds the Debian package (debian/) and the RPM (rpm/) from a copy of the
# tracked files, and checks that:
#   - the package versions equal dkms.conf's PACKAGE_VERSION;
#   - both ship exactly the tree `make install-src` makes under /usr/src;
#   - installing the .deb makes DKMS build and install both modules for
#     KVER (default: the newest Debian kernel whose headers are installed),
#     and purging it removes them again;
#   - the RPM's scriptlets add, build and remove the DKMS module.
# The RPM cannot be installed on Debian (no rpm database of dkms); building
# it and reading its scriptlets is what can be checked here.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=dkms-lib.sh
. "$top/tests/dkms-lib.sh"
name=$DKMS_NAME ver=$DKMS_VER
fail() { echo "pkg-check: $*"; exit 1; }

deb_ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
rpm_ver=$(sed -n 's/^Version:[[:space:]]*//p' "$top/rpm/$name-dkms.spec")
[ "$deb_ver" = "$ver" ] || fail "debian/changelog version $deb_ver != dkms.conf $ver"
[ "$rpm_ver" = "$ver" ] || fail "rpm spec version $rpm_ver != dkms.conf $ver"

work=$(mktemp -d /var/tmp/pkg-check.XXXXXX)
cleanup() {
	dpkg -P "$name-dkms" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# The sources as a clone would have them: tracked files (and new ones not
# ignored), no build products.
mkdir -p "$work/src" "$work/rpm/SOURCES" "$work/ref"
(cd "$top" && git ls-files -co --exclude-standard) >"$work/files"
rsync -a --files-from="$work/files" "$top/" "$work/src/"
make -s -C "$work/src" install-src DESTDIR="$work/ref"
(cd "$work/ref" && find usr -type f | sort) >"$work/ref.list"

# Debian.
(cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/deb.log" 2>&1 ||
	{ tail -20 "$work/deb.log"; fail "dpkg-buildpackage failed"; }
deb=$work/$name-dkms_${ver}_all.deb
[ -f "$deb" ] || fail "no $deb"
dpkg-deb -c "$deb" >"$work/deb.contents"
awk '{ print $6 }' "$work/deb.contents" | sed -n 's#^\./\(usr/src/.*[^/]\)$#\1#p' | sort >"$work/deb.list"
diff -u "$work/ref.list" "$work/deb.list" || fail ".deb's /usr/src differs from make install-src"
grep -q ' \./usr/share/doc/xen-blk-pgnt-dkms/examples/xen-blk-pgnt\.modprobe\.conf$' "$work/deb.contents" ||
	fail ".deb lacks the modprobe.d example"
echo "pkg-check: $(basename "$deb"): $(wc -l <"$work/deb.list") files under /usr/src, as install-src, and the modprobe.d example"

# RPM: Source0 is the tracked tree as name-version/.
tar -C "$work/src" -czf "$work/rpm/SOURCES/$name-$ver.tar.gz" --transform "s,^\./,$name-$ver/," .
rpmbuild --define "_topdir $work/rpm" -bb "$top/rpm/$name-dkms.spec" >"$work/rpm.log" 2>&1 ||
	{ tail -20 "$work/rpm.log"; fail "rpmbuild failed"; }
rpm=$(ls "$work"/rpm/RPMS/noarch/"$name"-dkms-"$ver"-*.noarch.rpm)
rpm -qlp "$rpm" >"$work/rpm.contents"
sed -n 's#^/\(usr/src/.*\)#\1#p' "$work/rpm.contents" | while read -r f; do
	[ -d "$work/ref/$f" ] || echo "$f"
done | sort >"$work/rpm.list"
diff -u "$work/ref.list" "$work/rpm.list" || fail "RPM's /usr/src differs from make install-src"
scripts=$(rpm -qp --scripts "$rpm")
for want in "dkms add -m $name -v $ver" "dkms build -m $name -v $ver" "dkms remove -m $name -v $ver --all"; do
	grep -qF -- "$want" <<<"$scripts" || fail "RPM scriptlets lack '$want'"
done
grep -q '^/usr/share/doc/.*/xen-blk-pgnt\.modprobe\.conf$' "$work/rpm.contents" || fail "RPM lacks the modprobe.d example"
echo "pkg-check: $(basename "$rpm"): $(wc -l <"$work/rpm.list") files under /usr/src, the modprobe.d example, scriptlets add/build/remove"

# Install the .deb: its postinst has DKMS build for the kernels with headers.
kver=$(dkms_kver "${1:-}")
[ -n "$kver" ] || fail "no kernel headers installed"
dkms remove -m "$name" -v "$ver" --all >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$work/install.log" 2>&1 ||
	{ tail -20 "$work/install.log"; fail "dpkg -i failed"; }
dkms_installed pkg-check "$kver" || { tail -20 "$work/install.log"; exit 1; }
echo "pkg-check: dpkg -i built and installed both modules for $kver"
dpkg -P "$name-dkms" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg -P failed"; }
[ -z "$(dkms status -m "$name" 2>/dev/null)" ] || fail "dkms still lists $name after purge"
for m in xen_blkfront_pgnt xen_blkback_pgnt; do
	! modinfo -k "$kver" -n "$m" >/dev/null 2>&1 || fail "$m still installed for $kver after purge"
done
[ ! -e "/usr/src/$name-$ver" ] || fail "/usr/src/$name-$ver left after purge"
echo "pkg-check: dpkg -P removed both modules and the sources"
