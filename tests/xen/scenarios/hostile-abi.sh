# shellcheck shell=bash
# xen-blkback-pgnt with the x86_32-abi and x86_64-abi ring layouts, real data: pgnt-hostile writes known patterns (direct and indirect requests, persistent on and off), reads them back through the same and the other ABI, and dom0 checks the sectors on the disk itself
# group: quick
#
# The hostile frontend writes ring entries at the byte offsets of each ABI
# (tests/xen/hostile/pgnt-hostile.c, independent of the backend's structs).
# A layout mistake in the backend shows up as wrong data, a wrong sector, a
# wrong id or an error status.  dom0 reads the disk with O_DIRECT and
# compares with the same pattern generator, so both ABIs agreeing with each
# other is not enough.
BACKEND=pgnt FRONTEND=hostile
GX_TIMEOUT=120
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=ha

# region ABI P: first sector of the 2048-sector region written through ABI
# with persistent grants P: 11 pages (direct) at +0, 128 pages (indirect)
# at +256.
region() { echo $((($1 == 32 ? 0 : 8192) + $2 * 4096)); }
seed() { echo $(($1 * 10 + $2)); }

# dom0_verify LABEL SECTOR PAGES SEED: the disk holds the guest's pattern
# (pgnt-hostile's ph_pattern()) for PAGES pages from SECTOR.
dom0_verify() {
	local f=/run/xr/abi-check.bin
	dd if="$DISK" of="$f" bs=4096 skip=$(($2 / 8)) count="$3" iflag=direct 2>/dev/null
	check "$1: dom0 reads the pattern on the disk" python3 - "$f" "$3" "$4" <<-'PY'
		import struct, sys
		f, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		m = 0xffffffff
		data = open(f, 'rb').read()
		assert len(data) == n * 4096, len(data)
		for p in range(n):
		    words = struct.unpack_from('<1024I', data, p * 4096)
		    for w, v in enumerate(words):
		        want = ((seed * 0x9e3779b1) & m) ^ (((p + 1) * 0x85ebca77) & m) ^ ((w * 0xc2b2ae3d) & m)
		        if v != want:
		            sys.exit('page %d word %d: %08x, expected %08x' % (p, w, v, want))
		PY
}

be_load pgnt 1
disk_loop 64	# flush and discard, unlike brd
guest_start "$G" "$DISK:xvdb"
hx_load "$G"

# ---- each ABI writes its regions and reads them back ----
for abi in 64 32; do
	for p in 1 0; do
		PERSISTENT=$p
		r=$(region $abi $p) s=$(seed $abi $p)
		hx "$G" "connect abi=$abi persistent=$p"
		check "x$abi p$p: connected" grep -q '^state fe=.* be=4 up=1' "$GX_OUT"
		check "x$abi p$p: ring of 32 entries" grep -q 'nr_ents=32' "$GX_OUT"
		xs_features "$G" xvdb
		expect_cmp "x$abi p$p: feature-persistent negotiated" "$FE_PERSISTENT" == "$p"
		check "x$abi p$p: frontend protocol key" test "$(xenstore-read "/local/domain/$(guest_domid "$G")/device/vbd/$(vdev_id xvdb)/protocol")" = "x86_$abi-abi"
		hx "$G" "fill first=0 count=11 seed=$s" "req op=1 id=$((0x1122334455667700 + abi)) sector=$r pages=0:11" \
			"zero first=0 count=11" "req op=0 id=$((0x0102030405060708 + p)) sector=$r pages=0:11" \
			"verify first=0 count=11 seed=$s" \
			"fill first=0 count=128 seed=$((s + 1))" "req op=6 iop=1 id=77 sector=$((r + 256)) pages=0:128" \
			"zero first=0 count=128" "req op=6 iop=0 id=78 sector=$((r + 256)) pages=0:128" \
			"verify first=0 count=128 seed=$((s + 1))"
		check "x$abi p$p: direct write, read back, verify" grep -q 'verify: 11 pages from 0 ok' "$GX_OUT"
		check "x$abi p$p: indirect 512 KiB write, read back, verify" grep -q 'verify: 128 pages from 0 ok' "$GX_OUT"
		# 64-bit ids must come back whole, whatever the ABI.
		check "x$abi p$p: 64-bit ids echoed" grep -q "rsp q=0 id=$((0x1122334455667700 + abi)) op=1 status=0" "$GX_OUT"
		check "x$abi p$p: ids echoed (read)" grep -q "rsp q=0 id=$((0x0102030405060708 + p)) op=0 status=0" "$GX_OUT"
		check "x$abi p$p: indirect write answered as a write" grep -q "rsp q=0 id=77 op=1 status=0" "$GX_OUT"
		check "x$abi p$p: indirect read answered as a read" grep -q "rsp q=0 id=78 op=0 status=0" "$GX_OUT"
		dom0_verify "x$abi p$p direct" "$r" 11 "$s"
		dom0_verify "x$abi p$p indirect" $((r + 256)) 128 $((s + 1))
	done
done

# ---- the other ABI reads what each one wrote ----
for abi in 64 32; do
	other=$((abi == 64 ? 32 : 64))
	hx "$G" "connect abi=$other persistent=1"
	for p in 1 0; do
		r=$(region $abi $p) s=$(seed $abi $p)
		hx "$G" "zero first=0 count=128" "req op=0 id=1 sector=$r pages=0:11" "verify first=0 count=11 seed=$s" \
			"zero first=0 count=128" "req op=6 iop=0 id=2 sector=$((r + 256)) pages=0:128" \
			"verify first=0 count=128 seed=$((s + 1))"
		check "x$other reads what x$abi p$p wrote (direct)" grep -q 'verify: 11 pages from 0 ok' "$GX_OUT"
		check "x$other reads what x$abi p$p wrote (indirect)" grep -q 'verify: 128 pages from 0 ok' "$GX_OUT"
	done
done

# ---- discard and flush through both layouts (their fields differ too) ----
for abi in 64 32; do
	r=$((20000 + (abi == 32 ? 0 : 64)))
	hx "$G" "connect abi=$abi persistent=1" "fill first=0 count=3 seed=$abi" \
		"req op=1 id=3 sector=$r pages=0:3" "req op=3 id=4 sector=0 nsegs=0" \
		"req op=5 id=$((0x5555666677778888)) sector=$((r + 8)) nsect=8"
	expect_cmp "x$abi: write, bare flush, discard answered OK" "$(hx_statuses)" == "0 0 0"
	check "x$abi: discard answered with its 64-bit id" grep -q "rsp q=0 id=$((0x5555666677778888)) op=5 status=0" "$GX_OUT"
	dom0_verify "x$abi: page before the discard" "$r" 1 "$abi"
	check "x$abi: the 8 discarded sectors read as zeros" sh -c \
		"dd if=$DISK bs=4096 skip=$(((r + 8) / 8)) count=1 iflag=direct 2>/dev/null | cmp -s -n 4096 - /dev/zero"
	# The pattern of page 2 sits at page index 0 of a 1-page dump: check it
	# from the guest instead.
	hx "$G" "zero first=0 count=3" "req op=0 id=6 sector=$((r + 16)) seg=2:0:7" "verify first=2 count=1 seed=$abi"
	check "x$abi: page after the discard intact" grep -q 'verify: 1 pages from 2 ok' "$GX_OUT"
done

hx "$G" "disconnect"
expect_cmp "persistent grants after disconnect" "$(cat /sys/module/xen_blkback_pgnt/parameters/pgrants_mapped_total)" == 0
guest_stop "$G"
be_unload
