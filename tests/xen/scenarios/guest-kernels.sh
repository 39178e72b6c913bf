# shellcheck shell=bash
# every slim guest kernel (rig.sh builds GUEST_KERNELS=all: 5.10, 6.1, 6.12, sid) boots as a PV guest; xen-blkfront-pgnt passes crc32c verifies (4k, 4k-1m) against stock blkback with persistent grants on and off and against xen-blkback-pgnt
# group: long
# shellcheck disable=SC2034 # BACKEND, FRONTEND, PERSISTENT label the results (read by lib.sh)
FRONTEND=pgnt
# 12 hot-plugs per run: skip the stock block script's slow sharing check.
DISK_SCRIPT=fast
# One disk for the whole scenario: every verify writes before it reads.
disk_brd
GK_DISK=$DISK
GK_TSV=$SC_DIR/kernels.tsv
printf 'kernel\tkver\tbooted\tchecks_passed\tchecks_failed\tverdict\tseconds\n' >"$GK_TSV"

# gk_verify GUEST K: (re)load the pgnt frontend with feature_persistent
# $PERSISTENT, hot-plug the disk, check negotiation, two verify passes, unplug.
gk_verify() {
	local g=$1 k=$2 p=$PERSISTENT t="guest $2 $BACKEND/pgnt p$PERSISTENT"
	gx_must "$g" "fe_unload && fe_load pgnt $p && grep -q '^xen_blkfront_pgnt ' /proc/modules && ! grep -q '^xen_blkfront ' /proc/modules"
	disk_attach "$g" "$GK_DISK:xvdb" || sc_abort "$t: attach"
	gx_must "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_cmp "$t: backend Connected" "$BE_STATE" == 4
	expect_cmp "$t: frontend Connected" "$FE_STATE" == 4
	expect_cmp "$t: backend feature-persistent" "$BE_PERSISTENT" == "$p"
	expect_cmp "$t: frontend feature-persistent" "$FE_PERSISTENT" == "$p"
	fio_ok "$g" xvdb "$k-$BACKEND-p$p-4k" --rw=randwrite --bs=4k --size=4m \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	fio_ok "$g" xvdb "$k-$BACKEND-p$p-4k-1m" --rw=randwrite --bsrange=4k-1m --size=16m \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	disk_detach "$g" xvdb || sc_abort "$t: detach"
	gx_ok "$g" "wait_no_disk xvdb"
}

# gk_kernel K: the whole suite on guest kernel K; run in a subshell, so that
# an abort (e.g. a kernel that does not boot) ends only this kernel.
gk_kernel() {
	local k=$1 g kv
	GUEST_KERNEL=$k
	kv=$(cat "$PAYLOAD/guest/$k/kver")
	g=gk-${k//./_}
	be_load stock 1
	guest_start "$g"
	echo booted >"$SC_DIR/.gk-booted"
	gx_ok "$g" "uname -r | grep -qx '$kv'"
	BACKEND=stock
	for PERSISTENT in 1 0; do
		be_load stock "$PERSISTENT"
		gk_verify "$g" "$k"
	done
	BACKEND=pgnt PERSISTENT=1
	be_load pgnt 1
	gk_verify "$g" "$k"
	guest_stop "$g"
}

for gdir in "$PAYLOAD"/guest/*/; do
	[ -f "$gdir/vmlinuz" ] || continue
	k=$(basename "$gdir")
	xr_log "guest kernel $k ($(cat "$gdir/kver"))"
	n0=$(wc -l <"$SC_DIR/checks.txt")
	t0=$(uptime_s)
	rm -f "$SC_DIR/.gk-booted"
	(gk_kernel "$k") || true
	# Whatever an abort left behind: the guest, and the disk in the backend.
	xl destroy "gk-${k//./_}" >/dev/null 2>&1 || true
	booted=no
	[ ! -f "$SC_DIR/.gk-booted" ] || booted=yes
	pass=$(tail -n +$((n0 + 1)) "$SC_DIR/checks.txt" | grep -c '^PASS' || true)
	fail=$(tail -n +$((n0 + 1)) "$SC_DIR/checks.txt" | grep -c '^FAIL' || true)
	verdict=PASS
	[ "$fail" = 0 ] && [ "$booted" = yes ] || verdict=FAIL
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$(cat "$gdir/kver")" "$booted" "$pass" "$fail" "$verdict" \
		"$(($(uptime_s) - t0))" >>"$GK_TSV"
	check "guest kernel $k ($(cat "$gdir/kver")): boots as a PV guest and passes" [ "$verdict" = PASS ]
done
rm -f "$SC_DIR/.gk-booted"
be_unload
