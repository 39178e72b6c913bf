#!/usr/bin/env bash
# dom0 entry point, started by the image's xenrig-boot from the payload disk.
# Runs every scenario named in /payload/config/rig.env in its own process,
# collects logs, writes results/status (PASS/FAIL) and results/summary.txt.
set -uo pipefail
PAYLOAD=/payload
# shellcheck source=/dev/null
. "$PAYLOAD/config/rig.env" # SCENARIOS and the knobs rig.sh passed on
: "${SCENARIOS:?rig.env names no scenario}"
# shellcheck source=lib.sh
. "$PAYLOAD/xen/dom0/lib.sh"
# xenconsoled (--log=guest, set in the image) does not create its log dir;
# guests started from now on get their console logged there.
mkdir -p "$RESULTS" /run/xr /var/log/xen/console
: >"$RESULTS/summary.txt"
echo FAIL >"$RESULTS/status" # until proven otherwise

SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-1200}

xr_log "main: kernel $KVER, scenarios: $SCENARIOS"
# Xen's init script has to be done before xl works.
for _ in $(seq 60); do xl info >/dev/null 2>&1 && break; sleep 2; done
{
	uname -a
	xl info
	echo "dom0 vcpus: $(nproc)"
	ls -l "$DOM0_KO" 2>&1
} >"$RESULTS/env.txt" 2>&1
if ! xl info >/dev/null 2>&1; then
	xr_log "main: FATAL xl info fails, Xen toolstack not up"
	dmesg >"$RESULTS/dom0-dmesg.txt"
	exit 1
fi
gops_init >>"$RESULTS/dom0.log" 2>&1 || xr_log "main: WARNING kprobe setup failed, grant ops will read 0"

overall=PASS
for s in $SCENARIOS; do
	t0=$(uptime_s)
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout -k 10 "$SCENARIO_TIMEOUT" bash -c '
		set -u -o pipefail
		. "$0/config/rig.env"
		case $1 in *@*) GUEST_KERNEL=${1#*@} ;; esac
		. "$0/xen/dom0/lib.sh"
		sc_begin "$1"
		. "$0/xen/scenarios/${1%@*}.sh"
		sc_end' "$PAYLOAD" "$s"
	rc=$?
	# Whatever the scenario left behind: guests, our backend, tracing marks.
	for g in $(xl list | awk 'NR > 2 { print $1 }'); do
		cp "/var/log/xen/console/guest-$g.log" "$RESULTS/$s/guest-$g-console.log" 2>/dev/null
		xl destroy "$g" >/dev/null 2>&1
	done
	losetup -D
	rm -f /run/xr-disks/disk.*
	[ $rc -eq 124 ] && echo "FAIL scenario timed out after ${SCENARIO_TIMEOUT}s" >>"$RESULTS/$s/checks.txt"
	nfail=$(grep -c '^FAIL' "$RESULTS/$s/checks.txt" 2>/dev/null)
	npass=$(grep -c '^PASS' "$RESULTS/$s/checks.txt" 2>/dev/null)
	if [ $rc -eq 0 ]; then v=PASS; else v=FAIL overall=FAIL; fi
	echo "$v" >"$RESULTS/$s/status"
	printf '%s %s rc=%s checks: %s passed, %s failed (%ss)\n' "$v" "$s" "$rc" "${npass:-0}" "${nfail:-0}" \
		"$(($(uptime_s) - t0))" >>"$RESULTS/summary.txt"
	SCENARIO="" xr_log "scenario $s: $v (rc=$rc, ${npass:-0} checks passed, ${nfail:-0} failed)"
done

xl dmesg >"$RESULTS/xl-dmesg.txt" 2>&1
dmesg >"$RESULTS/dom0-dmesg.txt"
xenstore-ls -fp >"$RESULTS/xenstore-final.txt" 2>&1
cp -r /var/log/xen "$RESULTS/var-log-xen" 2>/dev/null
echo "$overall" >"$RESULTS/status"
xr_log "main: done, overall $overall"
sync
