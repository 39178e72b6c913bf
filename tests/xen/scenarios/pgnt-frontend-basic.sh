# shellcheck shell=bash
# xen-blkfront-pgnt against the stock backend, persistent grants on and off: xenstore and sysfs negotiation, fio crc32c verify 4k-1m, stats, reload
#
# Guards the frontend's basic contract: it connects to the stock backend,
# offers feature-persistent as its parameter says and uses persistent grants
# only when both ends do; data survives random I/O of every size from 4 KiB
# to 1 MiB (indirect requests) with several jobs; the statistics show the
# pool and no bad responses; unloading and reloading leaves no grant behind.
BACKEND=stock FRONTEND=pgnt

# fe_stat FILE: one value from the last "grep . /sys/block/xvdb/pgnt/*"
# output in $GX_OUT ("n/a" if absent).  Reads the file only: gx itself must
# not run in a $(...) subshell, or its step counter would go backwards.
fe_stat() {
	sed -n "s|^/sys/block/xvdb/pgnt/$1:||p" "$GX_OUT" | grep . || echo n/a
}

for PERSISTENT in ${PERSISTENT_MODES:-1 0}; do
	be_load stock "$PERSISTENT"
	disk_brd
	g=pf-p$PERSISTENT
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load pgnt $PERSISTENT"
	gx_must "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_connected "$PERSISTENT"
	gx_ok "$g" "cat /sys/block/xvdb/pgnt/negotiated"
	xr_log "p$PERSISTENT negotiated: $(cat "$GX_OUT")"
	check "p$PERSISTENT: sysfs persistent=$PERSISTENT" grep -q "state=connected .*persistent=$PERSISTENT " "$GX_OUT"

	fio_ok "$g" xvdb "pf-p$PERSISTENT-prefill" --rw=write --bs=1m --iodepth=8
	fio_ok "$g" xvdb "pf-p$PERSISTENT-randrw-4k" --rw=randrw --bs=4k --time_based --runtime="$FIO_RUNTIME"
	fio_ok "$g" xvdb "pf-p$PERSISTENT-verify-4k-1m" --rw=randwrite --bsrange=4k-1m --size=32m \
		--numjobs=2 --offset_increment=32m --iodepth=16 \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	fio_ok "$g" xvdb "pf-p$PERSISTENT-verify-4k" --rw=randwrite --bs=4k --size=16m --iodepth=64 \
		--verify=crc32c --do_verify=1 --verify_fatal=1

	gx_ok "$g" "grep . /sys/block/xvdb/pgnt/*"
	xr_log "p$PERSISTENT stats: $(sed 's|^/sys/block/xvdb/pgnt/||' "$GX_OUT" | tr '\n' ' ')"
	expect_cmp "p$PERSISTENT: bad responses" "$(fe_stat bad_responses)" == 0
	expect_cmp "p$PERSISTENT: error responses" "$(fe_stat errors)" == 0
	expect_cmp "p$PERSISTENT: requests counted" "$(fe_stat requests)" ">" 0
	if [ "$PERSISTENT" = 1 ]; then
		expect_cmp "p1: grants in the pool" "$(fe_stat pool_grants)" ">" 0
		expect_cmp "p1: grants reused" "$(fe_stat gnt_reuse)" ">" 0
	else
		expect_cmp "p0: no persistent grants" "$(fe_stat pool_grants)" == 0
		expect_cmp "p0: grants issued per request" "$(fe_stat gnt_new)" ">" 0
	fi

	# Unload and reload: the disk goes and comes back, the data is still there.
	gx_ok "$g" "fe_unload && wait_no_disk xvdb"
	gx_ok "$g" "fe_load pgnt $PERSISTENT && wait_disk xvdb"
	fio_ok "$g" xvdb "pf-p$PERSISTENT-reverify-4k" --rw=randwrite --bs=4k --size=16m --iodepth=64 \
		--verify=crc32c --do_verify=1 --verify_only=1 --verify_fatal=1
	gx_ok "$g" "fe_unload"
	guest_stop "$g"
done
be_unload
