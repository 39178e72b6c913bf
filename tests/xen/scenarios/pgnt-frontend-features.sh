# shellcheck shell=bash
# xen-blkfront-pgnt features against the stock backend and xen-blkback-pgnt: 2 queues, ring order 2, indirect segments, untrusted mode (parameter / xenstore node), flush, discard, read-only disk, resize; xenstore keys and fio crc32c verify
# group: long
#
# Guards what the frontend negotiates beyond the basics, on a loop disk
# (flush, discard, resize) in a 2-vCPU guest, and a read-only brd disk:
#  - multi-queue-num-queues=2 and queue-N/ring-refM nodes for ring order 2,
#    requests on both rings with fio jobs spread over both vCPUs;
#  - max_indirect_segments=64: the queue limit is the minimum of both ends
#    and 512 KiB requests go out as indirect requests;
#  - untrusted: trusted=0 as the module parameter (stock backend run) or
#    as the vbd's xenstore "trusted" node written by dom0 before connect
#    (pgnt backend run, where the other disk stays trusted);
#  - flush (fio --fsync=1 raises the backend's f_req), discard (blkdiscard
#    raises ds_req and frees the loop file's blocks);
#  - mode r: reads return dom0's data, a write fails and changes nothing;
#  - resize: dom0 grows the loop file, the guest's size follows, and I/O
#    beyond the old end verifies.
# FEAT_BACKENDS: default "stock pgnt".
FRONTEND=pgnt PERSISTENT=1
FEAT_SEGS=64

be_stat() {
	cat "/sys/bus/xen-backend/devices/vbd-$(guest_domid "$1")-$(vdev_id "$2")/statistics/$3" 2>/dev/null || echo n/a
}

# fe_get NAME DEV ATTR: one file of /sys/block/DEV/ATTR in the guest, in $FE_VAL.
fe_get() {
	FE_VAL=n/a
	gx "$1" "cat /sys/block/$2/$3" && FE_VAL=$(head -n1 "$GX_OUT")
}

