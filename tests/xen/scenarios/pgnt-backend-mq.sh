# shellcheck shell=bash
# xen-blkback-pgnt with multi-page rings and two queues: stock frontend (max_ring_page_order=4, max_queues=2, 2 vCPUs) and pgnt-hostile (order 4, 2 queues, both ABIs): negotiated in xenstore, per-queue nodes, both rings serve I/O, fio crc32c verify, grants back to 0
# group: long
BACKEND=pgnt
GX_TIMEOUT=150
BBP=/sys/module/xen_blkback_pgnt/parameters
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"

# queue_nodes NAME VDEV NQ NPAGES: the frontend wrote NPAGES ring refs and
# an event channel under each of its NQ queue-N directories.
queue_nodes() {
	local fe q i ok=1
	fe=/local/domain/$(guest_domid "$1")/device/vbd/$(vdev_id "$2")
	for ((q = 0; q < $3; q++)); do
		xenstore-read "$fe/queue-$q/event-channel" >/dev/null 2>&1 || ok=0
		for ((i = 0; i < $4; i++)); do
			xenstore-read "$fe/queue-$q/ring-ref$i" >/dev/null 2>&1 || ok=0
		done
	done
	[ "$ok" = 1 ]
}

# ring_threads DOMID: the backend's ring threads of that guest.
ring_threads() { pgrep -c "^blkbk-pg\.$1\." || true; }

be_load pgnt 1
echo 2 >"$BBP/max_queues"
disk_brd

# ---- the stock frontend ----
FRONTEND=stock PERSISTENT=1
G=mq
GUEST_VCPUS=2 guest_start "$G" "$DISK:xvdb"
gx_must "$G" "modprobe xen_blkfront max_ring_page_order=4 max_queues=2 feature_persistent=1 && wait_disk xvdb"
xs_features "$G" xvdb
expect_connected 1
expect_cmp "stock: backend offers ring order 4" "$BE_MAX_RING_ORDER" == 4
expect_cmp "stock: backend offers 2 queues" "$BE_MAX_QUEUES" == 2
expect_cmp "stock: ring-page-order negotiated" "$FE_RING_ORDER" == 4
expect_cmp "stock: multi-queue-num-queues negotiated" "$FE_QUEUES" == 2
check "stock: queue-0 and queue-1 with 16 ring refs each" queue_nodes "$G" xvdb 2 16
check "stock: backend connected 2 rings of 16 pages" sh -c \
	'dmesg | grep -q "connected: dom[0-9]*, 2 ring(s) of 16 page(s), persistent grants on"'
expect_cmp "stock: backend ring threads" "$(ring_threads "$(guest_domid "$G")")" == 2
echo Y >"$BBP/log_stats"
fio_ok "$G" xvdb mq-stock-verify --rw=randwrite --bsrange=4k-256k --size=32m --numjobs=2 \
	--offset_increment=32m --iodepth=32 --verify=crc32c --do_verify=1 --verify_fatal=1
fio_ok "$G" xvdb mq-stock-randrw --rw=randrw --bs=4k --numjobs=2 --iodepth=32 --time_based \
	--runtime="$FIO_RUNTIME"
sleep 11
echo N >"$BBP/log_stats"
# log_stats prints one line per ring every 10 s: both must have served I/O.
for q in 0 1; do
	n=$(dmesg | grep -E "ring $q: rd [0-9]+ wr [0-9]+" | tail -n 1 | awk '{ for (i = 1; i < NF; i++) if ($i == "rd") r = $(i + 1); else if ($i == "wr") w = $(i + 1); print r + w }')
	expect_cmp "stock: ring $q served requests" "${n:-0}" ">" 0
done
guest_stop "$G"
sleep 2
expect_cmp "stock: persistent grants after destroy" "$(cat "$BBP/pgrants_mapped_total")" == 0

# ---- pgnt-hostile: order 4, two queues, each ABI, data on both queues ----
FRONTEND=hostile
G=mqh
guest_start "$G" "$DISK:xvdb"
hx_load "$G"
for abi in 64 32; do
	hx "$G" "connect abi=$abi order=4 queues=2 persistent=1"
	check "hostile x$abi: connected, 2 queues of order 4" grep -q 'be=4 up=1 abi=x86_'"$abi"'-abi order=4 queues=2' "$GX_OUT"
	# 16 pages: (65536 - 64) / entry size, rounded down to a power of 2.
	check "hostile x$abi: 512 ring entries" grep -q 'nr_ents=512' "$GX_OUT"
	check "hostile x$abi: per-queue nodes" queue_nodes "$G" xvdb 2 16
	hx "$G" "fill first=0 count=128 seed=$abi" \
		"req q=0 op=6 iop=1 id=1 sector=0 pages=0:64" "req q=1 op=6 iop=1 id=2 sector=512 pages=64:64" \
		"zero first=0 count=128" \
		"req q=1 op=6 iop=0 id=3 sector=0 pages=0:64" "req q=0 op=6 iop=0 id=4 sector=512 pages=64:64" \
		"verify first=0 count=128 seed=$abi"
	check "hostile x$abi: written through one queue, read through the other" grep -q 'verify: 128 pages from 0 ok' "$GX_OUT"
	check "hostile x$abi: queue 1 answered on queue 1" grep -q 'rsp q=1 id=2 op=1 status=0' "$GX_OUT"
	# A full ring: 512 requests at once on queue 1.
	hx "$G" "req q=1 op=0 id=1000 sector=0 seg=0:0:7 repeat=512"
	expect_cmp "hostile x$abi: 512 requests in one push answered" "$(hx_statuses | tr ' ' '\n' | grep -c '^0$')" == 512
done
hx "$G" "disconnect"
expect_cmp "hostile: persistent grants after disconnect" "$(cat "$BBP/pgrants_mapped_total")" == 0
guest_stop "$G"
echo 0 >"$BBP/max_queues"
be_unload
