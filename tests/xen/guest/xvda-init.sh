#!/bin/sh
# /init of an xvda-root guest's initramfs (appended per run by dom0): loads the
# block frontend named on the kernel command line, mounts the root disk and
# switch_roots into it, where /init is the same agent as in the slim guest.
#   xr_fe=stock|pgnt   xen-blkfront or our xen-blkfront-pgnt (default stock)
#   xr_root=xvda       the disk holding the ext4 root (default xvda)
# Any failure is said on the console and powers the guest off, so dom0 sees
# the guest vanish instead of waiting for an agent that never comes.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/null >/dev/hvc0 2>&1

fail() {
	echo "XRG: initramfs: FATAL $*"
	sleep 2
	poweroff -f
}

fe=stock root=xvda
# shellcheck disable=SC2013 # words, not lines
for a in $(cat /proc/cmdline); do
	case $a in
	xr_fe=*) fe=${a#xr_fe=} ;;
	xr_root=*) root=${a#xr_root=} ;;
	esac
done
echo "XRG: initramfs: kernel $(uname -r), frontend $fe, root /dev/$root"
case $fe in
stock) modprobe xen_blkfront || fail "modprobe xen_blkfront" ;;
pgnt) insmod /xr/ko/xen-blkfront-pgnt.ko || fail "insmod xen-blkfront-pgnt.ko" ;;
*) fail "unknown frontend '$fe'" ;;
esac
modprobe ext4 || fail "modprobe ext4"
n=60
until [ -b "/dev/$root" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "/dev/$root did not appear"
	sleep 1
done
mkdir -p /newroot
mount -t ext4 "/dev/$root" /newroot || fail "mount /dev/$root"
[ -x /newroot/init ] || fail "no /init on /dev/$root"
echo "XRG: initramfs: /dev/$root mounted, switch_root"
umount /proc /sys
# Keep the console open across switch_root: move /dev along.
mount -o move /dev /newroot/dev || umount -l /dev
exec switch_root /newroot /init
