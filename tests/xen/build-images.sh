#!/usr/bin/env bash
# Build (or reuse) the rig's images from Debian packages only:
#   xen            Xen hypervisor (multiboot ELF), same version as the dom0's xen-utils
#   vmlinuz, initrd.img, rootfs.img   dom0 kernel/initrd and debootstrap'd ext4 root
#   guest/<name>/{vmlinuz,initramfs.cpio.gz,kver}   slim guest: busybox, fio, kmod,
#                  xenstore-utils and the guest kernel's block/xen modules, no root disk
#   headers/<kver>/  unpacked linux-headers for every kernel above (for build-modules.sh)
# Output: $XR_CACHE/images/<key>/ where key hashes every input (suite, mirror,
# package list, recipe files, the suite's Release date). $XR_CACHE/current.env
# points the other scripts at it. A cache hit costs well under a second.
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

# Bump when the recipe changes in a way the hashed functions/files do not show.
RECIPE_VERSION=1
RECIPE_FUNCS="in_tree bootstrap_tree customise_tree tree_pkg_version fetch_in_tree fetch_hypervisor
	fetch_headers build_guest_userland build_guest build_guests make_rootfs"
DOM0_PKGS=linux-image-amd64,xen-utils-4.17,xenstore-utils,fio,systemd-sysv,udev,kmod,initramfs-tools,busybox,e2fsprogs,procps,iproute2,util-linux,gawk,cpio,gzip
# Slim guests. NAME:how; "dom0" = the dom0 image's own kernel. Other kernels
# (5.10 bullseye, 6.12 bookworm-backports, sid) plug in here as new kinds.
GUEST_KERNELS=${GUEST_KERNELS:-6.1:dom0}
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
		printf 'recipe=%s suite=%s mirror=%s\npkgs=%s\nguests=%s\nmoddirs=%s\nbins=%s\n' \
			"$RECIPE_VERSION" "$XR_SUITE" "$XR_MIRROR" "$DOM0_PKGS" "$GUEST_KERNELS" \
			"$GUEST_MOD_DIRS" "$GUEST_BINS"
		printf 'release=%s\n' "$(release_date)"
		# The functions that decide the images' content, not the whole script:
		# changing locking or logging must not rebuild anything.
		# shellcheck disable=SC2086 # a list of function names
		declare -f $RECIPE_FUNCS
		hash_files "$XR_DIR"/image/*
	} | sha256sum | cut -c1-16
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

# fetch_headers KVER KVERSION: linux-headers-KVER + its -common + linux-kbuild,
# all at the image's version, unpacked under headers/KVER with the absolute
# include in the arch Makefile rewritten.
fetch_headers() {
	local kver=$1 version=$2 root="$OUT/headers/$1" deb dep extra=()
	log "images: headers for $kver ($version)"
	fetch_in_tree "linux-headers-$kver=$version"
	deb=$(ls "$DEBS"/linux-headers-"$kver"_*.deb)
	for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | awk '{print $1}'); do
		case $dep in linux-headers-*-common* | linux-kbuild-*) extra+=("$dep=$version") ;; esac
	done
	fetch_in_tree "${extra[@]}"
	mkdir -p "$root"
	dpkg-deb -x "$deb" "$root"
	for dep in "${extra[@]}"; do dpkg-deb -x "$(ls "$DEBS/${dep%%=*}"_*.deb)" "$root"; done
	# Relative to this Makefile, so the tree still works after the build dir is renamed.
	# shellcheck disable=SC2016 # $(...) is make syntax
	sed -i 's#^include /usr/src/#include $(dir $(lastword $(MAKEFILE_LIST)))../#' \
		"$root/usr/src/linux-headers-$kver/Makefile"
	ln -sfn "usr/src/linux-headers-$kver" "$root/build"
	echo "linux-headers-$kver $version (+ ${extra[*]})" >>"$OUT/manifest.txt"
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
}

# build_guest NAME KVER VMLINUZ MODROOT: userland + the kernel's block/xen modules.
build_guest() {
	local name=$1 kver=$2 vmlinuz=$3 modroot=$4 g="$OUT/guest/$1" st="$OUT/guest-$1.st" d
	log "images: slim guest $name ($kver)"
	rm -rf "$st"
	mkdir -p "$g" "$st/lib/modules/$kver/kernel"
	for d in $GUEST_MOD_DIRS; do
		[ -d "$modroot/lib/modules/$kver/kernel/$d" ] || continue
		mkdir -p "$st/lib/modules/$kver/kernel/$d"
		cp -a "$modroot/lib/modules/$kver/kernel/$d/." "$st/lib/modules/$kver/kernel/$d/"
	done
	cp -a "$modroot/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$st/lib/modules/$kver/" 2>/dev/null || true
	depmod -b "$st" "$kver"
	(cd "$OUT/guest-userland" && find . | cpio -o -H newc -R 0:0 --quiet) >"$st.cpio"
	(cd "$st" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$st.cpio"
	# cpio archives concatenate; gzip -1 keeps in-guest decompression cheap under TCG.
	gzip -1 -c "$st.cpio" >"$g/initramfs.cpio.gz"
	rm -rf "$st" "$st.cpio"
	cp "$vmlinuz" "$g/vmlinuz"
	echo "$kver" >"$g/kver"
	log "images: guest $name initramfs $(du -h "$g/initramfs.cpio.gz" | cut -f1)"
}

build_guests() {
	local spec name kind
	for spec in $GUEST_KERNELS; do
		name=${spec%%:*} kind=${spec#*:}
		case $kind in
		dom0) build_guest "$name" "$KVER" "$OUT/vmlinuz" "$TREE" ;;
		*) die "guest kernel kind '$kind' not implemented yet (only 'dom0')" ;;
		esac
	done
}

make_rootfs() {
	log "images: rootfs.img (mkfs.ext4 -d)"
	rm -rf "$TREE/tmp/xrdebs" "$TREE/var/cache/apt/archives"/*.deb
	mkfs.ext4 -q -F -L xrdom0 -d "$TREE" "$OUT/rootfs.img" 3G
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
		KVER=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' | head -n1)
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
		build_guests
		make_rootfs
		printf 'KVER=%s\n' "$KVER" >"$OUT/image.env"
		rm -rf "$TREE" "$OUT/guest-userland"
		touch "$OUT/done"
		rm -rf "$IMG"
		mkdir -p "$XR_CACHE/images"
		mv "$OUT" "$IMG"
		log "images: built $IMG"
		# Keep this image and the one before it; older ones are stale.
		find "$XR_CACHE/images" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn |
			tail -n +3 | cut -d' ' -f2- | while read -r d; do
			log "images: pruning stale $d"
			rm -rf "$d"
		done
	fi
	printf 'IMG=%s\n' "$IMG" >"$XR_CACHE/current.env"
}
main "$@"; exit  # one line: bash must not read past it if this file changes while running
