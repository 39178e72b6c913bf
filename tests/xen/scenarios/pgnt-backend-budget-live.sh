# shellcheck shell=bash
# xen-blkback-pgnt when an administrator lowers max_persistent_grants_total, then _per_domain, while a guest keeps 4k-1m I/O going: the excess is unmapped within seconds (reclaims counted), the count is never seen above the new limit afterwards, crc32c-verified writes pass under the lowered budget, and grants go to 0 at the end
# group: hostile
#
# The stock frontend with 256 indirect segments maps over a thousand grants
# per ring within seconds.  Each lowering is followed by 2 s for the ring
# threads to trim, then 20 reads of the module total 0.25 s apart while the
# load goes on; every read must be within the new limit.
BACKEND=pgnt FRONTEND=stock PERSISTENT=1
GX_TIMEOUT=200
BBP=/sys/module/xen_blkback_pgnt/parameters
LOAD_S=${LOAD_S:-60}

total() { cat "$BBP/pgrants_mapped_total"; }

# be_stat FILE: a statistics file of the guest's xvdb backend device.
be_stat() {
	cat "/sys/bus/xen-backend/devices/vbd-$(guest_domid "$G")-$(vdev_id "$1")/statistics/$2" 2>/dev/null || echo 0
}

# never_above LABEL LIMIT: after 2 s, 20 samples of the total, all <= LIMIT.
never_above() {
	local max=0 i v
	sleep 2
	for ((i = 0; i < 20; i++)); do
		v=$(total)
		[ "$v" -le "$max" ] || max=$v
		sleep 0.25
	done
	xr_log "$1: highest total seen $max (limit $2)"
	expect_cmp "$1: persistent grants never above the new limit" "$max" "<=" "$2"
}

be_load pgnt 1
disk_brd
D1=$DISK
disk_brd
D2=$DISK
G=budget-live
guest_start "$G" "$D1:xvdb" "$D2:xvdc"
gx_must "$G" "modprobe xen_blkfront feature_persistent=1 max_indirect_segments=256 && wait_disk xvdb && wait_disk xvdc"
xs_features "$G" xvdb
expect_connected 1
fio_ok "$G" xvdc prefill-c --rw=write --bs=1m --iodepth=8

gx_must "$G" "rm -f /tmp/load.rc; (fio --name=load --filename=/dev/xvdb --ioengine=libaio --direct=1 --iodepth=16 --size=64m --rw=randrw --bsrange=4k-1m --time_based --runtime=$LOAD_S >/tmp/load.out 2>&1; echo \$? >/tmp/load.rc) >/dev/null 2>&1 &"
n=0
while [ "$(total)" -lt 1000 ] && [ "$n" -lt 40 ]; do
	sleep 0.5
	n=$((n + 1))
done
expect_cmp "under load: persistent grants mapped" "$(total)" ">=" 1000
r0=$(($(be_stat xvdb reclaims) + $(be_stat xvdc reclaims)))

echo 300 >"$BBP/max_persistent_grants_total"
never_above "total 300" 300
r1=$(($(be_stat xvdb reclaims) + $(be_stat xvdc reclaims)))
expect_cmp "total 300: excess reclaimed" "$((r1 - r0))" ">" 0
fio_ok "$G" xvdc verify-total300 --rw=randwrite --bsrange=4k-1m --size=32m --iodepth=8 \
	--verify=crc32c --do_verify=1 --verify_fatal=1
never_above "total 300, after a verify pass" 300

echo "$(cat "$BBP/max_persistent_grants_per_domain")" >/tmp/dom-default
echo 65536 >"$BBP/max_persistent_grants_total"
echo 200 >"$BBP/max_persistent_grants_per_domain"
never_above "per domain 200" 200
fio_ok "$G" xvdc verify-domain200 --rw=randwrite --bsrange=4k-1m --size=32m --iodepth=8 --offset=32m \
	--verify=crc32c --do_verify=1 --verify_fatal=1
never_above "per domain 200, after a verify pass" 200
r2=$(($(be_stat xvdb reclaims) + $(be_stat xvdc reclaims)))
expect_cmp "per domain 200: excess reclaimed" "$((r2 - r1))" ">" 0

n=0
until gx "$G" "test -s /tmp/load.rc" 30; do
	n=$((n + 1))
	[ "$n" -lt 60 ] || break
	sleep 2
done
gx "$G" "cat /tmp/load.rc" 30
expect_cmp "load: fio exit status" "$(head -n 1 "$GX_OUT")" == 0
for f in err_grant err_io err_ring; do
	expect_cmp "xvdb: $f" "$(be_stat xvdb "$f")" == 0
	expect_cmp "xvdc: $f" "$(be_stat xvdc "$f")" == 0
done
cat /tmp/dom-default >"$BBP/max_persistent_grants_per_domain"
guest_stop "$G"
sleep 2
expect_cmp "after destroy: persistent grants" "$(total)" == 0
be_unload
