# shellcheck shell=bash
# every slim guest kernel in the payload (GUEST_KERNELS at build time) boots, loads/unloads the pgnt frontend, and passes a crc32c verify on a hot-plugged disk with the stock pair
# shellcheck disable=SC2034 # BACKEND, FRONTEND, PERSISTENT label the results (read by lib.sh)
BACKEND=stock FRONTEND=stock PERSISTENT=1
be_load stock 1
for gdir in "$PAYLOAD"/guest/*/; do
	k=$(basename "$gdir")
	GUEST_KERNEL=$k
	kv=$(cat "$gdir/kver")
	g=gk-${k//./_}
	# No disk yet: a frontend loaded now binds nothing, so unloading it leaves
	# no device behind in the Closed state.
	guest_start "$g"
	gx_ok "$g" "uname -r | grep -qx '$kv'"
	gx_ok "$g" "fe_load pgnt && grep '^xen_blkfront_pgnt ' /proc/modules && fe_unload"
	gx_ok "$g" "fe_load stock 1"
	disk_brd
	disk_attach "$g" "$DISK:xvdb"
	gx_ok "$g" "wait_disk xvdb"
	xs_features "$g" xvdb
	expect_cmp "guest $k: frontend connected" "$FE_STATE" == 4
	fio_ok "$g" xvdb "gk-$k-verify" --rw=randwrite --bs=4k --size=8m --verify=crc32c --do_verify=1 --verify_fatal=1
	guest_stop "$g"
done
be_unload
