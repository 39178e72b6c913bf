# shellcheck shell=bash
# xen-blkback-pgnt lifecycle: xl block-attach/detach cycles with I/O, guest destroys during fio, frontend reload (reconnect); no grant, device or module reference left, slab stable
# group: long
#
# Guards teardown: every path that ends a connection (detach, destroy with
# I/O in flight, frontend unbind and rebind) must wait for the I/O, unmap
# every persistent grant and free the device; the module must unload at the
# end.  Cycle counts are small for a TCG rig: ATTACH_CYCLES (10),
# DESTROY_CYCLES (3).  ATTACH_MAX_S (0 = none) stops the attach cycles after
# that many seconds, so that a long run still reaches its destroy cycles and
# final checks (DESTROY_MAX_S likewise for the destroy cycles); the
# cycle-count check then fails and says how many were done.
# Every PROGRESS_EVERY (10) cycles a progress line logs slab, free memory
# and persistent grants.
BACKEND=pgnt FRONTEND=stock PERSISTENT=1
BBP=/sys/module/xen_blkback_pgnt/parameters
ATTACH_CYCLES=${ATTACH_CYCLES:-10}
DESTROY_CYCLES=${DESTROY_CYCLES:-3}
ATTACH_MAX_S=${ATTACH_MAX_S:-0}
DESTROY_MAX_S=${DESTROY_MAX_S:-0}
PROGRESS_EVERY=${PROGRESS_EVERY:-10}

slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
memfree_kb() { awk '/^MemFree:/ { print $2 }' /proc/meminfo; }

# slab_snapshot NAME: drop clean caches (the page cache of the rig's own
# files brings buffer heads and radix tree nodes; dentries and inodes of
# sysfs/xenstore lookups: none of them leaks), then keep /proc/slabinfo.
slab_snapshot() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	cp /proc/slabinfo "$SC_DIR/slabinfo-$1.txt"
}

# progress WHAT N: one line with the figures a leak would move.
progress() {
	xr_log "progress: $1 $2 done, slab $(slab_kb) kB, MemFree $(memfree_kb) kB, pgrants_mapped_total $(cat "$BBP/pgrants_mapped_total"), backend devices $(ls -d /sys/bus/xen-backend/devices/vbd-* 2>/dev/null | wc -l)"
}

# wait_grants_zero SECONDS: until no persistent grant is mapped.
wait_grants_zero() {
	local n=$1
	while [ "$n" -gt 0 ] && [ "$(cat "$BBP/pgrants_mapped_total")" != 0 ]; do
		sleep 1
		n=$((n - 1))
	done
	cat "$BBP/pgrants_mapped_total"
}

be_load pgnt 1
disk_brd
D1=$DISK
disk_brd
D2=$DISK

# ---- attach/detach with I/O ----
g=pl-attach
guest_start "$g" "$D1:xvdb"
gx_must "$g" "fe_load stock 1 && wait_disk xvdb"
slab_snapshot before
slab0=$(slab_kb)
free0=$(memfree_kb)
progress "attach cycles" 0
ok=0 retries=0
t0=$(uptime_s)
for ((i = 1; i <= ATTACH_CYCLES; i++)); do
	if [ "$ATTACH_MAX_S" -gt 0 ] && [ $(($(uptime_s) - t0)) -ge "$ATTACH_MAX_S" ]; then
		xr_log "attach cycles: time budget of ${ATTACH_MAX_S}s used up after $ok cycles"
		break
	fi
	if ! xl block-attach "$g" "phy:$D2,xvdc,w" >>"$SC_DIR/commands.log" 2>&1; then
		# Under host load libxl kills its hotplug script after 10 s: a
		# toolstack failure, not the backend's.  Clean up, retry once.
		retries=$((retries + 1))
		xr_log "attach cycle $i: xl block-attach failed (toolstack), retrying once"
		xl block-detach "$g" xvdc >>"$SC_DIR/commands.log" 2>&1 || true
		gx "$g" "wait_no_disk xvdc 60" 120 || true
		xl block-attach "$g" "phy:$D2,xvdc,w" >>"$SC_DIR/commands.log" 2>&1 || break
	fi
	gx "$g" "wait_disk xvdc 60 && dd if=/dev/urandom of=/dev/xvdc bs=64k count=16 conv=fsync 2>/dev/null && dd if=/dev/xvdc of=/dev/null bs=64k count=16 2>/dev/null" 120 || break
	xl block-detach "$g" xvdc >>"$SC_DIR/commands.log" 2>&1 || break
	gx "$g" "wait_no_disk xvdc 60" 120 || break
	ok=$i
	[ $((i % PROGRESS_EVERY)) -ne 0 ] || progress "attach cycles" "$i"
