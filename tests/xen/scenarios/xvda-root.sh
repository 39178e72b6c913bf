# shellcheck shell=bash
# guest whose root is ext4 on xvda (rootfs_make): boots through stock/stock, stock/pgnt and pgnt/pgnt (backend/frontend; XVDA_PAIRS picks); files of known checksums survive xl reboot and frontend/backend switches
# group: long
# shellcheck disable=SC2034 # BACKEND, FRONTEND label the results (read by lib.sh)
G=xvdaroot
DISK_SCRIPT=fast # see lib.sh disk_spec
# Boots through an initramfs and a mount: 200 s on a loaded host, and the
# restart after xl reboot missed the default 240 s.
[ "$GUEST_BOOT_TIMEOUT" -ge 600 ] || GUEST_BOOT_TIMEOUT=600
IMG=/var/tmp/xr-xvda-root.img
# Expected checksums as dom0 recorded them when the guest wrote the files:
# the guest verifies against these, not against its own copy.
EXPECT=$SC_DIR/expected.sha256
: >"$EXPECT"

rootfs_make "$IMG" 256
GUEST_ROOT=$DISK

# xr_boot BACKEND FRONTEND: start the guest from xvda; root, device and
# driver as expected.
xr_boot() {
	BACKEND=$1 FRONTEND=$2 MOD=xen_blkfront OTHER=xen_blkfront_pgnt
	[ "$2" = stock ] || MOD=xen_blkfront_pgnt OTHER=xen_blkfront
	be_load "$1" 1
	GUEST_ROOT_FE=$2 guest_start "$G"
	xr_check_root "$1/$2"
}

# xr_check_root LABEL: / is ext4 on /dev/xvda, block major 202 minor 0, the
# intended frontend (and only it) is loaded, xenstore says Connected.
xr_check_root() {
	gx_ok "$G" "grep -q '^/dev/xvda / ext4 ' /proc/mounts"
	gx_ok "$G" "[ \"\$(cat /sys/block/xvda/dev)\" = 202:0 ] && ls -l /dev/xvda && [ \"\$(stat -c %t:%T /dev/xvda)\" = ca:0 ]"
	gx_ok "$G" "grep -q '^$MOD ' /proc/modules && ! grep -q '^$OTHER ' /proc/modules"
	xs_features "$G" xvda
	expect_cmp "$1: xvda backend Connected" "$BE_STATE" == 4
	expect_cmp "$1: xvda frontend Connected" "$FE_STATE" == 4
}

# xr_write TAG: files of random content and sizes in /data/TAG; dom0 keeps
# their checksums.
xr_write() {
	gx_must "$G" "mkdir -p /data/$1 && for i in 1 2 3 4; do dd if=/dev/urandom of=/data/$1/f\$i bs=1k count=\$((i * 1531)) 2>/dev/null || exit 1; done && cd /data && sha256sum $1/f*"
	grep -E '^[0-9a-f]{64}  ' "$GX_OUT" >>"$EXPECT"
	expect_cmp "$1: 4 files written" "$(grep -c "  $1/" "$EXPECT")" == 4
}

# xr_verify LABEL: every file written so far has dom0's checksum.
xr_verify() {
	local n
	n=$(wc -l <"$EXPECT")
	gx_ok "$G" "cd /data && printf '$(sed 's/$/\\n/' "$EXPECT" | tr -d '\n')' | sha256sum -c - && [ \$(ls /data/*/f* | wc -l) -eq $n ]"
	xr_log "$1: $n files verified"
}

# xr_sync: data on xvda before the reboot (the agent syncs too, on TERM).
xr_sync() { gx_ok "$G" "sync"; }

# Each pair in turn (XVDA_PAIRS, backend/frontend) boots the same root:
# it verifies every file written before (after a driver switch), writes
# its own, and verifies all of them again after an xl reboot.  The
# frontend is chosen at boot, so a switch is a new domain.
n=0 tag=""
for pair in ${XVDA_PAIRS:-stock/stock stock/pgnt pgnt/pgnt}; do
	if [ -n "$tag" ]; then
		gx_ok "$G" "sync && mount -o remount,ro /"
		guest_stop "$G"
	fi
	xr_boot "${pair%/*}" "${pair#*/}"
	[ -z "$tag" ] || xr_verify "$pair after the driver switch"
	n=$((n + 1)) tag=p$n
	xr_write "$tag"
	xr_sync
	guest_reboot "$G"
	xr_check_root "$pair after reboot"
	xr_verify "$pair after reboot"
done
gx_ok "$G" "sync && mount -o remount,ro /"
guest_stop "$G"

be_unload

# The filesystem as dom0 sees it afterwards: consistent, and the files there.
check "dom0: losetup -d $GUEST_ROOT" losetup -d "$GUEST_ROOT"
check "dom0: e2fsck -fn on the guest's root after all reboots" e2fsck -fn "$IMG"
# dom0 reads one file itself, outside any guest.
f4=$(debugfs -R "cat /data/$tag/f4" "$IMG" 2>/dev/null | sha256sum | cut -d' ' -f1)
check "dom0: debugfs reads /data/$tag/f4 with its checksum" grep -q "^$f4  $tag/f4\$" "$EXPECT"
rm -f "$IMG"
