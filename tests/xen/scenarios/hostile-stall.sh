# shellcheck shell=bash
# xen-blkback-pgnt against a guest that keeps its ring full (pgnt-hostile feed: 256-segment writes of bad grants, a read every 64): its frontend going Closed, and Unknown, tears the backend down within seconds while the feed goes on, and meanwhile a second guest's xl block-attach and a third guest's xl create complete; grants back to 0
# group: hostile
#
# Teardown runs in dom0's xenwatch thread, which every backend and frontend
# of every guest shares: a backend that waits there for a ring thread that
# never comes back stops all device hotplug on the host.  The feed sees
# each answer as soon as the backend writes it into the ring, so it can
# keep the backend's request loop busy for as long as it likes (see
# ph_feed_thread in tests/xen/hostile/pgnt-hostile.c).
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
GX_TIMEOUT=120
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hs
FEED_MS=${STALL_FEED_MS:-150000}
TEARDOWN_MAX=10		# s, frontend state change to backend torn down
ATTACH_MAX=30		# s, for xl block-attach on another guest

# The bus's link goes before the driver's remove runs: wait for the threads.
be_gone() { ! pgrep -x "blkbk-pg\.$DOMID\.[0-9]+" >/dev/null; }

# feed_and_close LABEL FE-STATE CHECK: connect with a 512-entry ring, feed
# it, make sure the backend is being kept busy, write the frontend's state
# node as the guest would, and time how long until CHECK holds.
feed_and_close() {
	local label=$1 state=$2 done_check=$3 r0 r1
	hx_connect "$label" "abi=64 order=4 persistent=1"
	hx "$G" "feed ms=$FEED_MS every=64 sector=0"
	sleep 2
	r0=$(st err_grant)
	sleep 3
	r1=$(st err_grant)
	expect_cmp "$label: the feed keeps the backend busy (bad grants in 3 s)" "$((r1 - r0))" ">" 100
	xr_log "$label: frontend state -> $state while the feed runs"
	xenstore-write "$FE_DIR/state" "$state"
	within "$label: backend torn down" "$TEARDOWN_MAX" "$done_check"
}

be_load pgnt 1
disk_brd
D1=$DISK
disk_brd
D2=$DISK
disk_brd
D3=$DISK
guest_start "$G" "$D1:xvdb"
guest_start h2
gx_must h2 "fe_load stock"
hx_load "$G"
hx_paths

# ---- Closed: the backend disconnects; another guest's devices still come and go ----
feed_and_close closed 6 hx_be_closed
timed "closed: xl block-attach on another guest meanwhile" "$ATTACH_MAX" \
	xl block-attach h2 "$(disk_spec "$D2" xvdc)"
timed "closed: xl block-detach on another guest" "$ATTACH_MAX" xl block-detach h2 xvdc
hx "$G" "info"
expect_cmp "closed: persistent grants mapped" "$(cat "$BBP/pgrants_mapped_total")" == 0
hx "$G" "unfeed"

# ---- Unknown: the backend device goes away; a new guest can be created ----
feed_and_close unknown 0 be_gone
guest_start h3 "$D3:xvdb"
gx_ok h3 "fe_load stock && wait_disk xvdb"
hx "$G" "unfeed"
grep 'feed q=' "$GX_OUT" | head -n 1 | sed 's/^/feed: /' >>"$SC_DIR/commands.log"
guest_stop h3
# h3's disk is served with persistent grants too: counted once it is gone.
sleep 2
expect_cmp "unknown: persistent grants mapped" "$(cat "$BBP/pgrants_mapped_total")" == 0

guest_stop h2
guest_stop "$G"
sleep 2
expect_cmp "after destroy: persistent grants" "$(cat "$BBP/pgrants_mapped_total")" == 0
be_unload
check "dom0: xen_blkback_pgnt unloaded" sh -c '! grep -q "^xen_blkback_pgnt " /proc/modules'