done
xr_log "attach cycles: $ok in $(($(uptime_s) - t0))s, $retries toolstack retries"
expect_cmp "attach/detach cycles with I/O" "$ok" == "$ATTACH_CYCLES"
domid=$(guest_domid "$g")
check "no backend device left for xvdc" sh -c "! ls -d /sys/bus/xen-backend/devices/vbd-$domid-$(vdev_id xvdc) 2>/dev/null"
fio_ok "$g" xvdb pl-after-cycles --rw=randwrite --bs=4k --size=16m --iodepth=32 \
	--verify=crc32c --do_verify=1 --verify_fatal=1

# ---- frontend swap to one without persistent grants: the old connection
# closes (its grants go), a new device connects without them.  fe_swap
# detaches and re-attaches: a stock frontend unbound in place stays Closed.
fe_swap "$g" stock 0
xs_features "$g" xvdb
expect_cmp "reconnect: state Connected" "$BE_STATE" == 4
expect_cmp "reconnect without persistent: frontend feature-persistent" "$FE_PERSISTENT" == 0
fio_ok "$g" xvdb pl-reconnect-p0 --rw=randwrite --bs=4k --size=16m --iodepth=32 \
	--verify=crc32c --do_verify=1 --verify_fatal=1
expect_cmp "reconnect without persistent: grants mapped" "$(wait_grants_zero 10)" == 0
guest_stop "$g"
expect_cmp "after destroy: grants mapped" "$(wait_grants_zero 10)" == 0

# ---- destroy with I/O in flight ----
ok=0
t0=$(uptime_s)
for ((i = 1; i <= DESTROY_CYCLES; i++)); do
	if [ "$DESTROY_MAX_S" -gt 0 ] && [ $(($(uptime_s) - t0)) -ge "$DESTROY_MAX_S" ]; then
		xr_log "destroy cycles: time budget of ${DESTROY_MAX_S}s used up after $ok cycles"
		break
	fi
	g=pl-destroy$i
	guest_start "$g" "$D1:xvdb"
	gx_must "$g" "fe_load stock 1 && wait_disk xvdb"
	gx_ok "$g" "fio --name=bg --filename=/dev/xvdb --ioengine=libaio --direct=1 --iodepth=32 --rw=randrw --bsrange=4k-1m --size=64m --time_based --runtime=600 >/dev/null 2>&1 & sleep 5"
	domid=$(guest_domid "$g")
	xr_log "destroying $g (domid $domid) during fio"
	guest_collect "$g"
	check "dom0: xl destroy $g during I/O" xl destroy "$g"
	expect_cmp "destroy $i: grants mapped" "$(wait_grants_zero 30)" == 0
	n=30
	while [ "$n" -gt 0 ] && ls -d /sys/bus/xen-backend/devices/vbd-"$domid"-* >/dev/null 2>&1; do
		sleep 1
		n=$((n - 1))
	done
	check "destroy $i: backend devices gone" sh -c "! ls -d /sys/bus/xen-backend/devices/vbd-$domid-* 2>/dev/null"
	progress "destroy cycles" "$i"
	ok=$i
done
xr_log "destroy cycles: $ok in $(($(uptime_s) - t0))s"
expect_cmp "destroy cycles during I/O" "$ok" == "$DESTROY_CYCLES"

slab_snapshot after
slab1=$(slab_kb)
free1=$(memfree_kb)
xr_log "slab: ${slab0} kB before the cycles, ${slab1} kB after; MemFree ${free0} kB before, ${free1} kB after"
xr_log "slab caches that grew most: $(slab_growth "$SC_DIR/slabinfo-before.txt" "$SC_DIR/slabinfo-after.txt")"
expect_cmp "slab growth (kB) over all cycles" "$((slab1 - slab0))" "<" 8192
be_unload
check "dom0: xen_blkback_pgnt unloaded" sh -c '! grep -q "^xen_blkback_pgnt " /proc/modules'
