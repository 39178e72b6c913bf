# shellcheck shell=bash
# xen-blkback-pgnt against the stock frontend, persistent grants on and off: xenstore, fio crc32c verify 4k-1m, grant ops within and beyond the budget (copy, 0 maps), discard/flush, stats, teardown to 0 grants, rmmod refusal, coexistence with stock
# group: quick
#
# Guards the backend's basic contract: it serves the stock frontend with
# and without persistent grants (feature-persistent on only when both ends
# say 1); data survives random I/O of 4 KiB to 1 MiB (indirect requests);
# after warm-up it maps nothing per I/O, and still nothing once the working
# set exceeds the per-ring budget (GNTTABOP_copy instead); discard and flush
# reach the device; no request is refused; destroying the guest leaves no
# persistent grant mapped; rmmod is refused while a guest is connected; and
# the module refuses to load while stock xen-blkback holds "vbd".
BACKEND=pgnt FRONTEND=stock
# A stuck data path should cost minutes, not the scenario timeout.
GX_TIMEOUT=150
BBP=/sys/module/xen_blkback_pgnt/parameters

# be_stat NAME FILE: one statistics file of NAME's xvdb backend device.
be_stat() {
	local domid
	domid=$(guest_domid "$1")
	cat "/sys/bus/xen-backend/devices/vbd-$domid-$(vdev_id xvdb)/statistics/$2" 2>/dev/null || echo n/a
}

# copy_idle G: copy pages held now go back to dom0 once the copy path has
# been idle for 10 s (the ring thread checks every second).
copy_idle() {
	local n=0
	while [ "$(be_stat "$1" copy_pages)" != 0 ] && [ "$n" -lt 25 ]; do
		sleep 1
		n=$((n + 1))
	done
	xr_log "p$PERSISTENT: copy pages back to 0 after ${n}s idle"
	expect_cmp "p$PERSISTENT: copy pages given back when idle" "$(be_stat "$1" copy_pages)" == 0
	expect_cmp "p$PERSISTENT: copy pages of the module" "$(cat "$BBP/copy_pages_total")" == 0
}

be_stats_log() {
	local domid
	domid=$(guest_domid "$1")
	xr_log "$2 backend stats: $(cd "/sys/bus/xen-backend/devices/vbd-$domid-$(vdev_id xvdb)/statistics" &&
		grep -H . -- * | tr '\n' ' ')"
}

# be_debug NAME LABEL: after a failed or stuck phase, what the backend
# threads are doing and what the counters say (dom0-dmesg, dom0.log).
be_debug() {
	local t
	be_stats_log "$1" "$2"
	for t in $(pgrep '^blkbk-pg'); do
		xr_log "$2: thread $t ($(cat "/proc/$t/comm")) stack: $(tr '\n' ' ' <"/proc/$t/stack")"
	done
	echo w >/proc/sysrq-trigger
	gx "$1" "cat /sys/block/xvdb/inflight; cat /sys/block/xvdb/stat" 30 &&
		xr_log "$2: guest xvdb inflight/stat: $(tr '\n' ' ' <"$GX_OUT")"
}

