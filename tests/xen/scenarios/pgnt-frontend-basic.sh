# shellcheck shell=bash
# xen-blkfront-pgnt against the stock backend (persistent on, off) and xen-blkback-pgnt: xenstore and sysfs negotiation, fio crc32c verify 4k-1m, stats, unbind to 0 grants, reload in place (rebind) reconnects
# group: quick
#
# Guards the frontend's basic contract: it connects to either backend,
# offers feature-persistent as its parameter says and uses persistent
# grants only when both ends do; data survives random I/O of every size
# from 4 KiB to 1 MiB (indirect requests) with several jobs; the statistics
# show the pool and no bad responses; unbinding ends every grant cleanly
# (none held, none left deferred to the grant table); and the module
# reloaded in the same guest binds the same vbd again and reconnects (the
# backend is still Closed from the unbind when the new probe starts).
# PF_PAIRS: "BACKEND:PERSISTENT ..." (default "stock:1 stock:0 pgnt:1").
FRONTEND=pgnt
FP=/sys/module/xen_blkfront_pgnt/parameters

# fe_stat FILE: one value from the last "grep . /sys/block/xvdb/pgnt/*"
# output in $GX_OUT ("n/a" if absent).  Reads the file only: gx itself must
# not run in a $(...) subshell, or its step counter would go backwards.
fe_stat() {
	sed -n "s|^/sys/block/xvdb/pgnt/$1:||p" "$GX_OUT" | grep . || echo n/a
}

# gx_val KEY: "KEY=value" from the last guest output.
gx_val() {
	sed -n "s|^$1=||p" "$GX_OUT" | tail -n1 | grep . || echo n/a
}

for pair in ${PF_PAIRS:-stock:1 stock:0 pgnt:1}; do
	BACKEND=${pair%%:*} PERSISTENT=${pair##*:}
	t=$BACKEND-p$PERSISTENT
	be_load "$BACKEND" "$PERSISTENT"
	disk_brd
	g=pf-$t
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load pgnt $PERSISTENT"
	gx_must "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_connected "$PERSISTENT"
	gx_ok "$g" "cat /sys/block/xvdb/pgnt/negotiated"
	xr_log "$t negotiated: $(cat "$GX_OUT")"
	check "$t: sysfs persistent=$PERSISTENT" grep -q "state=connected .*persistent=$PERSISTENT " "$GX_OUT"

	fio_ok "$g" xvdb "pf-$t-prefill" --rw=write --bs=1m --iodepth=8
	fio_ok "$g" xvdb "pf-$t-randrw-4k" --rw=randrw --bs=4k --time_based --runtime="$FIO_RUNTIME"
	fio_ok "$g" xvdb "pf-$t-verify-4k-1m" --rw=randwrite --bsrange=4k-1m --size=32m \
		--numjobs=2 --offset_increment=32m --iodepth=16 \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	fio_ok "$g" xvdb "pf-$t-verify-4k" --rw=randwrite --bs=4k --size=16m --iodepth=64 \
		--verify=crc32c --do_verify=1 --verify_fatal=1

	gx_ok "$g" "grep . /sys/block/xvdb/pgnt/*"
	xr_log "$t stats: $(sed 's|^/sys/block/xvdb/pgnt/||' "$GX_OUT" | tr '\n' ' ')"
	expect_cmp "$t: bad responses" "$(fe_stat bad_responses)" == 0
	expect_cmp "$t: error responses" "$(fe_stat errors)" == 0
	expect_cmp "$t: requests counted" "$(fe_stat requests)" ">" 0
	expect_cmp "$t: indirect requests (1 MiB I/O)" "$(fe_stat indirect_reqs)" ">" 0
	if [ "$PERSISTENT" = 1 ]; then
		expect_cmp "$t: grants in the pool" "$(fe_stat pool_grants)" ">" 0
		expect_cmp "$t: grants reused" "$(fe_stat gnt_reuse)" ">" 0
	else
		expect_cmp "$t: no persistent grants" "$(fe_stat pool_grants)" == 0
		expect_cmp "$t: grants issued per request" "$(fe_stat gnt_new)" ">" 0
	fi

	# Unbind: the disk goes, every grant is ended (the backend closed first).
	gx_ok "$g" "echo held_before=\$(cat $FP/grants_held); for d in /sys/bus/xen/drivers/vbd/vbd-*; do echo \${d##*/} >/sys/bus/xen/drivers/vbd/unbind; done; wait_no_disk xvdb && echo held=\$(cat $FP/grants_held) deferred=\$(cat $FP/grants_deferred)"
	xr_log "$t unbind: $(tr '\n' ' ' <"$GX_OUT")"
	expect_cmp "$t: grants held while connected" "$(gx_val held_before)" ">" 0
	held=$(sed -n 's/^held=\([0-9-]*\) .*/\1/p' "$GX_OUT")
	deferred=$(sed -n 's/.* deferred=\([0-9-]*\)$/\1/p' "$GX_OUT")
	expect_cmp "$t: grants held after unbind" "${held:-n/a}" == 0
	expect_cmp "$t: grants deferred to the grant table" "${deferred:-n/a}" == 0
	# Reload in place: the same vbd is probed anew and must reconnect.
	gx_ok "$g" "rmmod xen_blkfront_pgnt"
	gx_ok "$g" "fe_load pgnt $PERSISTENT && wait_disk xvdb"
	xs_features "$g" xvdb
	expect_connected "$PERSISTENT"
	fio_ok "$g" xvdb "pf-$t-reverify-4k" --rw=randwrite --bs=4k --size=16m --iodepth=64 \
		--verify=crc32c --do_verify=1 --verify_only=1 --verify_fatal=1
	gx_ok "$g" "fe_unload"
	guest_stop "$g"
done
be_unload
