# shellcheck shell=bash
# stock xen-blkback <-> stock xen-blkfront, persistent grants on and off:
# negotiation in xenstore, fio 4k/64k randread/randwrite at iodepth 32, a
# crc32c verify pass, and grant map/unmap ops per I/O counted from outside.
BACKEND=stock FRONTEND=stock
for PERSISTENT in ${PERSISTENT_MODES:-1 0}; do
	be_load stock "$PERSISTENT"
	disk_brd
	g=sb-p$PERSISTENT
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load stock $PERSISTENT"
	gx_must "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_cmp "p$PERSISTENT: backend state Connected" "$BE_STATE" == 4
	expect_cmp "p$PERSISTENT: frontend state Connected" "$FE_STATE" == 4
	expect_cmp "p$PERSISTENT: backend feature-persistent" "$BE_PERSISTENT" == "$PERSISTENT"
	expect_cmp "p$PERSISTENT: frontend feature-persistent" "$FE_PERSISTENT" == "$PERSISTENT"

	# Populate the region (and, with persistent grants, the grant pool).
	fio_ok "$g" xvdb "p$PERSISTENT-prefill" --rw=write --bs=1m --iodepth=8
	for bs in 4k 64k; do
		for rw in randread randwrite; do
			fio_ok "$g" xvdb "p$PERSISTENT-$rw-$bs" --rw=$rw --bs=$bs --time_based --runtime="$FIO_RUNTIME"
			if [ "$bs" = 4k ] && [ "$PERSISTENT" = 1 ]; then
				expect_cmp "p1 $rw 4k: map ops per I/O ~0 after warm-up" "$PH_MAP_PER_IO" "<" 0.05
			elif [ "$bs" = 4k ]; then
				expect_cmp "p0 $rw 4k: map ops per I/O ~1" "$PH_MAP_PER_IO" ">=" 0.95
				expect_cmp "p0 $rw 4k: map ops per I/O ~1" "$PH_MAP_PER_IO" "<=" 1.1
				expect_cmp "p0 $rw 4k: unmap ops == map ops" "$PH_UNMAP_OPS" == "$PH_MAP_OPS"
			fi
		done
	done
	fio_ok "$g" xvdb "p$PERSISTENT-verify" --rw=randwrite --bs=4k --size=16m \
		--verify=crc32c --do_verify=1 --verify_fatal=1
	guest_stop "$g"
done
be_unload
