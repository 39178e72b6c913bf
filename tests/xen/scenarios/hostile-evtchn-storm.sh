# shellcheck shell=bash
# xen-blkback-pgnt against an event-channel storm: pgnt-hostile notifies the backend as fast as it can for STORM_S (10) s with nothing on the ring; every event it handles is counted spurious, it handles far fewer than were sent (each spurious EOI is delayed), dom0's busy CPU over the storm stays within 25% of one CPU of an idle period's, and a write after the storm is answered and lands
# group: hostile
#
# The ring's interrupt is a late-EOI one: the event channel stays masked
# until the thread has looked at the ring, and an EOI flagged spurious
# makes the kernel's event core wait before unmasking, longer each time.
# Notifications sent meanwhile collapse into one pending event.
BACKEND=pgnt FRONTEND=hostile
BBP=/sys/module/xen_blkback_pgnt/parameters
STORM_S=${STORM_S:-10}
# shellcheck source=../hostile/hx.sh
. "$PAYLOAD/xen/hostile/hx.sh"
G=hs

# busy_pct C0 C1 T0 T1: dom0 busy CPU between two cpu_busy (USER_HZ 100)
# and now_ms readings, in percent of one CPU.
busy_pct() { awk -v c="$(($2 - $1))" -v t="$(($4 - $3))" 'BEGIN { printf "%.0f", (t > 0 ? c * 1000 / t : 0) }'; }

be_load pgnt 1
disk_brd
guest_start "$G" "$DISK:xvdb"
hx_load "$G"
hx_connect storm "abi=64 persistent=1"

# The same length of time without a storm, for comparison.
c0=$(cpu_busy) t0=$(now_ms)
sleep "$STORM_S"
c1=$(cpu_busy) t1=$(now_ms)
IDLE=$(busy_pct "$c0" "$c1" "$t0" "$t1")

e0=$(st events) s0=$(st spurious_events)
c0=$(cpu_busy) t0=$(now_ms)
hx "$G" "kick count=1000000000 ms=$((STORM_S * 1000))"
c1=$(cpu_busy) t1=$(now_ms)
SENT=$(sed -n 's/^kicked \([0-9]*\) times.*/\1/p' "$GX_OUT")
STORM=$(busy_pct "$c0" "$c1" "$t0" "$t1")
E=$(($(st events) - e0)) S=$(($(st spurious_events) - s0))
xr_log "storm: $SENT notifications in ${STORM_S}s, backend handled $E events ($S spurious); dom0 busy ${STORM}% of a CPU (idle period ${IDLE}%)"
expect_cmp "storm: notifications sent" "${SENT:-0}" ">=" 1000
expect_cmp "storm: events handled" "$E" ">" 0
expect_cmp "storm: every event handled was spurious" "$S" == "$E"
expect_cmp "storm: events handled, at most one per 1000 sent" "$((E * 1000))" "<=" "${SENT:-0}"
expect_cmp "storm: dom0 busy CPU above the idle period's (% of a CPU)" "$((STORM - IDLE))" "<=" 25

# The ring still serves: a write, then a read of it, both answered.
hx "$G" "fill first=0 count=1 seed=9" "req op=1 id=1 sector=64 seg=0:0:7" \
	"zero first=0 count=1" "req op=0 id=2 sector=64 seg=0:0:7" "verify first=0 count=1 seed=9"
expect_cmp "after the storm: write and read answered" "$(hx_statuses)" == "0 0"
hx "$G" disconnect
dmesg >"$SC_DIR/dom0-dmesg.txt"
dmesg_clean "dom0" "$SC_DIR/dom0-dmesg.txt"
guest_stop "$G"
expect_cmp "no persistent grant left" "$(cat "$BBP/pgrants_mapped_total")" == 0
be_unload
