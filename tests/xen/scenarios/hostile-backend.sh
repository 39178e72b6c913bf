# shellcheck shell=bash
# xen-blkback-pgnt against a hostile frontend (pgnt-hostile.ko): each bad request gets BLKIF_RSP_ERROR (an unknown operation EOPNOTSUPP, as from stock), a counter and a rate-limited log line, and a good request still works after it; bad xenstore keys and a ring producer index beyond the ring get a disconnect, then a fresh connect works; grants back to 0; dom0 dmesg clean
# group: quick
#
# The guest's real frontend is never loaded: pgnt-hostile binds the vbd and
# puts exactly what it is told on the ring (tests/xen/hostile/).  The
# request cases run twice: persistent grants on with the x86_64 ring ABI
# (grants are mapped), off with x86_32 (grants are copied).  The checks
# that refuse them live in common/pgnt_check.h; tests/unit/mutants.sh
# proves the unit tests fail without each of them.
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
GX_TIMEOUT=120
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hb
RSP_ERROR=-1
RSP_EOPNOTSUPP=-2
BAD_GREF=0x7ffffff
GOOD_SEQ=0

dmesg_count() { dmesg | grep -cE "$1" || true; }

# GOOD SEQ: ctl commands that write a pattern to 8 sectors, read them back
# into zeroed pages and verify: the device still serves a good request.
good_cmds() {
	echo "fill first=0 count=2 seed=$1"
	echo "req op=1 id=$((1000 + $1)) sector=64 seg=0:0:7 seg=1:0:7"
	echo "zero first=0 count=2"
	echo "req op=0 id=$((2000 + $1)) sector=64 seg=0:0:7 seg=1:0:7"
	echo "verify first=0 count=2 seed=$1"
}

# good_check LABEL: the good commands' outcome in $GX_OUT.
good_check() {
	if grep -q "rsp q=0 id=$((1000 + GOOD_SEQ)) op=1 status=0" "$GX_OUT" &&
		grep -q "rsp q=0 id=$((2000 + GOOD_SEQ)) op=0 status=0" "$GX_OUT" &&
		grep -q 'verify: 2 pages from 0 ok' "$GX_OUT"; then
		_record PASS "$1: a good request still works afterwards"
	else
		_record FAIL "$1: a good request still works afterwards ($(tr '\n' ' ' <"$GX_OUT" | cut -c1-300))"
	fi
}

# good LABEL: only the good request.
good() {
	local cmds=()
	GOOD_SEQ=$((GOOD_SEQ + 1))
	mapfile -t cmds < <(good_cmds "$GOOD_SEQ")
	hx "$G" "${cmds[@]}"
	good_check "$1"
}

# bad LABEL COUNTER LOGPATTERN WANT-STATUS REQ-ARGS: one hostile request,
# then a good one, in one round trip to the guest.
bad() {
	local label=$1 ctr=$2 pat=$3 want=$4 args=$5 c0 l0 cmds=()
	c0=$(st "$ctr")
	l0=$(dmesg_count "$pat")
	GOOD_SEQ=$((GOOD_SEQ + 1))
	mapfile -t cmds < <(good_cmds "$GOOD_SEQ")
	hx "$G" "req $args" "${cmds[@]}"
	expect_cmp "$label: response status" "$(hx_statuses | cut -d' ' -f1)" == "$want"
	expect_cmp "$label: $ctr counted" "$(($(st "$ctr") - c0))" == 1
	expect_cmp "$label: logged ($pat)" "$(($(dmesg_count "$pat") - l0))" ">=" 1
	good_check "$label"
}

be_load pgnt 1
echo 1056 >"$BBP/max_persistent_grants"
# No idle reclaim while we count grants on a slow rig.
echo 0 >"$BBP/persistent_grant_unused_seconds"
disk_loop 64
guest_start "$G" "$DISK:xvdb"
hx_load "$G"

