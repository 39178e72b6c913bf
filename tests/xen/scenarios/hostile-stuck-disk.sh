# shellcheck shell=bash
# xen-blkback-pgnt over a disk that stops answering (dmsetup suspend with 1 MiB writes, a whole-disk discard, or 300 discards queued; or a device whose queue is full, so that the ring's thread itself waits in submit_bio): the frontend going Closed, and xl destroy, return within seconds and another guest's block-attach and discard work meanwhile; the old connection's grants stay mapped until dmsetup resume, then go to 0, and the module unloads
# group: hostile
#
# Teardown runs in dom0's xenwatch thread, shared by every Xen device of
# the host, so it must never wait for a disk: a ring with bios in flight is
# orphaned and freed when they end (blkback-pgnt/ring.c).
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
GX_TIMEOUT=120
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hd
DM=xr-stuck
TEARDOWN_MAX=10		# s
ATTACH_MAX=30		# s
RESUME_MAX=20		# s, dmsetup resume to every grant unmapped

mapped() { cat "$BBP/pgrants_mapped_total"; }

none_mapped() { [ "$(mapped)" = 0 ]; }
dom_gone() { ! xl list | awk 'NR > 1 { print $2 }' | grep -qx "$DOMID"; }

# stuck_writes LABEL: suspend the disk, queue four 1 MiB writes (indirect,
# 256 segments) that it will not answer, and check they hold grants.
stuck_writes() {
	must "dom0: dmsetup suspend $DM" dmsetup suspend "$DM"
	hx "$G" "fill first=0 count=128 seed=5" \
		"req op=6 iop=1 id=500 sector=0 pages=0:128 pages=0:128 repeat=4 wait=3000"
	check "$1: the writes are not answered" grep -q 'timeout: 4 responses missing' "$GX_OUT"
	expect_cmp "$1: grants mapped for them" "$(mapped)" ">" 0
}

# other_guest LABEL: a block-attach and -detach on another guest complete.
other_guest() {
	timed "$1: xl block-attach on another guest" "$ATTACH_MAX" \
		xl block-attach h2 "$(disk_spec "$D2" xvdc)"
	timed "$1: xl block-detach on another guest" "$ATTACH_MAX" xl block-detach h2 xvdc
}

# resume LABEL: the disk answers again; every grant goes, the ring is freed.
resume() {
	must "dom0: dmsetup resume $DM" dmsetup resume "$DM"
	within "$1: every grant unmapped after resume" "$RESUME_MAX" none_mapped
}

be_load pgnt 1
echo 0 >"$BBP/persistent_grant_unused_seconds"
disk_loop 64
DISK_LOOP=$DISK
modprobe dm-mod || true
must "dom0: dmsetup create $DM" dmsetup create --noudevsync "$DM" \
	--table "0 $(blockdev --getsz "$DISK") linear $DISK 0"
dmsetup mknodes "$DM" 2>/dev/null || true
disk_brd
D2=$DISK
disk_loop 64
D3=$DISK
guest_start "$G" "/dev/mapper/$DM:xvdb"
guest_start h2
gx_must h2 "fe_load stock"
hx_load "$G"
hx_paths
w0=$(dmesg | grep -c 'requests still on the device' || true)
f0=$(dmesg | grep -c 'closed connection ended, ring freed' || true)

# ---- the frontend closes while its writes sit on the suspended disk ----
hx_connect closed "abi=64 persistent=1"
stuck_writes closed
xenstore-write "$FE_DIR/state" 6
within "closed: backend Closed" "$TEARDOWN_MAX" hx_be_closed
other_guest closed
expect_cmp "closed: the old connection's grants still mapped" "$(mapped)" ">" 0
expect_cmp "closed: module pinned meanwhile" "$(cat /sys/module/xen_blkback_pgnt/refcnt)" ">" 0
resume closed
expect_cmp "closed: logged as orphaned" "$(($(dmesg | grep -c 'requests still on the device') - w0))" ">=" 1
expect_cmp "closed: logged as freed" "$(($(dmesg | grep -c 'closed connection ended, ring freed') - f0))" ">=" 1

