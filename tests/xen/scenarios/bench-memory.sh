# shellcheck shell=bash
# benchmark, not a pass/fail test: dom0 memory per connected ring, stock xen-blkback vs xen-blkback-pgnt (persistent on), stock frontend with 3 disks at ring order 0 and 4, 1 and 4 queues, idle and under 4 KiB random I/O within the grant budget; prints KiB per ring and ours/stock
# group: bench
#
# For each backend and each MEM_CONFIGS entry (ORDER:QUEUES, default
# "0:1 0:4 4:1 4:4"), the guest (4 vCPUs, 1536 MiB) has no disk and no frontend,
# and dom0's free memory is read (MemFree plus the per-CPU free lists,
# after drop_caches, the median of five reads): the base.  Then the stock
# frontend loads with max_ring_page_order=ORDER max_queues=QUEUES and
# three disks are attached and connect; MemFree is read again once idle, and again while fio runs 4 KiB
# random read/write on all three (iodepth 32, QUEUES jobs per disk, a
# prefilled 64 MiB region, so brd allocates nothing).  Per ring = (base -
# now) / (3 x negotiated queues), in KiB; Slab is reported the same way.
# The disks are brd, prefilled in dom0, so the backends' own allocations
# are all that changes.  Output: results/<scenario>/memory.tsv and
# memory-ratios.tsv, with the targets ours <= 0.25x stock at order 4 and
# <= stock at order 0.  The checks assert that every configuration
# negotiated what was asked and that fio ran without errors.
FRONTEND=stock PERSISTENT=1
CONFIGS=${MEM_CONFIGS:-0:1 0:4 4:1 4:4}
MEM_RUNTIME=${MEM_RUNTIME:-15}
GX_TIMEOUT=200
OUT=$SC_DIR/memory.tsv
printf 'backend\torder\tqueues\trings\tidle_kib_per_ring\tio_kib_per_ring\tidle_slab_kib_per_ring\tio_slab_kib_per_ring\tcopy_pages\n' >"$OUT"

