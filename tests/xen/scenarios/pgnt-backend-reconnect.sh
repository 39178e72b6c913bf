# shellcheck shell=bash
# xen-blkback-pgnt when a frontend reconnects on the same device with persistent grants off, then on again with new grants (pgnt-hostile, then blkfront-pgnt reloaded in place): persistent grants drop to 0 at each disconnect, the copy path serves the new connection (0 maps), data written under one mode reads back under the other
# group: long
#
# Issue 4: "a frontend that stops using persistent grants after reconnect,
# or changes them, is handled correctly".  pgnt-hostile reconnects on the
# same xenbus device (Closed -> Initialising -> Initialised), as a guest
# whose frontend reloads in place would; its grants are new pages at each
# connect, and the guest's grant allocator may hand out the same grant
# references again for different pages, which is the hazard here.
BACKEND=pgnt FRONTEND=hostile
GX_TIMEOUT=120
BBP=/sys/module/xen_blkback_pgnt/parameters
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hr

# rw LABEL SEED: write 64 pages (indirect) at sector 0 with SEED, read
# them back into zeroed pages and verify; counted as a grant-op phase.
rw() {
	phase_begin "$G" "$1"
	hx "$G" "fill first=0 count=64 seed=$2" "req op=6 iop=1 id=1 sector=0 pages=0:64" \
		"zero first=0 count=64" "req op=6 iop=0 id=2 sector=0 pages=0:64" "verify first=0 count=64 seed=$2"
	phase_end
	check "$1: write, read back, verify" grep -q 'verify: 64 pages from 0 ok' "$GX_OUT"
}

# readback LABEL SEED: what an earlier connection wrote is there.
readback() {
	hx "$G" "zero first=0 count=64" "req op=6 iop=0 id=3 sector=0 pages=0:64" "verify first=0 count=64 seed=$2"
	check "$1: data of the earlier connection reads back" grep -q 'verify: 64 pages from 0 ok' "$GX_OUT"
}

be_load pgnt 1
echo 1056 >"$BBP/max_persistent_grants"
# Under a loaded TCG host a minute can pass between two requests: idle
# reclaim (its own test is elsewhere) must not unmap what we count here.
echo 0 >"$BBP/persistent_grant_unused_seconds"
disk_brd
guest_start "$G" "$DISK:xvdb"
hx_load "$G"

PERSISTENT=1
hx "$G" "connect abi=64 persistent=1"
xs_features "$G" xvdb
expect_connected 1
rw "p1 first connection" 11
expect_cmp "p1: persistent grants mapped (64 data + indirect)" "$(st pgrants_mapped)" ">=" 64
rw "p1 again (warm)" 12
expect_cmp "p1 warm: map ops" "$PH_MAP_OPS" == 0
hx "$G" "disconnect"
expect_cmp "p1 -> closed: persistent grants of the device" "$(st pgrants_mapped)" == 0
expect_cmp "p1 -> closed: persistent grants in dom0" "$(cat "$BBP/pgrants_mapped_total")" == 0

PERSISTENT=0
c0=$(st copies)
l0=$(dmesg | grep -c "persistent grants off")
hx "$G" "connect abi=64 persistent=0"
xs_features "$G" xvdb
# The backend still offers persistent grants; the frontend declines.
expect_connected 1 0
expect_cmp "p0: backend logged the connect without persistent grants" \
	"$(($(dmesg | grep -c "persistent grants off") - l0))" == 1
readback "p0 after p1" 12
rw "p0 connection" 13
expect_cmp "p0: map ops" "$PH_MAP_OPS" == 0
expect_cmp "p0: unmap ops" "$PH_UNMAP_OPS" == 0
expect_cmp "p0: copy ops (64 segments + indirect page, twice)" "$PH_COPY_OPS" ">=" 130
expect_cmp "p0: copies counted" "$(($(st copies) - c0))" ">=" 130
expect_cmp "p0: no persistent grant mapped" "$(st pgrants_mapped)" == 0
expect_cmp "p0: none in dom0" "$(cat "$BBP/pgrants_mapped_total")" == 0
hx "$G" "disconnect"

PERSISTENT=1
hx "$G" "connect abi=64 persistent=1"
xs_features "$G" xvdb
expect_connected 1
readback "p1 after p0" 13
rw "p1 with new grants" 14
expect_cmp "p1 again: persistent grants mapped" "$(st pgrants_mapped)" ">=" 64
expect_cmp "p1 again: no request failed on a grant" "$(st err_grant)" == 0
hx "$G" "disconnect"
expect_cmp "p1 -> closed again: persistent grants in dom0" "$(cat "$BBP/pgrants_mapped_total")" == 0

# ---- our frontend, reloaded in place with the other feature_persistent ----
# (blkfront-pgnt rebinds the same vbd; the stock frontend does not, its view
# of the same change is in pgnt-backend-lifecycle through fe_swap.)
FRONTEND=pgnt
gx_must "$G" "fe_unload"
for PERSISTENT in 1 0 1; do
	gx_must "$G" "fe_load pgnt $PERSISTENT && wait_disk xvdb"
	xs_features "$G" xvdb
	expect_connected 1 "$PERSISTENT"
	fio_ok "$G" xvdb "pgnt-fe-p$PERSISTENT-verify" --rw=randwrite --bsrange=4k-128k --size=16m --iodepth=16 \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	fio_ok "$G" xvdb "pgnt-fe-p$PERSISTENT-randrw" --rw=randrw --bs=4k --size=16m --time_based --runtime="$FIO_RUNTIME"
	expect_cmp "pgnt fe p$PERSISTENT: map ops per I/O" "$PH_MAP_PER_IO" "<" 0.05
	expect_cmp "pgnt fe p$PERSISTENT: unmap ops per I/O" "$PH_UNMAP_PER_IO" "<" 0.05
	if [ "$PERSISTENT" = 1 ]; then
		expect_cmp "pgnt fe p1: persistent grants mapped" "$(st pgrants_mapped)" ">" 0
	else
		expect_cmp "pgnt fe p0: copy ops per I/O" "$PH_COPY_PER_IO" ">=" 0.95
		expect_cmp "pgnt fe p0: no persistent grant mapped" "$(st pgrants_mapped)" == 0
	fi
	gx_ok "$G" "fe_unload && wait_no_disk xvdb"
	sleep 2
	expect_cmp "pgnt fe p$PERSISTENT -> unbound: persistent grants in dom0" "$(cat "$BBP/pgrants_mapped_total")" == 0
done
guest_stop "$G"
be_unload