for BACKEND in ${FEAT_BACKENDS:-stock pgnt}; do
	t=$BACKEND
	be_load "$BACKEND" 1
	disk_loop 256
	loop=$DISK
	file=$(losetup -nO BACK-FILE "$loop")
	disk_brd
	rodisk=$DISK
	must "$t: dom0 fills the read-only disk" dd if=/dev/urandom of="$rodisk" bs=1M count=4 oflag=direct
	ro_sum=$(dd if="$rodisk" bs=1M count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	g=pf-feat-$t
	# Two vCPUs under TCG on a busy host boot slower than one.
	GUEST_VCPUS=2 GUEST_BOOT_TIMEOUT=$((GUEST_BOOT_TIMEOUT * 2)) guest_start "$g" "$loop:xvdb"
	domid=$(guest_domid "$g")
	fe=/local/domain/$domid/device/vbd/$(vdev_id xvdb)
	if [ "$BACKEND" = stock ]; then
		trusted=0
	else
		# Per device: the node, written before the frontend connects.
		trusted=1
		must "$t: dom0 writes $fe/trusted = 0" xenstore-write "$fe/trusted" 0
	fi
	gx_must "$g" "insmod /xr/ko/xen-blkfront-pgnt.ko feature_persistent=1 max_queues=2 max_ring_page_order=2 max_indirect_segments=$FEAT_SEGS trusted=$trusted && wait_disk xvdb"
	xs_features "$g" xvdb
	expect_connected 1
	expect_cmp "$t: multi-queue-num-queues" "$FE_QUEUES" == 2
	expect_cmp "$t: ring-page-order" "$FE_RING_ORDER" == 2
	for q in 0 1; do
		for r in 0 1 2 3; do
			check "$t: $fe/queue-$q/ring-ref$r" xenstore-read "$fe/queue-$q/ring-ref$r"
		done
		check "$t: $fe/queue-$q/event-channel" xenstore-read "$fe/queue-$q/event-channel"
	done
	check "$t: no single-ring ring-ref node" sh -c "! xenstore-read $fe/ring-ref"
	segs=$BE_INDIRECT
	[ "$segs" -gt "$FEAT_SEGS" ] 2>/dev/null && segs=$FEAT_SEGS
	fe_get "$g" xvdb queue/max_segments
	expect_cmp "$t: max_segments = min(ours $FEAT_SEGS, backend $BE_INDIRECT)" "$FE_VAL" == "$segs"
	gx_ok "$g" "cat /sys/block/xvdb/pgnt/negotiated"
	xr_log "$t negotiated: $(cat "$GX_OUT")"
	check "$t: negotiated queues=2 ring_order=2 max_segs=$segs persistent=1 untrusted=1" \
		grep -q "state=connected queues=2 ring_order=2 max_segs=$segs persistent=1 untrusted=1 " "$GX_OUT"
	check "$t: flush negotiated" sh -c "! grep -q 'flush_op=0 ' $GX_OUT"
	check "$t: discard negotiated" grep -q "discard=1 " "$GX_OUT"

	# Several jobs over both vCPUs, so over both queues; all verified.
	fio_ok "$g" xvdb "pf-feat-$t-mq-verify" --rw=randwrite --bsrange=4k-512k --size=32m \
		--numjobs=4 --offset_increment=32m --iodepth=16 --cpus_allowed=0-1 --cpus_allowed_policy=split \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	gx_ok "$g" "grep . /sys/block/xvdb/pgnt/*"
	xr_log "$t stats: $(sed 's|^/sys/block/xvdb/pgnt/||' "$GX_OUT" | tr '\n' ' ')"
	st() { sed -n "s|^/sys/block/xvdb/pgnt/$1:||p" "$GX_OUT" | grep . || echo n/a; }
	read -r r0 r1 < <(st ring_requests)
	expect_cmp "$t: requests on ring 0" "${r0:-n/a}" ">" 0
	expect_cmp "$t: requests on ring 1" "${r1:-n/a}" ">" 0
	expect_cmp "$t: indirect requests" "$(st indirect_reqs)" ">" 0
	expect_cmp "$t: untrusted: segments bounced" "$(st bounced_segs)" ">" 0
	expect_cmp "$t: bad responses" "$(st bad_responses)" == 0
	expect_cmp "$t: error responses" "$(st errors)" == 0

	# Flush.
	f0=$(be_stat "$g" xvdb f_req)
	fio_ok "$g" xvdb "pf-feat-$t-fsync" --rw=write --bs=64k --size=4m --iodepth=1 --fsync=1
	f1=$(be_stat "$g" xvdb f_req)
	expect_cmp "$t: flushes reached the backend (f_req $f0 -> $f1)" "$f1" ">" "$f0"

	# Discard: the loop file's blocks are freed.
	sync
	b0=$(stat -c %b "$file")
	d0=$(be_stat "$g" xvdb ds_req)
	gx_ok "$g" "blkdiscard /dev/xvdb"
	sync
	b1=$(stat -c %b "$file")
	d1=$(be_stat "$g" xvdb ds_req)
	expect_cmp "$t: discards reached the backend (ds_req $d0 -> $d1)" "$d1" ">" "$d0"
	expect_cmp "$t: loop file blocks after discard < before ($b1 vs $b0)" "$b1" "<" "$b0"

	# Resize: 256 -> 384 MiB, I/O beyond the old end.
	must "$t: dom0 grows the loop file" truncate -s 384M "$file"
	must "$t: losetup -c" losetup -c "$loop"
	# A backend notices when its ring runs: poke it with reads until the size follows.
	gx_ok "$g" "n=0; while [ \$(cat /sys/block/xvdb/size) != 786432 ] && [ \$n -lt 60 ]; do fio --name=poke --filename=/dev/xvdb --rw=read --bs=4k --size=4k --direct=1 >/dev/null 2>&1; sleep 1; n=\$((n + 1)); done; cat /sys/block/xvdb/size" 120
	expect_cmp "$t: guest size after resize" "$(tail -n1 "$GX_OUT")" == 786432
	fio_ok "$g" xvdb "pf-feat-$t-beyond-old-end" --rw=randwrite --bs=64k --offset=256m --size=128m \
		--verify=crc32c --do_verify=1 --verify_fatal=1

	# Read-only disk (trusted in the pgnt run: the node is per device).
	check "$t: xl block-attach $g xvdc mode r" xl block-attach "$g" "phy:$rodisk,xvdc,r"
	gx_ok "$g" "wait_disk xvdc && cat /sys/block/xvdc/ro /sys/block/xvdc/pgnt/negotiated"
	expect_cmp "$t: xvdc read-only in the guest" "$(head -n1 "$GX_OUT")" == 1
	check "$t: xvdc untrusted=$((1 - trusted))" grep -q "untrusted=$((1 - trusted)) " "$GX_OUT"
	gx_ok "$g" "dd if=/dev/xvdc bs=1M count=4 2>/dev/null | md5sum"
	check "$t: xvdc reads dom0's data (md5 $ro_sum)" grep -q "^$ro_sum" "$GX_OUT"
	gx_ok "$g" "if dd if=/dev/zero of=/dev/xvdc bs=4096 count=1 conv=fsync; then echo write-succeeded; exit 1; fi; echo write-failed"
	after=$(dd if="$rodisk" bs=1M count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	check "$t: read-only disk unchanged in dom0" test "$after" = "$ro_sum"
	gx_ok "$g" "cat /sys/block/xvdc/pgnt/errors /sys/block/xvdc/pgnt/bad_responses"
	xr_log "$t xvdc errors, bad responses: $(tr '\n' ' ' <"$GX_OUT")"
	disk_detach "$g" xvdc
	gx_ok "$g" "wait_no_disk xvdc"

	gx_ok "$g" "fe_unload"
	guest_stop "$g"
	losetup -d "$loop" && rm -f "$file"
done
be_unload
