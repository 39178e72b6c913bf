# shellcheck shell=bash
# xen-blkback-pgnt against a frontend that grants its indirect pages read-only (the backend only reads them): indirect writes and reads of 16 pages succeed and verify with persistent grants on and off; with them on, the data pages are kept, the indirect page is copied, not mapped, and no error is counted
# group: hostile
#
# A persistent mapping is read-write (it may serve a later read), which a
# read-only grant refuses: such an indirect page has to be copied.
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hro

# rounds MODE SECTOR: indirect write of data pages 0-15, zero them, read
# back, verify; twice.
rounds() {
	local r
	for r in 1 2; do
		hx "$G" "fill first=0 count=16 seed=$((r + 40))" \
			"req op=6 iop=1 id=1 sector=$2 iro=1 pages=0:16" \
			"zero first=0 count=16" \
			"req op=6 iop=0 id=2 sector=$2 iro=1 pages=0:16" \
			"verify first=0 count=16 seed=$((r + 40))"
		expect_cmp "$1 round $r: indirect write and read answered" "$(hx_statuses)" == "0 0"
		check "$1 round $r: data read back verified" grep -q '^verify: 16 pages from 0 ok' "$GX_OUT"
	done
}

be_load pgnt 1
disk_brd
guest_start "$G" "$DISK:xvdb"
hx_load "$G"
hx_paths

hx_connect p1 "abi=64 persistent=1"
g0=$(st pgrants_mapped) e0=$(st err_grant) c0=$(st copies)
rounds p1 4096
expect_cmp "p1: persistent grants (the 16 data pages, not the indirect page)" "$(($(st pgrants_mapped) - g0))" == 16
expect_cmp "p1: no grant error" "$(($(st err_grant) - e0))" == 0
expect_cmp "p1: the indirect page copied in each of 4 requests" "$(($(st copies) - c0))" ">=" 4
m0=$(st pgrant_maps)
rounds p1-again 8192
expect_cmp "p1: nothing more mapped once the data pages are kept" "$(($(st pgrant_maps) - m0))" == 0

hx_connect p0 "abi=64 persistent=0"
e0=$(st err_grant)
rounds p0 12288
expect_cmp "p0: no grant error" "$(($(st err_grant) - e0))" == 0
hx "$G" disconnect

dmesg >"$SC_DIR/dom0-dmesg.txt"
dmesg_clean "dom0" "$SC_DIR/dom0-dmesg.txt"
guest_stop "$G"
sleep 1
expect_cmp "no persistent grant left" "$(cat "$BBP/pgrants_mapped_total")" == 0
be_unload
