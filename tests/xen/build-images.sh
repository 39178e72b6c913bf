#!/usr/bin/env bash
# shellcheck disable=SC2317 # guest_kind_* are only called as "guest_kind_$kind"
# Build (or reuse) the rig's images from Debian packages only, in two cached stages.
#
# dom0 image: $XR_CACHE/images/<key>/, key = hash of suite, mirror, package
#   lists, the content-producing functions below, image/*, the suite's Release date
#   xen            Xen hypervisor (multiboot ELF), same version as the dom0's xen-utils
#   vmlinuz, initrd.img, rootfs.img   dom0 kernel/initrd and debootstrap'd ext4 root
#   headers/<kver>/build              the dom0 kernel's unpacked linux-headers
#   guest-userland.cpio.gz            kernel-independent part of every slim guest:
#                                     busybox, fio, kmod, xenstore-utils + libraries
#   kernel/<kver>/                    the dom0 kernel's vmlinuz + block/xen modules
# slim guests: $XR_CACHE/guests/<name>-<key>/ for each NAME:KIND[:ARG] of
#   GUEST_KERNELS, key = hash of the dom0 image key, the spec, the kernel version
#   and the guest functions: vmlinuz, initramfs.cpio.gz, kver, headers (build dir)
#   KIND dom0        the dom0's own kernel (6.1 from bookworm)
#   KIND apt:SUITE   linux-image-amd64 of another suite through a private apt
#                    view, e.g. 6.12:apt:bookworm-backports (adding a kind = one
#                    guest_kind_<KIND> function)
#   KIND matrix:K    the kernel tests/matrix fetched headers for (K = 5.10, 6.1,
#                    6.12, newest); our modules are built with the matrix's tree
#                    and compiler (gcc-10 for 5.10, the sid chroot for newest)
#   GUEST_KERNELS=all  every kernel of the matrix (GUEST_KERNELS_ALL)
#   Each guest also has modules.cpio.gz (its modules, ext4 included) on its own,
#   for xvda-root guests whose root filesystem dom0 builds.
# DOM0_KERNEL=6.12: a second dom0 image with bookworm-backports' kernel (its own
#   key; the default 6.1 image's key does not change).
# $XR_CACHE/current.env names the image (IMG) and the guests (GUESTS="name=dir ...").
# A cache hit costs well under a second (plus one apt-get update per day for apt kinds).
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

# Bump when the recipe changes in a way the hashed functions/files do not show.
RECIPE_VERSION=1
RECIPE_FUNCS="in_tree bootstrap_tree customise_tree tree_pkg_version fetch_in_tree fetch_hypervisor
	unpack_headers headers_deps fetch_headers build_guest_userland copy_guest_kernel save_guest_kernel
	make_rootfs"
GUEST_FUNCS="build_guest copy_guest_kernel copy_root_fs_modules unpack_headers headers_deps"
DOM0_PKGS=linux-image-amd64,xen-utils-4.17,xenstore-utils,fio,systemd-sysv,udev,kmod,initramfs-tools,busybox,e2fsprogs,procps,iproute2,util-linux,gawk,dmsetup,cpio,gzip
# Slim guest kernels, NAME:KIND[:ARG] (see the head of this file).
GUEST_KERNELS=${GUEST_KERNELS:-6.1:dom0}
# Modules an xvda-root guest needs to mount its ext4 root (paths under kernel/;
# crc16 and crc32c are in GUEST_MOD_DIRS already).
GUEST_ROOT_MODS="fs/ext4 fs/jbd2 fs/mbcache.ko*"
# dom0 kernel: 6.1 is the suite's own; any other comes from DOM0_KERNEL_SUITE.
DOM0_KERNEL=${DOM0_KERNEL:-6.1}
case $DOM0_KERNEL in
6.1) DOM0_KERNEL_SUITE="" ;;
6.12) DOM0_KERNEL_SUITE=bookworm-backports ;;
*) echo "DOM0_KERNEL must be 6.1 or 6.12" >&2; exit 3 ;;
esac
# GUEST_KERNELS=all: the kernels of the matrix (6.1 is the dom0's on a 6.1 dom0).
GUEST_KERNELS_ALL="6.1:dom0 5.10:matrix:5.10 6.12:apt:bookworm-backports sid:matrix:newest"
[ "$DOM0_KERNEL" = 6.1 ] || GUEST_KERNELS_ALL="6.1:matrix:6.1 5.10:matrix:5.10 6.12:dom0 sid:matrix:newest"
[ "$GUEST_KERNELS" != all ] || GUEST_KERNELS=$GUEST_KERNELS_ALL
# Modules of the guest kernel that go into the slim initramfs (paths under kernel/).
GUEST_MOD_DIRS="drivers/block drivers/xen crypto lib arch/x86/crypto"
# Programs the guest agent uses, resolved inside the dom0 tree with their libraries.
GUEST_BINS="/usr/bin/fio /bin/kmod /usr/bin/xenstore-read /usr/bin/xenstore-write
	/usr/bin/xenstore-ls /usr/bin/xenstore-rm /usr/bin/xenstore-watch /usr/bin/xenstore-exists"