for PERSISTENT in ${PERSISTENT_MODES:-1 0}; do
	be_load pgnt "$PERSISTENT"
	echo 1056 >"$BBP/max_persistent_grants"
	echo Y >"$BBP/overflow_copy"
	disk_loop 256
	g=pb-p$PERSISTENT
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load stock $PERSISTENT"
	gx_must "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_connected "$PERSISTENT"
	expect_cmp "p$PERSISTENT: feature-max-indirect-segments" "$BE_INDIRECT" == 256
	expect_cmp "p$PERSISTENT: max-ring-page-order" "$BE_MAX_RING_ORDER" == 4
	expect_cmp "p$PERSISTENT: feature-discard (loop)" "$BE_DISCARD" == 1
	check "p$PERSISTENT: rmmod refused while connected" sh -c '! rmmod xen_blkback_pgnt'

	# Small, bounded phases first: a stuck data path shows up here.
	fio_ok "$g" xvdb "pb-p$PERSISTENT-write-4k" --rw=randwrite --bs=4k --time_based --runtime=5 ||
		be_debug "$g" "p$PERSISTENT write 4k"
	fio_ok "$g" xvdb "pb-p$PERSISTENT-write-128k" --rw=write --bs=128k --iodepth=8 --time_based --runtime=5 ||
		be_debug "$g" "p$PERSISTENT write 128k"
	fio_ok "$g" xvdb "pb-p$PERSISTENT-prefill" --rw=write --bs=1m --iodepth=8 ||
		be_debug "$g" "p$PERSISTENT prefill"
	fio_ok "$g" xvdb "pb-p$PERSISTENT-randrw-4k" --rw=randrw --bs=4k --time_based --runtime="$FIO_RUNTIME"
	# Ours never maps per I/O: persistent grants after warm-up, else copies.
	expect_cmp "p$PERSISTENT randrw 4k: map ops per I/O" "$PH_MAP_PER_IO" "<" 0.05
	expect_cmp "p$PERSISTENT randrw 4k: unmap ops per I/O" "$PH_UNMAP_PER_IO" "<" 0.05
	if [ "$PERSISTENT" = 0 ]; then
		expect_cmp "p0 randrw 4k: copy ops per I/O" "$PH_COPY_PER_IO" ">=" 0.95
		expect_cmp "p0 randrw 4k: copy pages held" "$(be_stat "$g" copy_pages)" ">" 0
	else
		# Within the budget nothing is copied, so no copy page is held.
		expect_cmp "p1 randrw 4k: copy pages held" "$(be_stat "$g" copy_pages)" == 0
	fi
	expect_cmp "p$PERSISTENT: copy pages <= copy_pool_pages" "$(be_stat "$g" copy_pages)" "<=" \
		"$(cat "$BBP/copy_pool_pages")"
	fio_ok "$g" xvdb "pb-p$PERSISTENT-verify-4k-1m" --rw=randwrite --bsrange=4k-1m --size=32m \
		--numjobs=2 --offset_increment=32m --iodepth=16 \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	fio_ok "$g" xvdb "pb-p$PERSISTENT-verify-4k" --rw=randwrite --bs=4k --size=16m --iodepth=64 \
		--verify=crc32c --do_verify=1 --verify_fatal=1

	if [ "$PERSISTENT" = 1 ]; then
		expect_cmp "p1: persistent grant hits" "$(be_stat "$g" pgrant_hits)" ">" 0
		expect_cmp "p1: persistent grants mapped <= 1056" "$(be_stat "$g" pgrants_mapped)" "<=" 1056
		# Beyond the budget: a ring budget of 16, 1 MiB writes.
		echo 16 >"$BBP/max_persistent_grants"
		sleep 3
		expect_cmp "p1 budget 16: mapped after trim" "$(be_stat "$g" pgrants_mapped)" "<=" 16
		fio_ok "$g" xvdb "pb-p1-budget16-warm" --rw=write --bs=1m --iodepth=8 --size=32m
		fio_ok "$g" xvdb "pb-p1-budget16-write-1m" --rw=write --bs=1m --iodepth=8 --time_based \
			--runtime="$FIO_RUNTIME"
		expect_cmp "p1 budget 16: map ops per I/O" "$PH_MAP_PER_IO" "<" 0.05
		expect_cmp "p1 budget 16: copy ops per I/O" "$PH_COPY_PER_IO" ">" 1
		expect_cmp "p1 budget 16: mapped" "$(be_stat "$g" pgrants_mapped)" "<=" 16
		expect_cmp "p1 budget 16: refusals counted" "$(be_stat "$g" budget_refusals)" ">" 0
		expect_cmp "p1 budget 16: copy pages held" "$(be_stat "$g" copy_pages)" ">" 0
		fio_ok "$g" xvdb "pb-p1-budget16-verify-1m" --rw=randwrite --bs=1m --size=32m --iodepth=8 \
			--verify=crc32c --do_verify=1 --verify_fatal=1
		# The comparison mode: map+unmap per request beyond the budget.
		echo N >"$BBP/overflow_copy"
		fio_ok "$g" xvdb "pb-p1-budget16-mapmode-1m" --rw=write --bs=1m --iodepth=8 --time_based \
			--runtime="$FIO_RUNTIME"
		expect_cmp "p1 budget 16 overflow_copy=N: map ops per I/O" "$PH_MAP_PER_IO" ">" 1
		expect_cmp "p1 budget 16 overflow_copy=N: unmaps == maps" "$PH_UNMAP_OPS" == "$PH_MAP_OPS"
		echo Y >"$BBP/overflow_copy"
		echo 1056 >"$BBP/max_persistent_grants"
	fi

	# Discard and flush reach the device.
	gx_ok "$g" "blkdiscard -o 0 -l 4194304 /dev/xvdb"
	expect_cmp "p$PERSISTENT: discard requests" "$(be_stat "$g" ds_req)" ">" 0
	fio_ok "$g" xvdb "pb-p$PERSISTENT-fsync" --rw=write --bs=64k --size=8m --iodepth=1 --fsync=4
	expect_cmp "p$PERSISTENT: flush requests" "$(be_stat "$g" f_req)" ">" 0

	be_stats_log "$g" "p$PERSISTENT"
	copy_idle "$g"
	for f in err_grant err_io err_ring err_bad_op err_bad_nsegs err_bad_segment err_bad_range \
		err_bad_align err_bad_readonly err_bad_indirect_op err_not_supported; do
		expect_cmp "p$PERSISTENT: $f" "$(be_stat "$g" "$f")" == 0
	done
	guest_stop "$g"
	sleep 2
	expect_cmp "p$PERSISTENT: no persistent grant left after destroy" "$(cat "$BBP/pgrants_mapped_total")" == 0
done
be_unload
check "dom0: xen_blkback_pgnt unloaded" sh -c '! grep -q "^xen_blkback_pgnt " /proc/modules'

# Coexistence: with stock loaded, ours must refuse to load, clearly.
if modprobe xen_blkback; then
	check "insmod refused while stock xen-blkback is loaded" sh -c "! insmod $DOM0_KO/xen-blkback-pgnt.ko"
	check "refusal explained in dmesg" sh -c 'dmesg | tail -n 20 | grep -q "already registered: unload it first"'
	check "dom0: rmmod xen_blkback" rmmod xen_blkback
fi
