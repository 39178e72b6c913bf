# shellcheck shell=bash
# xen-blkfront-pgnt on the stock backend: xl save + xl restore in the middle of a crc32c-verified fio write run, persistent on then off
#
# Guards the resume path: requests in flight when the guest is saved are
# replayed on the rings negotiated after restore, and the backend's
# persistent-grant setting may differ after restore (on before, off after):
# fio must finish with 0 verify errors and the frontend must count one
# reconnect.
BACKEND=stock FRONTEND=pgnt
GUEST_MEM=${SR_GUEST_MEM:-512}
# Not /run: that tmpfs is too small for a 512 MiB guest image (ENOSPC).
SAVE=/var/tmp/pf-sr.save

be_load stock 1
disk_brd
g=pf-sr
guest_start "$g" "$DISK:xvdb"
gx_must "$g" "fe_load pgnt 1"
gx_must "$g" "wait_disk xvdb"
xs_features "$g" xvdb
expect_cmp "before save: backend feature-persistent" "$BE_PERSISTENT" == 1

# fio in the background of the guest; its exit code lands in /tmp/sr.rc.
gx_must "$g" "rm -f /tmp/sr.rc; (fio --name=sr --filename=/dev/xvdb --ioengine=libaio --direct=1 --iodepth=32 --rw=randwrite --bsrange=4k-256k --size=48m --verify=crc32c --do_verify=1 --verify_fatal=1 >/tmp/sr.out 2>&1; echo \$? >/tmp/sr.rc) >/dev/null 2>&1 &"
sleep 5
# The backend changes its mind while the guest is away.
must "dom0: xl save $g" xl save "$g" "$SAVE"
be_load stock 0
must "dom0: xl restore" xl restore "$SAVE"
rm -f "$SAVE"
gx_ok "$g" "n=0; while [ ! -s /tmp/sr.rc ] && [ \$n -lt 600 ]; do sleep 2; n=\$((n + 2)); done; cat /tmp/sr.out; exit \$(cat /tmp/sr.rc)" 1300
xs_features "$g" xvdb
expect_cmp "after restore: backend feature-persistent" "$BE_PERSISTENT" == 0
expect_cmp "after restore: frontend state Connected" "$FE_STATE" == 4
gx_ok "$g" "cat /sys/block/xvdb/pgnt/negotiated /sys/block/xvdb/pgnt/reconnects /sys/block/xvdb/pgnt/bad_responses"
xr_log "after restore: $(tr '\n' ' ' <"$GX_OUT")"
check "after restore: persistent grants off" grep -q "persistent=0 " "$GX_OUT"
fio_ok "$g" xvdb "pf-sr-after" --rw=randrw --bs=4k --size=16m \
	--verify=crc32c --do_verify=1 --verify_fatal=1
gx_ok "$g" "fe_unload"
guest_stop "$g"
be_unload
