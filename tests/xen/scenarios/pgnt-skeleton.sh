# shellcheck shell=bash
# our .ko (built for the image's exact kernels) insmod/rmmod in dom0 and in a guest, plus a frontend swap with hot-plugged disks in one guest boot
# group: long
# shellcheck disable=SC2034 # BACKEND, FRONTEND, PERSISTENT label the results (read by lib.sh)
BACKEND=pgnt FRONTEND=pgnt

# dom0: our backend replaces the stock one and goes away cleanly.
be_unload
check "dom0: xen-blkback-pgnt.ko vermagic is $KVER" \
	bash -c "modinfo -F vermagic '$DOM0_KO/xen-blkback-pgnt.ko' | grep -q '^$KVER '"
be_load pgnt 1
check "dom0: xen_blkback_pgnt listed in /proc/modules" mod_loaded xen_blkback_pgnt
xr_log "dom0: version $(cat /sys/module/xen_blkback_pgnt/version 2>/dev/null || echo none)"
be_unload
check "dom0: xen_blkback_pgnt gone after rmmod" bash -c '! grep -q "^xen_blkback_pgnt " /proc/modules'

# The packaged modprobe.d file: with our module installed where modprobe
# finds it, a load of the stock backend by name (the toolstack's) or by the
# alias udev uses loads ours, and never the stock one.
upd=/lib/modules/$KVER/updates/xr-skeleton
mkdir -p "$upd"
cp "$DOM0_KO/xen-blkback-pgnt.ko" "$upd/"
depmod -a "$KVER"
cp "$PAYLOAD/xen-blk-pgnt.modprobe.conf" /etc/modprobe.d/xen-blk-pgnt.conf
for how in xen-blkback xen-backend:vbd; do
	check "dom0: modprobe $how with the modprobe.d file" modprobe "$how"
	check "dom0: modprobe $how loaded xen_blkback_pgnt" mod_loaded xen_blkback_pgnt
	check "dom0: modprobe $how did not load xen_blkback" bash -c '! grep -q "^xen_blkback " /proc/modules'
	be_unload
done
rm -rf /etc/modprobe.d/xen-blk-pgnt.conf "$upd"
depmod -a "$KVER"
check "dom0: without the file, modprobe xen-blkback loads the stock backend" \
	bash -c 'modprobe xen-blkback && grep -q "^xen_blkback " /proc/modules'
be_unload

# guest without disks: our frontend loads and unloads.
BACKEND=stock
be_load stock 1
g=skel
guest_start "$g"
gk=$(cat "$PAYLOAD/guest/$GUEST_KERNEL/kver")
gx_ok "$g" "modinfo -F vermagic /xr/ko/xen-blkfront-pgnt.ko | grep '^$gk '"
gx_ok "$g" "fe_load pgnt"
gx_ok "$g" "grep '^xen_blkfront_pgnt ' /proc/modules"
gx_ok "$g" "fe_unload && ! grep -q '^xen_blkfront_pgnt ' /proc/modules"

# Hot-plugged disks on the stock frontend: a RAM disk and a loop disk (the
# loop-on-tmpfs disk offers what brd cannot: discard and flush).
FRONTEND=stock PERSISTENT=1
gx_ok "$g" "fe_load stock 1"
disk_brd
brd=$DISK
disk_loop 64
disk_attach "$g" "$brd:xvdb"
disk_attach "$g" "$DISK:xvdc"
gx_ok "$g" "wait_disk xvdb && wait_disk xvdc"
xs_features "$g" xvdb
expect_cmp "stock frontend connected" "$FE_STATE" == 4
expect_cmp "persistent grants negotiated" "$FE_PERSISTENT" == 1
xs_features "$g" xvdc
expect_cmp "loop disk: backend offers discard" "$BE_DISCARD" == 1
expect_cmp "loop disk: backend offers flush" "$BE_FLUSH" == 1
fio_ok "$g" xvdb skel-before-swap --rw=randwrite --bs=4k --size=8m --verify=crc32c --do_verify=0

# Frontend swap within one boot (unload, reload with persistent grants off):
# the disks come back, renegotiated, with their data.
PERSISTENT=0
fe_swap "$g" stock 0
xs_features "$g" xvdb
expect_cmp "reconnected after the swap" "$FE_STATE" == 4
expect_cmp "persistent grants off after the swap" "$FE_PERSISTENT" == 0
fio_ok "$g" xvdb skel-after-swap --rw=randwrite --bs=4k --size=8m --verify=crc32c --verify_only=1 --verify_fatal=1
guest_stop "$g"
be_unload
