#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The whole test suite of xen-blk-pgnt, as README.md documents it.
# Installs what it needs (Debian 12, root), then runs every stage and ends
# with "N passed, N failed" over the stages; exits non-zero if any failed.
#
#   tests/run.sh [STAGE ...]      default: all stages, in this order
#
# Logs go to $RESULTS (default /var/tmp/xen-blk-pgnt-results/<time>).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

RESULTS=${RESULTS:-/var/tmp/xen-blk-pgnt-results/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS"
start=$(date +%s)
passed=0 failed=0
summary=()

stage_deps() {
	tests/deps.sh && tests/matrix/deps.sh && tests/xen/deps.sh
}

# Both modules build for the host's Debian headers and modinfo shows the
# version, every documented parameter and the stock drivers' aliases.
stage_modinfo() {
	local b=$RESULTS/build-host kdir
	kdir=$(make -s kdir)
	rm -rf "$b" && mkdir -p "$b"
	rsync -a Kbuild common blkfront-pgnt blkback-pgnt "$b/" &&
		make -s -C "$kdir" M="$b" modules || return 1
	tests/modinfo-check.sh "$b/blkfront-pgnt/xen-blkfront-pgnt.ko" \
		"$b/blkback-pgnt/xen-blkback-pgnt.ko"
}

# DKMS builds and installs both modules for a Debian kernel, then removes them.
stage_dkms() {
	tests/dkms-check.sh
}

# The Debian package and the RPM build from the tree and ship what
# install-src makes; the .deb installs and purges cleanly through DKMS.
stage_pkg() {
	tests/pkg-check.sh
}

stage_unit() {
	make -s -C tests/unit clean && make -C tests/unit
}

stage_mutants() {
	tests/unit/mutants.sh
}

stage_matrix() {
	tests/matrix/fetch.sh && tests/matrix/check.sh
}

# Scenarios on the real hypervisor (tests/xen/README.md). selftest-broken
# and then RIG_SCENARIOS are dealt alternately to RIG_BOOTS QEMU boots that
# run at the same time. Default 1: on 2 cores two TCG boots side by side
# each ran about 2x slower (measured), so they gain nothing there and bring
# the long scenarios near their timeouts; use 2 or more on bigger machines.
# selftest-broken corrupts the disk between a write and its verification:
# the rig must report exactly that scenario as failed while every other one
# passes. RIG_SCENARIOS defaults to the scenarios of RIG_GROUPS (line 3 of
# each scenario): "quick" is sized for CI's 90 minutes on a slow 2-core
# machine; RIG_GROUPS="quick hostile long" runs every pass/fail scenario.
RIG_GROUPS=${RIG_GROUPS:-quick}
RIG_SCENARIOS=${RIG_SCENARIOS:-$(tests/xen/rig.sh --group "$RIG_GROUPS" | tr '\n' ' ')}
# Timed fio phases (s each); the data checks are sized, not timed.
export FIO_RUNTIME=${FIO_RUNTIME:-5}
RIG_BOOTS=${RIG_BOOTS:-1}

# rig_boot N SCENARIO...: one rig.sh run into $RESULTS/rig-N; its exit code
# in $RESULTS/rig-N.rc.
rig_boot() {
	local n=$1 rc=0
	shift
	OUT=$RESULTS/rig-$n XR_QEMU_LOCK=0 tests/xen/rig.sh "$@" >"$RESULTS/rig-$n.log" 2>&1 || rc=$?
	echo "$rc" >"$RESULTS/rig-$n.rc"
}

stage_rig() {
	local n i=0 s line bad=0 want pids=() lists=()

	for s in selftest-broken $RIG_SCENARIOS; do
		lists[i % RIG_BOOTS]+=" $s"
		i=$((i + 1))
	done
	for ((n = 0; n < RIG_BOOTS; n++)); do
		[ -n "${lists[n]:-}" ] || continue
		echo "rig: boot $n:${lists[n]} (log: $RESULTS/rig-$n.log)"
		# shellcheck disable=SC2086 # a list of scenario names
		rig_boot "$n" ${lists[n]} &
		pids+=($!)
		# The first boot builds the images and modules alone; the others
		# start once it is booting and find them in the cache.
		if [ "$n" -eq 0 ]; then
			while kill -0 "${pids[0]}" 2>/dev/null &&
				! grep -q 'rig: booting Xen' "$RESULTS/rig-0.log" 2>/dev/null; do
				sleep 5
			done
		fi
	done
	# Progress of the first boot for whoever watches; the rest are in the logs.
	tail -n +1 -F "$RESULTS/rig-0.log" 2>/dev/null --pid="${pids[0]}" &
	wait "${pids[@]}"
	for ((n = 0; n < RIG_BOOTS; n++)); do
		[ -n "${lists[n]:-}" ] || continue
		want=0
		[ "$n" -eq 0 ] && want=1
		if [ "$(cat "$RESULTS/rig-$n.rc" 2>/dev/null)" != "$want" ]; then
			echo "rig: boot $n exited $(cat "$RESULTS/rig-$n.rc" 2>/dev/null || echo '?'), expected $want"
			tail -n 20 "$RESULTS/rig-$n.log"
			bad=1
		fi
		for s in ${lists[n]}; do
			line=$(grep -E "^(PASS|FAIL) $s " "$RESULTS/rig-$n/results/summary.txt" 2>/dev/null || true)
			case $s:$line in
			selftest-broken:FAIL*) echo "rig: selftest-broken failed, as it must" ;;
			selftest-broken:*) echo "rig: the broken scenario was not detected: '$line'"; bad=1 ;;
			*:PASS*) echo "rig: $line" ;;
			*) echo "rig: $s did not pass: '${line:-no result}'"; bad=1 ;;
			esac
		done
	done
	[ "$bad" -eq 0 ]
}

all_stages=(deps modinfo dkms pkg unit mutants matrix rig)
stages=("${@:-${all_stages[@]}}")

for s in "${stages[@]}"; do
	if ! declare -F "stage_$s" >/dev/null; then
		echo "unknown stage '$s' (stages: ${all_stages[*]})" >&2
		exit 2
	fi
done

for s in "${stages[@]}"; do
	t0=$(date +%s)
	echo "=== [$(date -u +%H:%M:%S) +$((t0 - start))s] stage $s (log: $RESULTS/$s.log)"
	if "stage_$s" > >(tee "$RESULTS/$s.log") 2>&1; then
		r=PASS
		passed=$((passed + 1))
	else
		r=FAIL
		failed=$((failed + 1))
	fi
	summary+=("$(printf '%-14s %s  %4ss' "$s" "$r" "$(($(date +%s) - t0))")")
	echo "=== stage $s: $r"
	# Nothing after a failed install can be trusted to mean anything.
	[ "$s" = deps ] && [ "$r" = FAIL ] && break
done

echo
echo "xen-blk-pgnt test suite, $(date -u '+%Y-%m-%d %H:%M UTC'), $(($(date +%s) - start)) s, logs in $RESULTS"
printf '  %s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