# ---- a whole-disk discard on the stuck disk, then Closed at once ----
hx_connect discard "abi=64 persistent=1"
expect_cmp "discard: the backend offers discard" "$(xenstore-read "$BE_DIR/feature-discard" 2>/dev/null || echo 0)" == 1
must "dom0: dmsetup suspend $DM" dmsetup suspend "$DM"
hx "$G" "req op=5 id=600 sector=0 nsect=$(blockdev --getsz "/dev/mapper/$DM") wait=2000"
check "discard: not answered" grep -q 'timeout: 1 responses missing' "$GX_OUT"
xenstore-write "$FE_DIR/state" 6
within "discard: backend Closed" "$TEARDOWN_MAX" hx_be_closed
other_guest discard
resume discard

# ---- 300 discards on the stuck disk: one is taken, another guest's work ----
# Discards wait for the device in workers that every backend shares: a
# guest may hold one of them per ring, not all.
hx_connect flood "abi=64 order=4 persistent=1"
must "dom0: dmsetup suspend $DM" dmsetup suspend "$DM"
d0=$(st ds_req)
hx "$G" "req op=5 id=700 sector=0 nsect=8 repeat=300 wait=2000"
check "flood: not answered" grep -q 'timeout: 300 responses missing' "$GX_OUT"
expect_cmp "flood: discards taken while the first is on the disk" "$(($(st ds_req) - d0))" == 1
check "flood: xl block-attach of a discard disk on another guest" \
	xl block-attach h2 "$(disk_spec "$D3" xvdd)"
gx_ok h2 "wait_disk xvdd"
timed "flood: a discard on another guest" "$TEARDOWN_MAX" gx h2 "blkdiscard -o 0 -l 1048576 /dev/xvdd" 30
xenstore-write "$FE_DIR/state" 6
within "flood: backend Closed" "$TEARDOWN_MAX" hx_be_closed
# Its persistent grants would count in the total.
disk_detach h2 xvdd
resume flood

# ---- a full device queue: the ring's thread waits in submit_bio ----
# null_blk with 2 tags answering after 25 s, under the same dm device: the
# third write waits for a tag in the thread, which teardown must not wait
# for (a SCSI or NVMe disk without a path is the same).
must "dom0: modprobe null_blk (2 tags, 25 s)" modprobe null_blk nr_devices=1 \
	queue_mode=2 hw_queue_depth=2 irqmode=2 completion_nsec=25000000000 gb=1
sz=$(blockdev --getsz "/dev/mapper/$DM")
must "dom0: dmsetup reload $DM onto null_blk" dmsetup reload "$DM" --table "0 $sz linear /dev/nullb0 0"
must "dom0: dmsetup resume $DM" dmsetup resume "$DM"
hx_connect tags "abi=64 persistent=1"
hx "$G" "fill first=0 count=1 seed=7" "req op=1 id=800 sector=0 pages=0:1 repeat=8 wait=1000"
check "tags: not answered" grep -q 'timeout: 8 responses missing' "$GX_OUT"
xenstore-write "$FE_DIR/state" 6
within "tags: backend Closed" "$TEARDOWN_MAX" hx_be_closed
other_guest tags
within "tags: every grant unmapped once null_blk answered" 90 none_mapped
must "dom0: dmsetup suspend $DM" dmsetup suspend "$DM"
must "dom0: dmsetup reload $DM onto the loop disk" dmsetup reload "$DM" --table "0 $sz linear $DISK_LOOP 0"
resume tags
check "dom0: rmmod null_blk" rmmod null_blk

# ---- a fresh connection works, then xl destroy with writes stuck ----
hx_connect reconnect "abi=64 persistent=1"
hx "$G" "fill first=0 count=2 seed=9" "req op=1 id=1 sector=64 pages=0:2" \
	"zero first=0 count=2" "req op=0 id=2 sector=64 pages=0:2" "verify first=0 count=2 seed=9"
check "reconnect: write and read back" grep -q 'verify: 2 pages from 0 ok' "$GX_OUT"
stuck_writes destroy
guest_collect "$G"
timed "destroy: xl destroy" "$ATTACH_MAX" xl destroy "$G"
other_guest destroy
resume destroy
within "destroy: the domain is gone" "$RESUME_MAX" dom_gone

guest_stop h2
must "dom0: dmsetup remove $DM" dmsetup remove "$DM"
echo 60 >"$BBP/persistent_grant_unused_seconds"
be_unload
check "dom0: xen_blkback_pgnt unloaded" sh -c '! grep -q "^xen_blkback_pgnt " /proc/modules'
