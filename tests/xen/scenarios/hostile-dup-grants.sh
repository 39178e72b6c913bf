# shellcheck shell=bash
# xen-blkback-pgnt against requests that name one uncached grant ref in many segments (11 direct, 64 indirect): the ref is mapped once per request, not once per segment, with persistent grants (kept, no unmap) and with overflow_copy=N without them (one map, one unmap); the data lands in every segment's sectors
# group: hostile
#
# Every segment is a grant map without this sharing, and only the first
# can be cached: a guest repeating a fresh ref in each request would have
# dom0 map and unmap the same page hundreds of times per request, outside
# every budget (blkback-pgnt/grant.c, pgbk_misses_dedupe).
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hg

# items N PAGE: N segments of the whole data page PAGE.
items() {
	local i s=""
	for ((i = 0; i < $1; i++)); do s="$s seg=$2:0:7"; done
	echo "${s# }"
}

# block_md5s SECTOR N: md5 of each of the N 4 KiB blocks of $DISK from SECTOR.
block_md5s() {
	local i
	for ((i = 0; i < $2; i++)); do
		dd if="$DISK" bs=4096 skip=$(($1 / 8 + i)) count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
	done | sort -u | tr '\n' ' '
}

# dup_writes LABEL: four direct writes of 11 segments of one fresh page
# each, then an indirect write of 64 segments of one; sets MAPS, UNMAPS.
dup_writes() {
	local m0 u0 s
	m0=$(st pgrant_maps) u0=$(st pgrant_unmaps)
	hx "$G" "fill first=0 count=32 seed=$2" \
		"req op=1 id=1 sector=0 $(items 11 20)" "req op=1 id=2 sector=88 $(items 11 21)" \
		"req op=1 id=3 sector=176 $(items 11 22)" "req op=1 id=4 sector=264 $(items 11 23)"
	check "$1: the direct writes succeed" test "$(hx_statuses)" = "0 0 0 0"
	hx "$G" "req op=6 iop=1 id=5 sector=1024 $(items 64 24)"
	check "$1: the indirect write succeeds" test "$(hx_statuses)" = 0
	MAPS=$(($(st pgrant_maps) - m0)) UNMAPS=$(($(st pgrant_unmaps) - u0))
	xr_log "$1: $MAPS map ops, $UNMAPS unmap ops for 4 x 11 + 64 segments"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for s in 0 88 176 264; do
		check "$1: 11 blocks from sector $s hold one page" test "$(block_md5s "$s" 11 | wc -w)" = 1
	done
	check "$1: 64 blocks from sector 1024 hold one page" test "$(block_md5s 1024 64 | wc -w)" = 1
	check "$1: two requests' pages differ" test "$(block_md5s 0 1)" != "$(block_md5s 88 1)"
	check "$1: not zeros" test "$(block_md5s 0 1)" != "620f0b67a91f7f74151bc5be745b7110 "
}

be_load pgnt 1
disk_brd
guest_start "$G" "$DISK:xvdb"
hx_load "$G"
hx_paths

# Persistent grants: each request maps its one fresh page once, keeps it.
hx_connect p1 "abi=64 persistent=1"
g0=$(st pgrants_mapped)
dup_writes p1 3
# The indirect request also maps its indirect page once, persistently.
expect_cmp "p1: map ops (5 fresh data pages, 1 indirect page)" "$MAPS" == 6
expect_cmp "p1: unmap ops" "$UNMAPS" == 0
expect_cmp "p1: persistent grants added" "$(($(st pgrants_mapped) - g0))" == 6

# No persistent grants, map+unmap per request (overflow_copy=N).
echo N >"$BBP/overflow_copy"
hx_connect p0 "abi=64 persistent=0"
dup_writes p0 5
echo Y >"$BBP/overflow_copy"
# The indirect page is copied (never mapped) without persistent grants.
expect_cmp "p0 overflow_copy=N: map ops (one per request)" "$MAPS" == 5
expect_cmp "p0 overflow_copy=N: unmap ops (one per request)" "$UNMAPS" == 5
hx "$G" disconnect

guest_stop "$G"
expect_cmp "no persistent grant left" "$(cat "$BBP/pgrants_mapped_total")" == 0
be_unload
