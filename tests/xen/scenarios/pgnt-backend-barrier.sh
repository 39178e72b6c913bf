# shellcheck shell=bash
# xen-blkback-pgnt serves BLKIF_OP_WRITE_BARRIER in order over a disk whose writes are slow and whose flushes are not (dm-delay): a barrier is answered only after every earlier write, a later write only after the barrier, persistent grants on and off; the data reads back
# group: hostile
#
# A barrier orders writes: the ones before it are on the disk before it,
# the ones after it go to the disk after it (what a barrier-using frontend,
# such as NetBSD's or older Linux's, relies on for its journal commits).
# PREFLUSH|FUA alone only orders writes that have completed, so the backend
# must drain the ring around a barrier.  dm-delay holds writes to the first
# SLOW sectors for DELAY_MS but lets flushes through at once, which makes a
# barrier sent straight to the disk overtake the write before it.  The
# disk under it is a loop device: it has a write cache, so the backend
# offers barriers (on a RAM disk it offers neither flush nor barrier).
BACKEND=pgnt FRONTEND=hostile
GX_TIMEOUT=120
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hb
DM=xr-barrier
SLOW=8192		# sectors with delayed writes
DELAY_MS=3000

be_load pgnt 1
disk_loop 64
modprobe dm-delay || true
size=$(blockdev --getsz "$DISK")
must "dom0: dmsetup create $DM (writes to the first $SLOW sectors delayed ${DELAY_MS} ms, flushes not)" \
	sh -c "printf '%s\n' '0 $SLOW delay $DISK 0 0 $DISK 0 $DELAY_MS $DISK 0 0' \
		'$SLOW $((size - SLOW)) linear $DISK $SLOW' | dmsetup create --noudevsync $DM"
dmsetup mknodes "$DM" 2>/dev/null || true
guest_start "$G" "/dev/mapper/$DM:xvdb"
hx_load "$G"
hx_paths

for p in 1 0; do
	hx_connect "p$p" "abi=64 persistent=$p"
	expect_cmp "p$p: feature-barrier" "$(xenstore-read "$BE_DIR/feature-barrier")" == 1
	f0=$(hx_be_stat "$G" xvdb f_req)

	# A write to the slow part, then a barrier to the fast part.
	hx "$G" "fill first=0 count=16 seed=$((p + 3))" \
		"req op=1 id=10 sector=0 pages=0:8 nopush=1" \
		"req op=2 id=11 sector=$SLOW pages=8:2 nopush=1" \
		"push wait=20000"
	xr_log "p$p: responses $(hx_rsp_ids) statuses $(hx_statuses)"
	check "p$p: barrier answered after the write before it" test "$(hx_rsp_ids)" = "10 11"
	check "p$p: both succeed" test "$(hx_statuses)" = "0 0"

	# A write, a barrier (both slow), then a write to the fast part.
	hx "$G" "req op=1 id=20 sector=128 pages=10:2 nopush=1" \
		"req op=2 id=21 sector=144 pages=12:2 nopush=1" \
		"req op=1 id=22 sector=$((SLOW + 64)) pages=14:2 nopush=1" \
		"push wait=30000"
	xr_log "p$p: responses $(hx_rsp_ids) statuses $(hx_statuses)"
	check "p$p: the write after the barrier answered last" test "$(hx_rsp_ids)" = "20 21 22"
	check "p$p: all three succeed" test "$(hx_statuses)" = "0 0 0"
	expect_cmp "p$p: barriers counted as flushes" "$(($(hx_be_stat "$G" xvdb f_req) - f0))" == 2

	# What each request wrote reads back.
	hx "$G" "zero first=0 count=16" \
		"req op=0 id=30 sector=0 pages=0:8" "req op=0 id=31 sector=$SLOW pages=8:2" \
		"req op=0 id=32 sector=128 pages=10:2" "req op=0 id=33 sector=144 pages=12:2" \
		"req op=0 id=34 sector=$((SLOW + 64)) pages=14:2" \
		"verify first=0 count=16 seed=$((p + 3))"
	check "p$p: the data reads back" grep -q 'verify: 16 pages from 0 ok' "$GX_OUT"
	hx "$G" disconnect
done

guest_stop "$G"
must "dom0: dmsetup remove $DM" dmsetup remove "$DM"
be_unload
