#!/usr/bin/env bash
# Boot Xen + PV dom0 under QEMU/TCG once and run the named scenarios in dom0.
#
# Usage: tests/xen/rig.sh [--list] [SCENARIO[@GUEST_KERNEL] ...]   (default: stock-basic)
#        tests/xen/rig.sh --group "quick long"   (prints the scenarios of those groups)
# Each scenario's line 3 names its group: quick (tests/run.sh's rig stage),
# hostile (on demand: a hostile guest or a failing disk against our backend,
# sustained, timed or mid-teardown), long (on demand, the rest of the
# pass/fail scenarios), soak (hours), bench (figures, not pass/fail), self
# (selftest-broken, the rig's negative test).
# Knobs (env): OUT (results dir), FIO_RUNTIME (s per fio job, 10), IO_BS ("4k 64k"),
#   DOM0_VCPUS (2), DOM0_MEM (MiB, 2048), QEMU_MEM (4G), QEMU_SMP (2),
#   SCENARIO_TIMEOUT (s, 1200), QEMU_TIMEOUT (s, 600 + SCENARIO_TIMEOUT per scenario), GUEST_KERNEL (6.1),
#   GUEST_MEM (MiB, 512), GUEST_VCPUS (1), PERSISTENT_MODES ("1 0"),
#   XR_CACHE (/var/cache/xen-blk-pgnt/rig), XR_QEMU_LOCK (1: wait for other rig boots),
#   KEEP_PAYLOAD (0: delete payload.img once the results are extracted),
#   GUEST_KERNELS (slim guests to build, see build-images.sh; "all" when
#   guest-kernels runs), DOM0_KERNEL (6.1 | 6.12: the dom0 image variant),
#   DISK_SCRIPT (fast: phy disks hot-plugged by dom0/block-fast, see lib.sh).
# Exit: 0 every scenario passed; 1 a scenario failed; 2 the rig itself failed
#   (no boot, timeout, no results); 3 usage or build error.
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

