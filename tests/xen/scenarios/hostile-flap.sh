# shellcheck shell=bash
# xen-blkback-pgnt against a frontend that flaps Initialised <-> Closed with writes in flight (a slow disk, then a stuck one) and one whose queues share a ring page or an event channel: shared rings are refused, flapping leaves at most one closed connection per ring holding memory, nothing is left mapped, dom0 memory and slab return, and a fresh connection serves
# group: hostile
#
# A closed connection whose writes are still on the device keeps its ring
# until they end (blkback-pgnt/ring.c); a frontend reconnecting at once,
# again and again, on a disk that does not answer would otherwise make
# dom0 keep one such ring per flap.
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
GX_TIMEOUT=300
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hf
DM=xr-flap
FLAPS=${FLAPS:-20}
DELAY_MS=1000

mapped() { cat "$BBP/pgrants_mapped_total"; }
none_mapped() { [ "$(mapped)" = 0 ]; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
free_kb() { sync; echo 3 >/proc/sys/vm/drop_caches; awk '/^MemFree:/ { print $2 }' /proc/meminfo; }
orphans() { dmesg | grep -c 'requests still on the device' || true; }

# flap LABEL: FLAPS flaps of an order-2 ring; sets CONNECTED.
flap() {
	hx "$G" "flap count=$FLAPS ms=300"
	CONNECTED=$(sed -n 's/^flapped .* connected \([0-9]*\),.*/\1/p' "$GX_OUT")
	xr_log "$1: $(grep '^flapped' "$GX_OUT"), orphaned rings logged $(($(orphans) - o0)), slab $(slab_kb) kB"
	check "$1: the flaps ran" grep -q "^flapped $FLAPS times" "$GX_OUT"
}

be_load pgnt 1
disk_brd
modprobe dm-delay || true
size=$(blockdev --getsz "$DISK")
must "dom0: dmsetup create $DM (writes delayed ${DELAY_MS} ms)" \
	sh -c "echo '0 $size delay $DISK 0 0 $DISK 0 $DELAY_MS' | dmsetup create --noudevsync $DM"
dmsetup mknodes "$DM" 2>/dev/null || true
guest_start "$G" "/dev/mapper/$DM:xvdb"
hx_load "$G"
hx_paths

# ---- two queues on one ring page, one event channel, or both ----
for share in 1 2 3; do
	hx "$G" "connect abi=64 queues=2 persistent=1 share=$share wait=8000"
	check "share=$share: the backend refuses the connection" grep -q 'backend not connected' "$GX_OUT"
	expect_cmp "share=$share: no persistent grant mapped" "$(mapped)" == 0
done
hx_connect two-queues "abi=64 queues=2 persistent=1"
hx "$G" "fill first=0 count=4 seed=3" "req q=1 op=1 id=1 sector=0 pages=0:4" \
	"zero first=0 count=4" "req q=0 op=0 id=2 sector=0 pages=0:4" "verify first=0 count=4 seed=3"
check "two-queues: written on queue 1, read back on queue 0" grep -q 'verify: 4 pages from 0 ok' "$GX_OUT"

# ---- flapping over a slow disk: every flap connects ----
hx_connect slow "abi=64 order=2 persistent=1"
o0=$(orphans) s0=$(slab_kb) m0=$(free_kb)
flap slow
expect_cmp "slow: connected on every flap" "$CONNECTED" == "$FLAPS"
within "slow: every grant unmapped" 20 none_mapped
sleep 2
s1=$(slab_kb) m1=$(free_kb)
xr_log "slow: slab ${s0} -> ${s1} kB, MemFree ${m0} -> ${m1} kB"
expect_cmp "slow: slab growth (kB)" "$((s1 - s0))" "<=" 1024
expect_cmp "slow: MemFree drop (kB)" "$((m0 - m1))" "<=" 2048

# ---- flapping over a stuck disk: closed rings do not pile up ----
hx_connect stuck "abi=64 order=2 persistent=1"
o0=$(orphans) s0=$(slab_kb) m0=$(free_kb)
must "dom0: dmsetup suspend $DM" dmsetup suspend "$DM"
flap stuck
s1=$(slab_kb) m1=$(free_kb)
xr_log "stuck: slab ${s0} -> ${s1} kB, MemFree ${m0} -> ${m1} kB while suspended"
expect_cmp "stuck: closed rings holding the device's writes" "$(($(orphans) - o0))" "<=" 1
expect_cmp "stuck: MemFree drop while suspended (kB)" "$((m0 - m1))" "<=" 4096
must "dom0: dmsetup resume $DM" dmsetup resume "$DM"
within "stuck: every grant unmapped after resume" 20 none_mapped

hx_connect again "abi=64 persistent=1"
hx "$G" "fill first=0 count=8 seed=9" "req op=1 id=1 sector=512 pages=0:8" \
	"zero first=0 count=8" "req op=0 id=2 sector=512 pages=0:8" "verify first=0 count=8 seed=9"
check "again: write and read back" grep -q 'verify: 8 pages from 0 ok' "$GX_OUT"
hx "$G" disconnect
dmesg >"$SC_DIR/dom0-dmesg.txt"
dmesg_clean "dom0" "$SC_DIR/dom0-dmesg.txt"
guest_stop "$G"
sleep 1
expect_cmp "no persistent grant left" "$(mapped)" == 0
be_unload
dmsetup remove "$DM" || true