release_date() {
	# The suite's Release date changes with every point release, so new package
	# versions give a new key. Offline: an empty date (key still deterministic).
	curl -fsS --max-time 20 "$XR_MIRROR/dists/$XR_SUITE/InRelease" 2>/dev/null |
		sed -n 's/^Date: //p' | head -n1 || true
}

image_key() {
	{
		printf 'recipe=%s suite=%s mirror=%s\npkgs=%s\nmoddirs=%s\nbins=%s\n' \
			"$RECIPE_VERSION" "$XR_SUITE" "$XR_MIRROR" "$DOM0_PKGS" "$GUEST_MOD_DIRS" "$GUEST_BINS"
		printf 'release=%s\n' "$(release_date)"
		# The functions that decide the images' content, not the whole script:
		# changing locking or logging must not rebuild anything.
		# shellcheck disable=SC2086 # a list of function names
		declare -f $RECIPE_FUNCS
		hash_files "$XR_DIR"/image/*
		# Only a non-default dom0 kernel adds to the key: the 6.1 image keeps its key.
		[ -z "$DOM0_KERNEL_SUITE" ] || { echo "dom0 kernel from $DOM0_KERNEL_SUITE"; declare -f install_dom0_kernel; }
	} | sha256sum | cut -c1-16
}

# install_dom0_kernel SUITE: replace the tree's kernel by SUITE's
# linux-image-amd64; fetch_in_tree then also sees SUITE (for the headers).
install_dom0_kernel() {
	local old
	log "images: dom0 kernel from $1"
	cp /etc/resolv.conf "$TREE/etc/resolv.conf"
	echo "deb $XR_MIRROR $1 main" >"$TREE/etc/apt/sources.list.d/$1.list"
	# shellcheck disable=SC2016 # ${Package} is dpkg-query's
	old=$(in_tree dpkg-query -W -f='${Package}\n' 'linux-image-[0-9]*')
	mount -t proc proc "$TREE/proc"
	# shellcheck disable=SC2086 # $old: package names
	{
		in_tree apt-get update -qq &&
			in_tree env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$1" linux-image-amd64 &&
			in_tree env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $old
	} >>"$OUT/apt.log" 2>&1 || { umount "$TREE/proc"; tail -n 20 "$OUT/apt.log"; die "dom0 kernel from $1 failed"; }
	umount "$TREE/proc"
	touch "$TREE/var/lib/apt/xenrig-updated"
}

in_tree() { chroot "$TREE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

bootstrap_tree() {
	log "images: debootstrap $XR_SUITE (cached .debs in $XR_CACHE/debs)"
	mkdir -p "$XR_CACHE/debs"
	debootstrap --variant=minbase --cache-dir="$XR_CACHE/debs" --include="$DOM0_PKGS" \
		"$XR_SUITE" "$TREE" "$XR_MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$OUT/debootstrap.log"; die "debootstrap failed (log: $OUT/debootstrap.log)"; }
}

customise_tree() {
	log "images: customising dom0 tree"
	install -m 0755 "$XR_DIR/image/xenrig-boot" "$TREE/usr/local/sbin/xenrig-boot"
	install -m 0644 "$XR_DIR/image/xenrig.service" "$TREE/etc/systemd/system/xenrig.service"
	ln -sf /etc/systemd/system/xenrig.service "$TREE/etc/systemd/system/multi-user.target.wants/xenrig.service"
	# Debian's xen init script ignores XENCONSOLED_TRACE; this makes xenconsoled
	# write every guest console to /var/log/xen/console/guest-<name>.log.
	echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >>"$TREE/etc/default/xen"
	echo dom0 >"$TREE/etc/hostname"
	echo '/dev/vda / ext4 rw,noatime 0 1' >"$TREE/etc/fstab"
	in_tree passwd -d root >/dev/null
	local u
	for u in getty.target getty@tty1.service serial-getty@hvc0.service serial-getty@ttyS0.service \
		console-getty.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer dpkg-db-backup.timer \
		systemd-tmpfiles-clean.timer xendomains.service; do
		ln -sf /dev/null "$TREE/etc/systemd/system/$u"
	done
	echo 'Acquire::Check-Valid-Until "false";' >"$TREE/etc/apt/apt.conf.d/99xenrig"
}

# tree_pkg_version PKG: installed version inside the tree.
# shellcheck disable=SC2016 # ${Version} is dpkg-query's, not ours
tree_pkg_version() { in_tree dpkg-query -W -f='${Version}' "$1"; }

# fetch_in_tree PKG=VER...: apt-get download inside the tree (its own apt view
# of the suite, so versions match what debootstrap installed) into $DEBS.
fetch_in_tree() {
	cp /etc/resolv.conf "$TREE/etc/resolv.conf"
	[ -f "$TREE/var/lib/apt/xenrig-updated" ] || {
		in_tree apt-get update -qq >>"$OUT/apt.log" 2>&1
		touch "$TREE/var/lib/apt/xenrig-updated"
	}
	mkdir -p "$TREE/tmp/xrdebs"
	(cd "$TREE/tmp/xrdebs" && in_tree sh -c 'cd /tmp/xrdebs && apt-get download -qq "$@"' sh "$@") \
		>>"$OUT/apt.log" 2>&1 || { tail -n 20 "$OUT/apt.log"; die "apt-get download $* failed"; }
	mv "$TREE"/tmp/xrdebs/*.deb "$DEBS/"
}

fetch_hypervisor() {
	local ver
	ver=$(tree_pkg_version xen-utils-4.17)
	log "images: xen-hypervisor-4.17-amd64=$ver (pinned to xen-utils)"
	fetch_in_tree "xen-hypervisor-4.17-amd64=$ver"
	mkdir -p "$OUT/xen.x"
	dpkg-deb -x "$DEBS"/xen-hypervisor-4.17-amd64_*.deb "$OUT/xen.x"
	gunzip -c "$OUT"/xen.x/boot/xen-4.17-amd64.gz >"$OUT/xen"
	rm -rf "$OUT/xen.x"
	echo "xen-hypervisor-4.17-amd64 $ver" >>"$OUT/manifest.txt"
}

# unpack_headers ROOT KVER DEB...: linux-headers debs unpacked under ROOT with
# the arch Makefile's absolute include made relative; ROOT/build is the tree.
unpack_headers() {
	local root=$1 kver=$2 deb
	shift 2
	mkdir -p "$root"
	for deb in "$@"; do dpkg-deb -x "$deb" "$root"; done
	# Relative to this Makefile, so the tree still works after the build dir is renamed.
	# shellcheck disable=SC2016 # $(...) is make syntax
	sed -i 's#^include /usr/src/#include $(dir $(lastword $(MAKEFILE_LIST)))../#' \
		"$root/usr/src/linux-headers-$kver/Makefile"
	ln -sfn "usr/src/linux-headers-$kver" "$root/build"
}

# headers_deps DEB VERSION: the -common and linux-kbuild packages a
# linux-headers deb needs, pinned to VERSION.
headers_deps() {
	local dep
	for dep in $(dpkg-deb -f "$1" Depends | tr ',' '\n' | awk '{print $1}'); do
		case $dep in linux-headers-*-common* | linux-kbuild-*) echo "$dep=$2" ;; esac
	done
}

# fetch_headers KVER KVERSION: linux-headers-KVER + its -common + linux-kbuild,
# all at the image's version, unpacked under headers/KVER.
fetch_headers() {
	local kver=$1 version=$2 deb extra dep debs=()
	log "images: headers for $kver ($version)"
	fetch_in_tree "linux-headers-$kver=$version"
	deb=$(ls "$DEBS"/linux-headers-"$kver"_*.deb)
	extra=$(headers_deps "$deb" "$version")
	# shellcheck disable=SC2086 # package=version words
	fetch_in_tree $extra
	debs=("$deb")
	for dep in $extra; do debs+=("$(ls "$DEBS/${dep%%=*}"_*.deb)"); done
	unpack_headers "$OUT/headers/$kver" "$kver" "${debs[@]}"
	echo "linux-headers-$kver $version (+ $(echo "$extra" | tr '\n' ' '))" >>"$OUT/manifest.txt"
}

# Kernel-independent part of every slim guest: busybox, fio, kmod, xenstore
# tools and their shared libraries, copied out of the dom0 tree.
build_guest_userland() {
	local st="$OUT/guest-userland" f lib
	log "images: slim guest userland"
	rm -rf "$st"
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,lib/modules,root}
	for f in /bin/busybox $GUEST_BINS; do
		cp -aL "$TREE$f" "$st$f"
		for lib in $(in_tree ldd "$f" | grep -o '/[^ ]*'); do
			[ -e "$st$lib" ] || { mkdir -p "$st$(dirname "$lib")"; cp -L "$TREE$lib" "$st$lib"; }
		done
	done
	for f in insmod rmmod modprobe lsmod modinfo depmod; do ln -sf /bin/kmod "$st/sbin/$f"; done
	for f in $(in_tree /bin/busybox --list-full); do
		[ -e "$st/$f" ] || [ -L "$st/$f" ] || ln -s /bin/busybox "$st/$f"
	done
	printf '#!/bin/sh\necho "XRG: no agent in this initramfs"; poweroff -f\n' >"$st/init"
	chmod +x "$st/init"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$st/etc/passwd"
	du -sh "$st" | awk '{print "images: guest userland " $1}' | while read -r l; do log "$l"; done
	(cd "$st" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$OUT/guest-userland.cpio.gz"
	rm -rf "$st"
}

# copy_guest_kernel FROM TO KVER: vmlinuz and the GUEST_MOD_DIRS modules of
# the kernel unpacked under FROM (boot/, lib/modules/) into TO, same layout.
copy_guest_kernel() {
	local from=$1 to=$2 kver=$3 m="lib/modules/$3" d
	mkdir -p "$to/boot" "$to/$m/kernel"
	cp "$from/boot/vmlinuz-$kver" "$to/boot/"
	for d in $GUEST_MOD_DIRS; do
		[ -d "$from/$m/kernel/$d" ] || continue
		mkdir -p "$to/$m/kernel/$d"
		cp -a "$from/$m/kernel/$d/." "$to/$m/kernel/$d/"
	done
	cp -a "$from/$m"/modules.{order,builtin,builtin.modinfo} "$to/$m/" 2>/dev/null || true
}

# save_guest_kernel: the dom0 kernel and its block/xen modules, for "dom0" guests.
save_guest_kernel() { copy_guest_kernel "$TREE" "$OUT/kernel/$KVER" "$KVER"; }

# copy_root_fs_modules FROM TO KVER: the GUEST_ROOT_MODS (ext4) of FROM.
copy_root_fs_modules() {
	local k="lib/modules/$3/kernel" m p
	for m in $GUEST_ROOT_MODS; do
		for p in "$1/$k"/$m; do
			[ -e "$p" ] || die "guest $3: no $m (ext4 for xvda-root guests)"
			p=${p#"$1/$k/"}
			mkdir -p "$2/$k/$(dirname "$p")"
			cp -a "$1/$k/$p" "$2/$k/$p"
		done
	done
}

# build_guest DIR KVER KROOT [FSROOT]: a slim guest in DIR from the image's
# userland and the kernel unpacked under KROOT (boot/vmlinuz-KVER,
# lib/modules/KVER); ext4 from FSROOT (default KROOT).
build_guest() {
	local g=$1 kver=$2 kroot=$3 st="$1/modules.st"
	rm -rf "$st"
	copy_guest_kernel "$kroot" "$st" "$kver"
	copy_root_fs_modules "${4:-$kroot}" "$st" "$kver"
	rm -rf "${st:?}/boot"
	depmod -b "$st" "$kver"
	# cpio archives concatenate, compressed or not; gzip -1 keeps in-guest
	# decompression cheap under TCG. The modules alone too: dom0 unpacks them
	# (GNU cpio stops at the first archive's end) into xvda-root filesystems.
	(cd "$st" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$g/modules.cpio.gz"
	cat "$IMG/guest-userland.cpio.gz" "$g/modules.cpio.gz" >"$g/initramfs.cpio.gz"
	rm -rf "$st"
	cp "$kroot/boot/vmlinuz-$kver" "$g/vmlinuz"
	echo "$kver" >"$g/kver"
}

# guest_kind_dom0 DIR: the dom0 image's own kernel.
guest_kind_dom0() {
	# shellcheck source=/dev/null
	G_KVER=$(. "$IMG/image.env" && echo "$KVER")
	[ -n "${1:-}" ] || return 0 # version query only
	# The image keeps only GUEST_MOD_DIRS of its kernel; ext4 comes from its root.
	mkdir -p "$1/fs/lib/modules/$G_KVER/kernel"
	debugfs -R "rdump /lib/modules/$G_KVER/kernel/fs $1/fs/lib/modules/$G_KVER/kernel" \
		"$IMG/rootfs.img" >/dev/null 2>&1 || die "debugfs rdump of the dom0 kernel's fs/ failed"
	build_guest "$1" "$G_KVER" "$IMG/kernel/$G_KVER" "$1/fs"
	rm -rf "$1/fs"
	ln -sfn "$IMG/headers/$G_KVER" "$1/headers"
}

# guest_kind_matrix DIR K: the kernel of tests/matrix's kernel K, from the
# same private apt view its headers came from; rig.sh builds our modules with
# the matrix's headers and compiler (build-modules.sh matrix:K).
guest_kind_matrix() {
	local mc=${MATRIX_CACHE:-/var/cache/xen-blk-pgnt/matrix} view x pkgs deb p dl=()
	case $2 in
	5.10) view=bullseye ;; 6.1) view=bookworm ;; 6.12) view=bpo ;; newest) view=sid ;;
	*) die "guest kind matrix: unknown matrix kernel '$2'" ;;
	esac
	if [ ! -r "$mc/env/$2.env" ]; then
		log "images: no tests/matrix kernel $2 yet, running tests/matrix/fetch.sh" >&2
		"$XR_REPO/tests/matrix/fetch.sh" >&2 || die "tests/matrix/fetch.sh failed"
	fi
	# shellcheck source=/dev/null
	G_KVER=$(. "$mc/env/$2.env" && echo "$K_RELEASE")
	# shellcheck source=/dev/null
	G_VERSION=$(. "$mc/env/$2.env" && echo "$K_PKGVER")
	[ -n "${1:-}" ] || return 0 # version query only
	log "images: guest kernel linux-image-$G_KVER $G_VERSION (tests/matrix $2, view $view)"
	x="$1/dl"
	mkdir -p "$x/root"
	# Newer kernels split the image into linux-binary-* and linux-modules-*.
	pkgs=$(APT_CONFIG="$mc/apt/$view/apt.conf" apt-cache show "linux-image-$G_KVER=$G_VERSION" |
		sed -n 's/^Depends: //p' | tr ',' '\n' | awk -v k="$G_KVER" '$1 ~ "^linux-(binary|modules)-" && index($1, k) { print $1 }')
	dl=("linux-image-$G_KVER=$G_VERSION")
	for p in $pkgs; do dl+=("$p=$G_VERSION"); done
	(cd "$x" && APT_CONFIG="$mc/apt/$view/apt.conf" apt-get download -qq "${dl[@]}") >/dev/null 2>&1 ||
		die "apt-get download ${dl[*]} ($view) failed"
	for deb in "$x"/*.deb; do dpkg-deb -x "$deb" "$x/root"; done
	# Newer packages are usr-merged and keep vmlinuz beside the modules.
	[ -e "$x/root/lib" ] || ln -s usr/lib "$x/root/lib"
	if [ ! -e "$x/root/boot/vmlinuz-$G_KVER" ]; then
		mkdir -p "$x/root/boot"
		ln -s "../lib/modules/$G_KVER/vmlinuz" "$x/root/boot/vmlinuz-$G_KVER"
	fi
	build_guest "$1" "$G_KVER" "$x/root"
	echo "$2" >"$1/matrix-kernel"
	echo "linux-image-$G_KVER $G_VERSION, modules built with tests/matrix $2" >"$1/manifest.txt"
	rm -rf "$x"
}

# apt_view SUITE: APT_CONFIG of a private apt view of one suite (nothing is
# added to the host's sources); refreshed once a day.
apt_view() {
	local v="$XR_CACHE/apt/$1" mirror=$XR_MIRROR
	case $1 in *-security) mirror=${XR_MIRROR%/debian}/debian-security ;; esac
	mkdir -p "$v"/{lists/partial,archives/partial,cache}
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $1 main" >"$v/sources.list"
	cat >"$v/apt.conf" <<-CONF
		Dir::Etc::sourcelist "$v/sources.list";
		Dir::Etc::sourceparts "-";
		Dir::State::Lists "$v/lists";
		Dir::Cache::archives "$v/archives";
		Dir::Cache "$v/cache";
		Acquire::Check-Valid-Until "false";
	CONF
	if [ -z "$(find "$v/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		APT_CONFIG="$v/apt.conf" apt-get update -qq >"$v/update.log" 2>&1 ||
			{ tail -n 5 "$v/update.log" >&2; die "apt-get update for $1 failed"; }
	fi
	echo "$v/apt.conf"
}

# guest_kind_apt DIR SUITE: linux-image-amd64 of SUITE (+ its headers).
guest_kind_apt() {
	local conf pkg ver deb debs=() extra dep x
	conf=$(apt_view "$2")
	pkg=$(APT_CONFIG=$conf apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || die "no linux-image-amd64 in $2"
	ver=$(APT_CONFIG=$conf apt-cache show "$pkg" | sed -n 's/^Version: //p' | head -n1)
	G_KVER=${pkg#linux-image-}
	G_VERSION=$ver
	[ -n "${1:-}" ] || return 0 # version query only
	log "images: guest kernel $pkg $ver from $2"
	x="$1/dl"
	mkdir -p "$x"
	(cd "$x" && APT_CONFIG=$conf apt-get download -qq "$pkg=$ver" "linux-headers-$G_KVER=$ver") >/dev/null 2>&1 ||
		die "apt-get download $pkg / linux-headers-$G_KVER $ver from $2 failed"
	deb=$(ls "$x"/linux-headers-"$G_KVER"_*.deb)
	extra=$(headers_deps "$deb" "$ver")
	# shellcheck disable=SC2086 # package=version words
	(cd "$x" && APT_CONFIG=$conf apt-get download -qq $extra) >/dev/null 2>&1 ||
		die "apt-get download $extra from $2 failed"
	debs=("$deb")
	for dep in $extra; do debs+=("$(ls "$x/${dep%%=*}"_*.deb)"); done
	mkdir -p "$x/root"
	dpkg-deb -x "$(ls "$x/$pkg"_*.deb)" "$x/root"
	build_guest "$1" "$G_KVER" "$x/root"
	unpack_headers "$1/headers" "$G_KVER" "${debs[@]}"
	echo "$pkg $ver, headers $extra" >"$1/manifest.txt"
	rm -rf "$x"
}

# guest_bundle SPEC: build or reuse the slim guest NAME:KIND[:ARG]; prints
# "NAME=DIR".
guest_bundle() {
	local spec=$1 name kind arg key dir
	IFS=: read -r name kind arg <<<"$spec"
	declare -F "guest_kind_$kind" >/dev/null || die "unknown guest kernel kind '$kind' in '$spec'"
	G_VERSION=""
	"guest_kind_$kind" "" "$arg"
	# shellcheck disable=SC2086 # a list of function names
	key=$({ echo "$IMG $spec $G_KVER $G_VERSION $GUEST_MOD_DIRS"; declare -f $GUEST_FUNCS "guest_kind_$kind"; } |
		sha256sum | cut -c1-16)
	dir="$XR_CACHE/guests/$name-$key"
	if [ ! -f "$dir/done" ]; then
		{
			log "images: building slim guest $name ($spec, $G_KVER)"
			rm -rf "$dir"
			mkdir -p "$dir"
			"guest_kind_$kind" "$dir" "$arg"
			touch "$dir/done"
			log "images: guest $name initramfs $(du -h "$dir/initramfs.cpio.gz" | cut -f1)"
		} >&2
	fi
	echo "$name=$dir"
}

make_rootfs() {
	log "images: rootfs.img (mkfs.ext4 -d)"
	rm -rf "$TREE/tmp/xrdebs" "$TREE/var/cache/apt/archives"/*.deb
	mkfs.ext4 -q -F -L xrdom0 -d "$TREE" "$OUT/rootfs.img" 3G >/dev/null
}

# unmount_tree: whatever debootstrap or a killed build left mounted in the tree.
unmount_tree() {
	local m
	[ -n "${TREE:-}" ] || return 0
	awk -v t="$TREE" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" || true; done
}

main() {
	require_root
	local key
	key=$(image_key)
	IMG="$XR_CACHE/images/$key"
	mkdir -p "$XR_CACHE"
	# Several people may run the rig at once: one build at a time, the others
	# wait for it and then find the cache filled.
	exec 9>"$XR_CACHE/build.lock"
	if ! flock -n 9; then
		log "images: another build is running, waiting for it"
		flock 9
	fi
	if [ -f "$IMG/done" ]; then
		log "images: cache hit $IMG"
	else
		log "images: cache miss, building $IMG"
		OUT="$XR_CACHE/tmp/$key.build" TREE="$XR_CACHE/tmp/$key.build/tree" DEBS="$XR_CACHE/debs/extra"
		trap unmount_tree EXIT
		unmount_tree
		rm -rf "$OUT"
		mkdir -p "$OUT" "$DEBS"
		bootstrap_tree
		customise_tree
		[ -z "$DOM0_KERNEL_SUITE" ] || install_dom0_kernel "$DOM0_KERNEL_SUITE"
		KVER=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' | sort -V | tail -n1)
		KVERSION=$(tree_pkg_version "linux-image-$KVER")
		cp "$TREE/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
		cp "$TREE/boot/initrd.img-$KVER" "$OUT/initrd.img"
		{
			echo "suite $XR_SUITE mirror $XR_MIRROR key $key"
			echo "linux-image-$KVER $KVERSION"
			echo "xen-utils-4.17 $(tree_pkg_version xen-utils-4.17)"
			echo "fio $(tree_pkg_version fio)"
		} >"$OUT/manifest.txt"
		fetch_hypervisor
		fetch_headers "$KVER" "$KVERSION"
		build_guest_userland
		save_guest_kernel
		make_rootfs
		printf 'KVER=%s\n' "$KVER" >"$OUT/image.env"
		echo "$DOM0_KERNEL" >"$OUT/dom0-kernel"
		rm -rf "$TREE"
		touch "$OUT/done"
		rm -rf "$IMG"
		mkdir -p "$XR_CACHE/images"
		mv "$OUT" "$IMG"
		log "images: built $IMG"
		# Keep this image and the one before it of the same dom0 kernel; older
		# ones are stale (images without dom0-kernel are 6.1 ones).
		find "$XR_CACHE/images" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn |
			while read -r t d; do
				if [ "$(cat "$d/dom0-kernel" 2>/dev/null || echo 6.1)" = "$DOM0_KERNEL" ]; then echo "$t $d"; fi
			done | tail -n +3 | cut -d' ' -f2- | while read -r d; do
			log "images: pruning stale $d"
			rm -rf "$d"
		done
	fi
	local spec guests=""
	for spec in $GUEST_KERNELS; do
		guests="$guests $(guest_bundle "$spec")"
	done
	printf 'IMG=%s\nGUESTS="%s"\n' "$IMG" "${guests# }" >"$XR_CACHE/current.env"
	# Concurrent runs may ask for different guests: each gets its own copy.
	[ -z "${XR_ENV_OUT:-}" ] || cp "$XR_CACHE/current.env" "$XR_ENV_OUT"
	log "images: guests ${guests# }"
}
main "$@"; exit  # one line: bash must not read past it if this file changes while running
