# shellcheck shell=bash
# xen-blkfront-pgnt: xl save + xl restore in the middle of crc32c-verified fio write runs (stock backend persistent on -> off; then stock -> xen-blkback-pgnt), a live migration to localhost during one, and a block-detach/attach cycle
# group: long
#
# Guards the resume path: requests in flight when the guest is saved are
# replayed on the rings negotiated after restore, and the backend may
# differ after restore: first the stock backend with persistent grants on
# before and off after, then the stock backend replaced by
# xen-blkback-pgnt (persistent on again, other indirect and ring limits).
# fio must finish with 0 verify errors and the frontend must count a
# reconnect each time.  Then the guest live-migrates to this same host
# (xl's -s '': the receiving side is a local xl migrate-receive) during a
# verified run, which goes through the same suspend/resume path with the
# pages copied while the guest still runs.  Then the disk is detached and
# attached again, and data written before the detach verifies after it.
FRONTEND=pgnt
GUEST_MEM=${SR_GUEST_MEM:-512}
# Not /run: that tmpfs is too small for a 512 MiB guest image (ENOSPC).
SAVE=/var/tmp/pf-sr.save

# sr_run LABEL OFFSET: start a verified fio write run in the guest's
# background; its exit code lands in /tmp/LABEL.rc.
sr_run() {
	gx_must "$g" "rm -f /tmp/$1.rc; (fio --name=$1 --filename=/dev/xvdb --ioengine=libaio --direct=1 --iodepth=32 --rw=randwrite --bsrange=4k-256k --offset=$2 --size=48m --verify=crc32c --do_verify=1 --verify_fatal=1 >/tmp/$1.out 2>&1; echo \$? >/tmp/$1.rc) >/dev/null 2>&1 &"
}

# sr_wait LABEL: wait for the background run, check its result.
sr_wait() {
	gx_ok "$g" "n=0; while [ ! -s /tmp/$1.rc ] && [ \$n -lt 600 ]; do sleep 2; n=\$((n + 2)); done; cat /tmp/$1.out; exit \$(cat /tmp/$1.rc)" 1300
}

# sr_cycle LABEL BACKEND PERSISTENT: save, switch the backend, restore.
sr_cycle() {
	local t0 n
	t0=$(uptime_s)
	must "$1: dom0: xl save $g" xl save "$g" "$SAVE"
	BACKEND=$2 PERSISTENT=$3
	# The saved domain's backend devices go asynchronously; a module
	# still serving them cannot be unloaded.
	n=0
	while ls /sys/bus/xen-backend/devices/ 2>/dev/null | grep -q '^vbd-' && [ $n -lt 30 ]; do
		sleep 1
		n=$((n + 1))
	done
	be_load "$BACKEND" "$PERSISTENT"
	must "$1: dom0: xl restore" xl restore "$SAVE"
	rm -f "$SAVE"
	xr_log "$1: save + restore took $(($(uptime_s) - t0)) s"
}

BACKEND=stock PERSISTENT=1
be_load stock 1
disk_brd
g=pf-sr
guest_start "$g" "$DISK:xvdb"
gx_must "$g" "fe_load pgnt 1"
gx_must "$g" "wait_disk xvdb"
xs_features "$g" xvdb
expect_connected 1

# sr_after STEP EVENT PERSISTENT RECONNECTS: the frontend's view after the
# save/restore or migration: persistent grants as expected, one more
# reconnect, no bad response.
sr_after() {
	local on=off
	[ "$3" = 1 ] && on=on
	gx_ok "$g" "cat /sys/block/xvdb/pgnt/negotiated /sys/block/xvdb/pgnt/reconnects /sys/block/xvdb/pgnt/bad_responses"
	xr_log "$1 after $2: $(tr '\n' ' ' <"$GX_OUT")"
	check "$1: persistent grants $on after $2" grep -q "persistent=$3 " "$GX_OUT"
	expect_cmp "$1: reconnects" "$(sed -n 2p "$GX_OUT")" == "$4"
	expect_cmp "$1: bad responses" "$(sed -n 3p "$GX_OUT")" == 0
}

# 1: the stock backend turns persistent grants off while the guest is away.
sr_run sr1 0
sleep 5
sr_cycle sr1 stock 0
sr_wait sr1
xs_features "$g" xvdb
# Our parameter still offers persistent grants; the backend now refuses.
expect_connected 0 1
sr_after sr1 restore 0 1
fio_ok "$g" xvdb "pf-sr1-after" --rw=randrw --bs=4k --size=16m \
	--verify=crc32c --do_verify=1 --verify_fatal=1

# 2: restored onto xen-blkback-pgnt instead of the stock backend.
sr_run sr2 64m
sleep 5
sr_cycle sr2 pgnt 1
sr_wait sr2
xs_features "$g" xvdb
expect_connected 1
sr_after sr2 restore 1 2

# 3: live migration to localhost during a verified write run.
sr_run sr3 96m
sleep 5
t0=$(uptime_s)
must "sr3: dom0: xl migrate $g localhost" xl migrate -s '' "$g" 'xl migrate-receive'
xr_log "sr3: live migration took $(($(uptime_s) - t0)) s"
sr_wait sr3
xs_features "$g" xvdb
expect_connected 1
sr_after sr3 migration 1 3

# 4: block-detach and attach; data written before verifies after.
fio_ok "$g" xvdb "pf-sr4-write" --rw=randwrite --bs=4k --size=16m --offset=128m \
	--verify=crc32c --do_verify=1 --verify_fatal=1
disk_detach "$g" xvdb
gx_ok "$g" "wait_no_disk xvdb"
disk_attach "$g" "$DISK:xvdb"
gx_ok "$g" "wait_disk xvdb"
xs_features "$g" xvdb
expect_connected 1
fio_ok "$g" xvdb "pf-sr4-reverify" --rw=randwrite --bs=4k --size=16m --offset=128m \
	--verify=crc32c --do_verify=1 --verify_only=1 --verify_fatal=1
gx_ok "$g" "fe_unload"
guest_stop "$g"
be_unload