# mem_sample: MEMFREE (MemFree plus the per-CPU free lists, which MemFree
# leaves out) and SLAB, in KiB: medians of five reads after drop_caches.
mem_sample() {
	local i f s fs=() ss=()
	for i in 1 2 3 4 5; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		read -r f s < <(awk '/^MemFree:/ { f = $2 } /^Slab:/ { s = $2 } /^ +count:/ { p += $2 }
			END { print f + p * 4, s }' /proc/meminfo /proc/zoneinfo)
		fs+=("$f") ss+=("$s")
		sleep 0.5
	done
	MEMFREE=$(printf '%s\n' "${fs[@]}" | sort -n | sed -n 3p)
	SLAB=$(printf '%s\n' "${ss[@]}" | sort -n | sed -n 3p)
}

# per_ring BASE NOW RINGS: (BASE - NOW) / RINGS, one decimal.
per_ring() { awk -v b="$1" -v n="$2" -v r="$3" 'BEGIN { printf "%.1f", (b - n) / r }'; }

# mem_config G BACKEND ORDER QUEUES
mem_config() {
	local g=$1 be=$2 order=$3 nq=$4 label="$2-o$3-q$4" base_f base_s idle_f idle_s rings got_order got_q d
	# A frontend unbound in place stays Closed: detach, reload, attach.
	if [ "$ATTACHED" = 1 ]; then
		for d in 1 2 3; do disk_detach "$g" "${V[d]}"; done
	fi
	gx_must "$g" "fe_unload"
	sleep 3
	mem_sample
	base_f=$MEMFREE base_s=$SLAB
	gx_must "$g" "modprobe xen_blkfront max_ring_page_order=$order max_queues=$nq feature_persistent=1"
	for d in 1 2 3; do disk_attach "$g" "${D[d]}:${V[d]}"; done
	ATTACHED=1
	gx_must "$g" "wait_disk xvdb && wait_disk xvdc && wait_disk xvdd"
	xs_features "$g" xvdb
	expect_connected 1
	# A one-page ring has no ring-page-order node; one queue may have no queue count.
	got_order=$FE_RING_ORDER got_q=$FE_QUEUES
	[ "$got_order" != n/a ] || got_order=0
	[ "$got_q" != n/a ] || got_q=1
	expect_cmp "$label: ring order negotiated" "$got_order" == "$order"
	expect_cmp "$label: queues negotiated" "$got_q" == "$nq"
	rings=$((3 * got_q))
	sleep 2
	mem_sample
	idle_f=$MEMFREE idle_s=$SLAB
	gx_must "$g" "rm -f /tmp/fio.rc; (fio --ioengine=libaio --direct=1 --bs=4k --rw=randrw --iodepth=32 --size=64m --time_based --runtime=$MEM_RUNTIME --numjobs=$nq --group_reporting --name=b --filename=/dev/xvdb --name=c --filename=/dev/xvdc --name=d --filename=/dev/xvdd >/tmp/fio.out 2>&1; echo \$? >/tmp/fio.rc) >/dev/null 2>&1 &"
	sleep 4
	mem_sample
	d=0
	until gx "$g" "test -s /tmp/fio.rc" 30; do
		d=$((d + 1))
		[ "$d" -lt 60 ] || break
		sleep 2
	done
	gx "$g" "cat /tmp/fio.rc" 30
	expect_cmp "$label: fio exit status" "$(head -n 1 "$GX_OUT")" == 0
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$be" "$order" "$nq" "$rings" \
		"$(per_ring "$base_f" "$idle_f" "$rings")" "$(per_ring "$base_f" "$MEMFREE" "$rings")" \
		"$(per_ring "$idle_s" "$base_s" "$rings")" "$(per_ring "$SLAB" "$base_s" "$rings")" \
		"$(cat /sys/module/xen_blkback_pgnt/parameters/copy_pages_total 2>/dev/null || echo -)" >>"$OUT"
	xr_log "$label: $rings rings, MemFree base $base_f idle $idle_f io $MEMFREE KiB, Slab base $base_s idle $idle_s io $SLAB KiB"
}

D=() V=(- xvdb xvdc xvdd)
for i in 1 2 3; do
	disk_brd
	# Every page of the region exists before the base: brd allocates on first write.
	dd if=/dev/zero of="$DISK" bs=1M count=64 oflag=direct status=none || sc_abort "prefill $DISK"
	D[i]=$DISK
done

for be in stock pgnt; do
	BACKEND=$be
	be_load "$be" 1
	if [ "$be" = pgnt ]; then
		echo 4 >/sys/module/xen_blkback_pgnt/parameters/max_queues
	else
		echo 4 >/sys/module/xen_blkback/parameters/max_queues
	fi
	g=mem-$be
	# The stock frontend allocates its grant pages per ring at connect
	# (about 66 MiB per ring of order 4): 12 of them need the memory.
	GUEST_MEM=1536 GUEST_VCPUS=4 guest_start "$g"
	ATTACHED=0
	for c in $CONFIGS; do
		mem_config "$g" "$be" "${c%%:*}" "${c##*:}"
	done
	guest_stop "$g"
done
be_unload

# ours / stock per configuration, and the target of each ring order.
awk -F'\t' -v OFS='\t' 'NR == 1 { next }
	{ k = $2 FS $3; if ($1 == "stock") { si[k] = $5; sio[k] = $6 } else { oi[k] = $5; oio[k] = $6; keys[++n] = k } }
	END { print "order", "queues", "stock_idle_kib", "ours_idle_kib", "idle_ours/stock", "stock_io_kib", "ours_io_kib", "io_ours/stock", "target", "met"
		for (i = 1; i <= n; i++) { k = keys[i]; split(k, a, FS)
			ri = si[k] > 0 ? oi[k] / si[k] : -1; rio = sio[k] > 0 ? oio[k] / sio[k] : -1
			t = a[1] == 4 ? 0.25 : 1
			met = (ri >= 0 && rio >= 0 && ri <= t && rio <= t) ? "yes" : "no"
			printf "%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t<=%s\t%s\n", a[1], a[2], si[k], oi[k], ri, sio[k], oio[k], rio, t, met } }' \
	"$OUT" >"$SC_DIR/memory-ratios.tsv"
xr_log "dom0 memory per connected ring, KiB (stock frontend, persistent grants on, 3 disks):"
xr_log_table "$OUT"
xr_log_table "$SC_DIR/memory-ratios.tsv"