for mode in p1-x64 p0-x32; do
	PERSISTENT=${mode:1:1}
	abi=${mode##*-x}
	hx_connect "$mode" "abi=$abi persistent=$PERSISTENT"
	expect_cmp "$mode: feature-persistent negotiated" "$FE_PERSISTENT" == "$PERSISTENT"
	# Published by the backend at connect.
	SECT=$(xenstore-read "/local/domain/0/backend/vbd/$(guest_domid "$G")/$(vdev_id xvdb)/sectors")
	expect_cmp "$mode: device size known" "${SECT:-0}" ">" 0
	good "$mode connect"
	# Unknown operations: EOPNOTSUPP, as the stock backend answers.
	bad "$mode bad op 4 (reserved)" err_bad_op "refused: bad_op" $RSP_EOPNOTSUPP "op=4 id=1 sector=0 seg=0:0:7"
	bad "$mode bad op 200" err_bad_op "refused: bad_op" $RSP_EOPNOTSUPP "op=200 id=2 sector=0 seg=0:0:7"
	bad "$mode read with 0 segments" err_bad_nsegs "refused: bad_nsegs" $RSP_ERROR "op=0 id=3 sector=0 nsegs=0"
	bad "$mode 12 direct segments" err_bad_nsegs "refused: bad_nsegs" $RSP_ERROR "op=0 id=4 sector=0 nsegs=12 pages=0:11"
	bad "$mode 255 direct segments" err_bad_nsegs "refused: bad_nsegs" $RSP_ERROR "op=1 id=5 sector=0 nsegs=255 pages=0:11"
	bad "$mode indirect 257 segments (max 256)" err_bad_nsegs "refused: bad_nsegs" $RSP_ERROR \
		"op=6 iop=0 id=6 sector=0 nsegs=257 pages=0:128"
	bad "$mode indirect 65535 segments" err_bad_nsegs "refused: bad_nsegs" $RSP_ERROR \
		"op=6 iop=1 id=7 sector=0 nsegs=65535 pages=0:16"
	bad "$mode indirect wrapping a flush" err_bad_indirect_op "refused: bad_indirect_op" $RSP_ERROR \
		"op=6 iop=3 id=8 sector=0 pages=0:2"
	bad "$mode first_sect > last_sect" err_bad_segment "refused: bad_segment" $RSP_ERROR "op=0 id=9 sector=0 seg=0:5:3"
	bad "$mode last_sect 8" err_bad_segment "refused: bad_segment" $RSP_ERROR "op=1 id=10 sector=0 seg=0:0:8"
	bad "$mode indirect segment last_sect 200" err_bad_segment "refused: bad_segment" $RSP_ERROR \
		"op=6 iop=0 id=11 sector=0 pages=0:20 seg=20:0:200"
	bad "$mode read past the end" err_bad_range "refused: bad_range" $RSP_ERROR \
		"op=0 id=12 sector=$((SECT - 4)) seg=0:0:7"
	bad "$mode write at sector 2^64-8 (overflow)" err_bad_range "refused: bad_range" $RSP_ERROR \
		"op=1 id=13 sector=0xfffffffffffffff8 seg=0:0:7 seg=1:0:7"
	bad "$mode discard past the end" err_bad_range "refused: bad_range" $RSP_ERROR \
		"op=5 id=14 sector=$((SECT - 8)) nsect=16"
	bad "$mode discard of 2^64-1 sectors" err_bad_range "refused: bad_range" $RSP_ERROR \
		"op=5 id=15 sector=8 nsect=0xffffffffffffffff"
	bad "$mode discard of 0 sectors" err_bad_range "refused: bad_range" $RSP_ERROR "op=5 id=16 sector=8 nsect=0"
	bad "$mode secure discard (not advertised)" err_not_supported "refused: not_supported" $RSP_EOPNOTSUPP \
		"op=5 id=17 sector=8 nsect=8 flag=1"
	bad "$mode grant ref beyond the table" err_grant "grant .*failed" $RSP_ERROR \
		"op=1 id=18 sector=0 gref=$BAD_GREF:0:7"
	bad "$mode grant to another domain" err_grant "grant .*failed" $RSP_ERROR "op=1 id=19 sector=0 foreign=0:7"
	bad "$mode read into a read-only grant" err_grant "grant .*failed" $RSP_ERROR "op=0 id=20 sector=0 ro=0:7"
	bad "$mode indirect page with a bad grant" err_grant "grant .*failed" $RSP_ERROR \
		"op=6 iop=0 id=21 sector=0 pages=0:4 igref=$BAD_GREF"
	bad "$mode bad grant among good ones" err_grant "grant .*failed" $RSP_ERROR \
		"op=1 id=22 sector=0 seg=0:0:7 gref=$BAD_GREF:0:7 seg=2:0:7"

	# Odd but legal: the same grant twice in one request; the same id twice
	# in flight (ids are echoed, never interpreted: the frontend's business).
	hx "$G" "req op=1 id=30 sector=128 seg=5:0:7 seg=5:0:7"
	expect_cmp "$mode same grant twice in a request: status" "$(hx_statuses)" == 0
	hx "$G" "req op=0 id=31 sector=128 seg=6:0:7 nopush=1" "req op=0 id=31 sector=136 seg=7:0:7"
	expect_cmp "$mode same id twice in flight: both answered OK" "$(hx_statuses)" == "0 0"

	# A flood of bad requests: every one answered, the log stays bounded.
	sleep 6
	l0=$(dmesg_count "refused: bad_op")
	c0=$(st err_bad_op)
	hx "$G" "req op=99 id=100 repeat=32"
	expect_cmp "$mode flood: 32 responses" "$(hx_statuses | wc -w)" == 32
	expect_cmp "$mode flood: all counted" "$(($(st err_bad_op) - c0))" == 32
	expect_cmp "$mode flood: log lines rate-limited" "$(($(dmesg_count "refused: bad_op") - l0))" "<=" 12
	good "$mode flood"

	expect_cmp "$mode: persistent grants mapped while connected" "$(st pgrants_mapped)" "$([ "$PERSISTENT" = 1 ] && echo '>' || echo '==')" 0
	hx "$G" "disconnect"
	sleep 1
	expect_cmp "$mode: persistent grants after disconnect" "$(cat "$BBP/pgrants_mapped_total")" == 0
done

# ---- protocol violations: disconnect, then a fresh connect must work ----
hx_connect ring "abi=64 persistent=1"
good "ring connect"
hx "$G" "info"
nr=$(grep -o 'nr_ents=[0-9]*' "$GX_OUT" | cut -d= -f2)
r0=$(st err_ring)
l0=$(dmesg_count "beyond .* entries")
hx "$G" "prod add=$((nr + 1))"
sleep 3
expect_cmp "ring: producer index beyond the ring counted" "$(($(st err_ring) - r0))" == 1
expect_cmp "ring: logged" "$(($(dmesg_count "beyond .* entries") - l0))" == 1
xs_features "$G" xvdb
expect_cmp "ring: backend left Connected (Closing/Closed)" "$BE_STATE" ">=" 5
hx "$G" "info"
expect_cmp "ring: persistent grants after the disconnect" "$(cat "$BBP/pgrants_mapped_total")" == 0
hx_connect "ring reconnect" "abi=64 persistent=1"
good "ring reconnect"

# Bad xenstore keys: the backend refuses to connect (no crash, nothing kept).
for k in "order=5" "queues=33" "proto=x86_16-abi"; do
	hx "$G" "connect abi=64 persistent=1 $k wait=8000"
	check "keys $k: connect refused" grep -q "backend not connected" "$GX_OUT"
	expect_cmp "keys $k: persistent grants" "$(cat "$BBP/pgrants_mapped_total")" == 0
	hx_connect "keys $k, then good keys" "abi=64 persistent=1"
	good "keys $k"
done

hx "$G" "disconnect"
guest_stop "$G"
sleep 2
expect_cmp "after destroy: persistent grants" "$(cat "$BBP/pgrants_mapped_total")" == 0
echo 60 >"$BBP/persistent_grant_unused_seconds"
be_unload
check "dom0: xen_blkback_pgnt unloaded" sh -c '! grep -q "^xen_blkback_pgnt " /proc/modules'
