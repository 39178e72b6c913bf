# shellcheck shell=bash
# our .ko (built for the image's exact kernels) insmod/rmmod in dom0 and in a guest, plus a frontend swap in one guest boot
BACKEND=pgnt FRONTEND=pgnt

# dom0: our backend replaces the stock one and goes away cleanly.
be_unload
check "dom0: xen-blkback-pgnt.ko vermagic is $KVER" \
	bash -c "modinfo -F vermagic '$DOM0_KO/xen-blkback-pgnt.ko' | grep -q '^$KVER '"
be_load pgnt 1
check "dom0: xen_blkback_pgnt listed in /proc/modules" mod_loaded xen_blkback_pgnt
xr_log "dom0: $(grep -h . "/sys/module/xen_blkback_pgnt/version" 2>/dev/null || echo no version) $(dmesg | grep -i 'blkback.pgnt\|blkback_pgnt' | tail -n1)"
be_unload
check "dom0: xen_blkback_pgnt gone after rmmod" bash -c '! grep -q "^xen_blkback_pgnt " /proc/modules'

# guest: stock backend serves a disk; the guest swaps frontends at run time.
BACKEND=stock FRONTEND=stock
be_load stock 1
disk_brd
brd=$DISK
disk_loop 64
g=skel
guest_start "$g" "$brd:xvdb" "$DISK:xvdc"
gk=$(cat "$PAYLOAD/guest/$GUEST_KERNEL/kver")
gx_ok "$g" "modinfo -F vermagic /xr/ko/xen-blkfront-pgnt.ko | grep '^$gk '"
FRONTEND=pgnt
gx_ok "$g" "fe_load pgnt"
gx_ok "$g" "grep '^xen_blkfront_pgnt ' /proc/modules"
gx_ok "$g" "fe_unload && ! grep -q '^xen_blkfront_pgnt ' /proc/modules"
# Module swap within one boot: stock frontend, unload, load again; the disk
# must disappear and come back each time.
FRONTEND=stock
gx_ok "$g" "fe_load stock 1 && wait_disk xvdb && wait_disk xvdc"
xs_features "$g" xvdb
expect_cmp "stock frontend connected" "$FE_STATE" == 4
# The loop-on-tmpfs disk offers what brd cannot: discard and flush.
xs_features "$g" xvdc
expect_cmp "loop disk: backend offers discard" "$BE_DISCARD" == 1
expect_cmp "loop disk: backend offers flush" "$BE_FLUSH" == 1
gx_ok "$g" "fe_unload && wait_no_disk xvdb && wait_no_disk xvdc"
gx_ok "$g" "fe_load pgnt && grep '^xen_blkfront_pgnt ' /proc/modules && fe_unload"
FRONTEND=stock
gx_ok "$g" "fe_load stock 1 && wait_disk xvdb && wait_disk xvdc"
xs_features "$g" xvdb
expect_cmp "stock frontend reconnected after the swap" "$FE_STATE" == 4
FRONTEND=stock PERSISTENT=1 fio_ok "$g" xvdb skel-after-swap --rw=randrw --bs=4k --size=8m \
	--verify=crc32c --do_verify=1 --verify_fatal=1
guest_stop "$g"
be_unload
