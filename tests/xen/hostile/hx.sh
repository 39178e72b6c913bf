# shellcheck shell=bash
# Scenario helpers for driving pgnt-hostile.ko (the hostile test frontend)
# in a slim guest; sourced by scenarios after dom0/lib.sh.
#
#   hx_load G                 load the module in guest G (its real frontend
#                             must not be loaded), debugfs mounted
#   hx G CMD...               run ctl commands in order, one gx round trip;
#                             stops at the first failing one; output in $GX_OUT
#   hx_statuses               the status= values of $GX_OUT's responses
#   hx_be_stat G VDEV FILE    a statistics file of G's backend device VDEV
#   st FILE                   the same, of guest $G's xvdb
#   hx_connect LABEL ARGS     connect guest $G's xvdb with ARGS, check both
#                             ends say Connected
#   hx_paths                  DOMID, VDEV, BE_DIR, FE_DIR of guest $G's xvdb
#   hx_be_closed              true when that backend's state is Closed
#   now_ms                    milliseconds since the epoch
#   timed LABEL MAX CMD...    CMD succeeds within MAX seconds (two checks)
#   within LABEL MAX CMD...   poll CMD until it holds, at most MAX seconds (a check)
#   hx_rsp_ids                the id= values of $GX_OUT's responses, in order
HX_CTL=/sys/kernel/debug/pgnt-hostile/ctl

hx_load() {
	gx_must "$1" "grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug; insmod /xr/ko/pgnt-hostile.ko && test -e $HX_CTL"
}

hx() {
	local g=$1 line c
	shift
	line="c() { echo \"\$1\" >$HX_CTL || { echo \"FAILED: \$1\"; cat $HX_CTL; exit 1; }; cat $HX_CTL; };"
	for c in "$@"; do line="$line c '$c';"; done
	gx "$g" "$line"
}

hx_statuses() {
	grep -o 'rsp .*status=-\?[0-9]*' "$GX_OUT" | sed 's/.*status=//' | tr '\n' ' ' | sed 's/ $//'
}

hx_rsp_ids() {
	grep -o '^rsp q=[0-9]* id=[0-9]*' "$GX_OUT" | sed 's/.*id=//' | tr '\n' ' ' | sed 's/ $//'
}

hx_be_stat() {
	local domid
	domid=$(guest_domid "$1")
	cat "/sys/bus/xen-backend/devices/vbd-$domid-$(vdev_id "$2")/statistics/$3" 2>/dev/null || echo n/a
}

st() { hx_be_stat "$G" xvdb "$1"; }

hx_connect() {
	hx "$G" "connect $2"
	check "$1: hostile frontend connects ($2)" grep -q '^state fe=.* be=4 up=1' "$GX_OUT"
	xs_features "$G" xvdb
	expect_cmp "$1: backend Connected" "$BE_STATE" == 4
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed LABEL MAX CMD...: CMD succeeds within MAX seconds.
timed() {
	local label=$1 max=$2 t0 t rc=0
	shift 2
	t0=$(now_ms)
	"$@" || rc=$?
	t=$(($(now_ms) - t0))
	xr_log "$label: ${t} ms, exit $rc"
	expect_cmp "$label: exit status" "$rc" == 0
	expect_cmp "$label: took (ms)" "$t" "<=" $((max * 1000))
}

hx_paths() {
	DOMID=$(guest_domid "$G")
	VDEV=$(vdev_id xvdb)
	BE_DIR=/local/domain/0/backend/vbd/$DOMID/$VDEV
	FE_DIR=/local/domain/$DOMID/device/vbd/$VDEV
}

hx_be_closed() { [ "$(xenstore-read "$BE_DIR/state" 2>/dev/null)" = 6 ]; }

within() {
	local label=$1 max=$2 t0 t
	shift 2
	t0=$(now_ms)
	while ! "$@"; do
		[ $(($(now_ms) - t0)) -le $((max * 1000)) ] || break
		sleep 0.2
	done
	t=$(($(now_ms) - t0))
	xr_log "$label: ${t} ms"
	check "$label within ${max}s (${t} ms)" "$@"
}
