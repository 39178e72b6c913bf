#!/bin/sh
# Slim PV guest agent: /init of the guest initramfs (appended per run by dom0,
# overriding the image's placeholder). Root stays in the initramfs, so the block
# frontend can be loaded, unloaded and swapped at run time.
#
# Protocol (all under /local/domain/<domid>/data/xr, writable by the guest):
#   cmd   = "<seq> <shell line>"       written by dom0
#   out/<seq>/n, out/<seq>/<i>         gzip+base64 of the line's stdout+stderr, in chunks
#   rc    = "<seq> <exit code>"        written last; dom0 waits for it
#   state = ready                      once the agent listens
# The line runs in a subshell of this script, so the fe_* helpers below are usable.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
# An xvda-root guest's initramfs moved its /dev here already.
mountpoint -q /dev || mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
exec </dev/null >/dev/hvc0 2>&1

say() { echo "XRG: $*"; }

# xl reboot/shutdown: the guest kernel runs /sbin/reboot or /sbin/poweroff,
# and busybox's signal init, i.e. this agent (TERM reboot, USR1/USR2 halt and
# poweroff). Without these traps PID 1 ignores them and the guest never goes.
# shellcheck disable=SC2317 # run by the traps
leave() {
	say "$1 requested"
	sync
	mount -o remount,ro / 2>/dev/null
	"$1" -f
}
trap 'leave reboot' TERM
trap 'leave poweroff' USR1 USR2

# fe_load stock|pgnt [feature_persistent]: load a block frontend.
fe_load() {
	case $1 in
	stock) modprobe xen_blkfront ${2:+"feature_persistent=$2"} ;;
	pgnt) insmod /xr/ko/xen-blkfront-pgnt.ko ${2:+"feature_persistent=$2"} ;;
	*) echo "fe_load: unknown frontend $1"; return 2 ;;
	esac
}

# fe_unload: remove whichever frontend is loaded. xenbus holds a module
# reference per bound device, so the vbd devices are unbound first; the next
# frontend's driver registration binds (and reconnects) them again.
fe_unload() {
	for d in /sys/bus/xen/drivers/vbd/vbd-*; do
		[ -e "$d" ] || continue
		echo "${d##*/}" >/sys/bus/xen/drivers/vbd/unbind || return 1
	done
	for m in xen_blkfront xen_blkfront_pgnt pgnt_hostile; do
		if grep -q "^$m " /proc/modules; then rmmod "$m" || return 1; fi
	done
}

# wait_disk DEV [SECONDS]: until /dev/DEV exists and has a size.
wait_disk() {
	n=${2:-60}
	while [ "$n" -gt 0 ]; do
		if [ -b "/dev/$1" ] && [ "$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)" -gt 0 ]; then
			return 0
		fi
		sleep 1
		n=$((n - 1))
	done
	echo "wait_disk: /dev/$1 did not appear"
	return 1
}

# wait_no_disk DEV [SECONDS]: until /dev/DEV is gone.
wait_no_disk() {
	n=${2:-60}
	while [ "$n" -gt 0 ]; do
		[ -e "/sys/block/$1" ] || return 0
		sleep 1
		n=$((n - 1))
	done
	echo "wait_no_disk: /dev/$1 still present"
	return 1
}

# send SEQ RC FILE: publish the output chunks, then the rc.
send() {
	i=0 args=""
	# 1500-byte values stay below xenstored's per-node size quota for guests.
	for chunk in $(gzip -c "$3" | base64 | tr -d '\n' | fold -w 1500); do
		args="$args $X/out/$1/$i $chunk"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086 # $args is a list of path/value pairs without spaces
	xenstore-write $args "$X/out/$1/n" "$i" && xenstore-write "$X/rc" "$1 $2"
}

# Relative paths resolve to this domain's home, which stays right after
# xl save/restore (new domid); only the watch needs the absolute path.
X=data/xr
say "agent up: domid $(xenstore-read domid) kernel $(uname -r) uptime $(cut -d' ' -f1 /proc/uptime)s"
xenstore-write "$X/state" ready
last=""
while :; do
	cmd=$(xenstore-read "$X/cmd" 2>/dev/null || true)
	seq=${cmd%% *}
	if [ -z "$cmd" ] || [ "$seq" = "$last" ]; then
		# The watch fires once at registration and once per change; the timeout
		# covers a change that lands between the read above and the watch.
		timeout 10 xenstore-watch -n 2 "/local/domain/$(xenstore-read domid)/$X/cmd" >/dev/null 2>&1
		continue
	fi
	last=$seq
	line=${cmd#* }
	say "[$seq] \$ $line"
	(eval "$line") >"/tmp/out.$seq" 2>&1
	rc=$?
	tail -n 15 "/tmp/out.$seq" | sed "s/^/XRG: [$seq] | /"
	say "[$seq] rc=$rc"
	send "$seq" "$rc" "/tmp/out.$seq" || say "[$seq] failed to publish the result"
	rm -f "/tmp/out.$seq"
done