# All in a function: bash then parses the whole script before running it, so
# editing rig.sh while a run is in progress cannot break that run.
main() {
	if [ "${1:-}" = --list ]; then
		for f in "$XR_DIR"/scenarios/*.sh; do
			printf '%-28s %-6s %s\n' "$(basename "$f" .sh)" "$(sed -n '3s/^# group: //p' "$f")" \
				"$(sed -n '2s/^# //p' "$f")"
		done
		exit 0
	fi
	# --group "G ...": the names of the scenarios in those groups (line 3).
	if [ "${1:-}" = --group ]; then
		for f in "$XR_DIR"/scenarios/*.sh; do
			case " ${2:-} " in *" $(sed -n '3s/^# group: //p' "$f") "*) basename "$f" .sh ;; esac
		done
		exit 0
	fi
	SCENARIOS=("${@:-stock-basic}")
	# SCENARIO@K runs SCENARIO with the slim guest kernel K (5.10, 6.1, 6.12,
	# sid), so one boot can repeat a scenario on several guest kernels.
	kernels=()
	for s in "${SCENARIOS[@]}"; do
		[ -f "$XR_DIR/scenarios/${s%@*}.sh" ] || { log "unknown scenario '${s%@*}' (see --list)"; exit 3; }
		case $s in *@*) kernels+=("${s#*@}") ;; esac
	done

	FIO_RUNTIME=${FIO_RUNTIME:-10}
	DOM0_VCPUS=${DOM0_VCPUS:-2}
	DOM0_MEM=${DOM0_MEM:-2048}
	QEMU_MEM=${QEMU_MEM:-4G}
	QEMU_SMP=${QEMU_SMP:-2}
	SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-1200}
	# Boot (~2-4 min under load) plus every scenario's own limit.
	QEMU_TIMEOUT=${QEMU_TIMEOUT:-$((600 + SCENARIO_TIMEOUT * ${#SCENARIOS[@]}))}
	DOM0_KERNEL=${DOM0_KERNEL:-6.1}
	# guest-kernels is about every kernel of the matrix: build them all unless told.
	case " ${SCENARIOS[*]} " in *" guest-kernels "* | *@*) GUEST_KERNELS=${GUEST_KERNELS:-all} ;; esac
	# A 6.12 dom0 image's "dom0" guest kind is its own 6.12 kernel.
	if [ "$DOM0_KERNEL" != 6.1 ]; then
		GUEST_KERNELS=${GUEST_KERNELS:-$DOM0_KERNEL:dom0}
		GUEST_KERNEL=${GUEST_KERNEL:-$DOM0_KERNEL}
	fi
	GUEST_KERNELS=${GUEST_KERNELS:-6.1:dom0}
	GUEST_KERNEL=${GUEST_KERNEL:-6.1}
	export DOM0_KERNEL GUEST_KERNELS
	OUT=${OUT:-/var/tmp/xen-blk-pgnt-rig/$(date -u +%Y%m%d-%H%M%S)-$(IFS=+; echo "${SCENARIOS[*]}")}

	for t in qemu-system-x86_64 mkfs.ext4 debugfs debootstrap cpio rsync make; do
		command -v "$t" >/dev/null || { log "missing $t: run tests/xen/deps.sh"; exit 3; }
	done
	mkdir -p "$OUT"
	ln -sfn "$OUT" "$(dirname "$OUT")/latest" 2>/dev/null || true
	log "rig: scenarios ${SCENARIOS[*]} -> $OUT"

	# ---- images and modules ----------------------------------------------------
	XR_ENV_OUT=$OUT/images.env "$XR_DIR/build-images.sh" || { log "rig: image build failed"; exit 3; }
	# shellcheck source=/dev/null
	. "$OUT/images.env" # IMG, GUESTS="name=dir ..."
	# shellcheck source=/dev/null
	. "$IMG/image.env" # KVER of dom0
	for k in "$GUEST_KERNEL" "${kernels[@]}"; do
		case " $GUESTS" in *" $k="*) ;; *)
			log "rig: no guest kernel '$k' (built: $GUESTS; see GUEST_KERNELS in build-images.sh)"
			exit 3
			;;
		esac
	done

	P=$OUT/payload.d
	rm -rf "$P"
	mkdir -p "$P/config" "$P/ko" "$P/guest" "$P/results"
	rsync -a --exclude .gitignore "$XR_DIR/" "$P/xen/"
	# The modprobe.d file the packages ship (pgnt-skeleton tries it in dom0).
	cp "$XR_DIR/../../docs/xen-blk-pgnt.modprobe.conf" "$P/"
	# The slim guests' common userland, for xvda-root filesystems made in dom0.
	cp "$IMG/guest-userland.cpio.gz" "$P/guest/"
	# Our modules for dom0's kernel and every guest kernel. A failed build is not
	# fatal here: the scenarios that need a .ko then fail on their own, loudly.
	local builds="$KVER=$IMG/headers/$KVER/build" g k h name dir
	for g in $GUESTS; do
		name=${g%%=*} dir=${g#*=}
		mkdir -p "$P/guest/$name"
		cp -l "$dir"/{vmlinuz,initramfs.cpio.gz,modules.cpio.gz,kver} "$P/guest/$name/" 2>/dev/null ||
			cp "$dir"/{vmlinuz,initramfs.cpio.gz,modules.cpio.gz,kver} "$P/guest/$name/"
		k=$(cat "$dir/kver")
		h=$dir/headers/build
		[ ! -f "$dir/matrix-kernel" ] || h=matrix:$(cat "$dir/matrix-kernel")
		case " $builds" in *" $k="*) ;; *) builds="$builds $k=$h" ;; esac
	done
	for g in $builds; do
		k=${g%%=*} h=${g#*=}
		if ! "$XR_DIR/build-modules.sh" "$k" "$h" "$P/ko/$k" >"$OUT/modules-$k.log" 2>&1; then
			log "rig: WARNING module build for $k FAILED (see $OUT/modules-$k.log); pgnt steps will fail"
		else
			log "rig: modules for $k: $(cd "$P/ko/$k" && echo *.ko) ($(cat "$P/ko/$k/SOURCE") sources)"
		fi
	done
	{
		printf 'SCENARIOS=%q\n' "${SCENARIOS[*]}"
		# Every knob a scenario or lib.sh reads as ${NAME:-default} and the
		# caller set in the environment (CYCLES, BENCH_*, ...) goes to dom0.
		for v in SCENARIO_TIMEOUT $(grep -ohE '\$\{[A-Z][A-Z0-9_]*:-' "$XR_DIR"/scenarios/*.sh \
			"$XR_DIR"/dom0/lib.sh | sed 's/^..//; s/:-$//' | sort -u); do
			case $v in PAYLOAD | FRONTEND | BACKEND | PERSISTENT) continue ;; esac
			[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
		done
	} >"$P/config/rig.env"
	# dom0 stops its scenarios early enough to write and unmount its results.
	echo $((QEMU_TIMEOUT - 300)) >"$P/config/dom0-timeout"
	cp "$IMG/manifest.txt" "$OUT/image-manifest.txt"
	rm -f "$OUT/payload.img"
	mkfs.ext4 -q -F -L XRPAYLOAD -d "$P" "$OUT/payload.img" 1G >/dev/null
	rm -rf "$P"

	# ---- boot ------------------------------------------------------------------
	XEN_CMDLINE="console=com1 com1=115200,8n1 dom0_mem=${DOM0_MEM}M,max:${DOM0_MEM}M dom0_max_vcpus=$DOM0_VCPUS loglvl=all guest_loglvl=all smap=0 smep=0 ${XEN_EXTRA:-}"
	# No commas in here: QEMU's -initrd is a comma-separated multiboot module list.
	DOM0_CMDLINE="root=/dev/vda rw console=hvc0 earlyprintk=xen panic=10 ${DOM0_EXTRA:-}"
	# shellcheck disable=SC2054 # the commas belong to QEMU options
	QEMU=(qemu-system-x86_64 -machine q35 -accel tcg,thread=multi -cpu max,xsave=off
		-smp "$QEMU_SMP" -m "$QEMU_MEM"
		-kernel "$IMG/xen" -append "$XEN_CMDLINE"
		-initrd "$IMG/vmlinuz $DOM0_CMDLINE,$IMG/initrd.img"
		-drive "file=$IMG/rootfs.img,if=virtio,format=raw,snapshot=on"
		-drive "file=$OUT/payload.img,if=virtio,format=raw,cache=unsafe"
		-net none -display none -monitor none -no-reboot -serial "file:$OUT/serial.log")
	printf '%q ' "${QEMU[@]}" >"$OUT/qemu-cmdline.txt"
	# One rig boot at a time on this machine (2 cores: a second QEMU halves the
	# speed of both and skews every timing). XR_QEMU_LOCK=0 skips the wait.
	if [ "${XR_QEMU_LOCK:-1}" = 1 ]; then
		exec 8>"$XR_CACHE/qemu.lock"
		if ! flock -n 8; then
			log "rig: another rig boot is running on this machine, waiting for it"
			flock 8
		fi
	fi
	log "rig: booting Xen under QEMU/TCG (timeout ${QEMU_TIMEOUT}s, dom0 $DOM0_VCPUS vCPUs/$DOM0_MEM MiB)"
	: >"$OUT/serial.log"
	tb=$(date +%s)
	timeout -k 30 "$QEMU_TIMEOUT" "${QEMU[@]}" >"$OUT/qemu.log" 2>&1 &
	qpid=$!
	# Progress: marker lines from the serial console (Xen, dom0 kernel, our scripts).
	tail -n +1 -F --pid="$qpid" "$OUT/serial.log" 2>/dev/null |
		grep --line-buffered -a -E 'XRIG: |\(XEN\) Xen version|Panic|Kernel panic|Linux version' |
		while IFS= read -r l; do l=${l%$'\r'}; log "  ${l#*XRIG: }"; done || true
	qrc=0
	wait "$qpid" || qrc=$?
	log "rig: QEMU exited rc=$qrc after $(($(date +%s) - tb))s"

	# ---- results ---------------------------------------------------------------
	rm -rf "$OUT/results"
	debugfs -R "rdump /results $OUT" "$OUT/payload.img" >/dev/null 2>&1 || true
	rc=0
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		log "rig: FAIL: QEMU hit the ${QEMU_TIMEOUT}s timeout"
		rc=2
	fi
	if [ ! -s "$OUT/results/status" ]; then
		log "rig: FAIL: no results from dom0 (did it boot? see $OUT/serial.log)"
		rc=2
	fi
	for s in "${SCENARIOS[@]}"; do
		st=$(cat "$OUT/results/$s/status" 2>/dev/null || echo "NOT RUN")
		[ "$st" = PASS ] || { [ $rc -ne 0 ] || rc=1; }
		log "rig: scenario $s: $st"
	done
	[ "$(cat "$OUT/results/status" 2>/dev/null)" = PASS ] || [ $rc -ne 0 ] || rc=1
	# The results are out; the payload image (1 GiB sparse) only matters for debugging.
	[ "${KEEP_PAYLOAD:-0}" = 1 ] || [ ! -s "$OUT/results/status" ] || rm -f "$OUT/payload.img"
	"$XR_DIR/report.sh" "$OUT" || true
	log "rig: $([ $rc -eq 0 ] && echo PASS || echo FAIL) (exit $rc), results in $OUT"
	return $rc
}
main "$@"; exit  # one line: bash must not read past it if this file changes while running
