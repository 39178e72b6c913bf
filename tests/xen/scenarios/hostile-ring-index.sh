# shellcheck shell=bash
# xen-blkback-pgnt against a frontend that moves req_prod backwards while its requests are in flight (two writes held 5 s by dm-delay, then req_prod one behind what the backend took): the ring is halted at once as a protocol violation (err_ring, backend Closing), no stale slot is parsed as a request, and a fresh connection works
# group: hostile
#
# Inside the window of in-flight requests, such an index passes a check
# against the responses alone: the backend would then take the slots
# after its own consumer index (old or zeroed entries) as new requests,
# again and again until the free-running index came round, four billion
# slots later.
BACKEND=pgnt FRONTEND=hostile
GX_TIMEOUT=120
BBP=/sys/module/xen_blkback_pgnt/parameters
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hri
DM=xr-slow
DELAY_MS=5000

# taken: requests the backend took, served or refused.
taken() {
	local f n=0
	for f in rd_req wr_req f_req ds_req err_bad_op err_bad_nsegs err_bad_segment err_bad_range \
		err_bad_align err_bad_readonly err_bad_indirect_op err_not_supported; do
		n=$((n + $(st "$f")))
	done
	echo "$n"
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

hx_connect first "abi=64 persistent=1"
e0=$(st err_ring) t0=$(taken)
# Two slow writes published (the backend takes both), then, half a second
# later and in the same guest command (one round trip to the guest takes
# longer than the writes' delay under TCG), req_prod - 1.
# The guest agent takes one line.
cmd="c() { echo \"\$1\" >$HX_CTL && cat $HX_CTL; }; c 'fill first=0 count=2 seed=5'"
cmd="$cmd && c 'req op=1 id=1 sector=0 seg=0:0:7 nopush=1' && c 'req op=1 id=2 sector=8 seg=1:0:7 nopush=1'"
cmd="$cmd && c 'prod add=0' && sleep 0.5 && c 'prod add=4294967295'"
must "guest: two writes published, then req_prod - 1" gx "$G" "$cmd"
sleep 1.5
t1=$(taken)
xr_log "after req_prod went back: err_ring +$(($(st err_ring) - e0)), requests taken +$((t1 - t0)), backend state $(xenstore-read "$BE_DIR/state")"
expect_cmp "req_prod backwards: ring halted as a protocol violation" "$(($(st err_ring) - e0))" == 1
expect_cmp "req_prod backwards: requests taken (the two writes only)" "$((t1 - t0))" == 2
sleep 2
expect_cmp "req_prod backwards: still nothing more taken" "$(taken)" == "$t1"
check "req_prod backwards: backend Closing or Closed" sh -c "xenstore-read $BE_DIR/state | grep -qE '^(5|6)$'"
# The writes were still in flight: no response had been produced yet.
check "req_prod backwards: halted while both writes were in flight" sh -c "dmesg | grep -q 'producer [0-9]* .*past 0: halting ring'"

# A fresh connection serves again.
hx_connect again "abi=64 persistent=1"
hx "$G" "fill first=0 count=1 seed=7" "req op=1 id=1 sector=64 seg=0:0:7" \
	"zero first=0 count=1" "req op=0 id=2 sector=64 seg=0:0:7" "verify first=0 count=1 seed=7"
expect_cmp "reconnected: write and read answered" "$(hx_statuses)" == "0 0"
hx "$G" disconnect
dmesg >"$SC_DIR/dom0-dmesg.txt"
dmesg_clean "dom0" "$SC_DIR/dom0-dmesg.txt"
guest_stop "$G"
sleep 1
expect_cmp "no persistent grant left" "$(cat "$BBP/pgrants_mapped_total")" == 0
be_unload
dmsetup remove "$DM" || true
