#!/usr/bin/env bash
# The demo (rig part): install what is needed, build images and our modules,
# boot Xen under QEMU/TCG, serve a disk from dom0 to a PV guest, run fio with
# verification, and print a short report: negotiated features, IOPS and grant
# map/unmap ops per I/O for stock vs pgnt, and one PASS/FAIL line.
#
# Usage: tests/xen/demo.sh        Env: DEMO_PGNT=auto|0|1 (run pgnt-basic; auto =
#   only once the pgnt drivers no longer say "not implemented yet"), plus rig.sh's knobs.
# Exit: rig.sh's exit code (0 = PASS).
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

# pgnt_state: "io" when the pgnt drivers are meant to do I/O, else "skeleton".
pgnt_state() {
	case ${DEMO_PGNT:-auto} in
	1) echo io ;;
	0) echo skeleton ;;
	*) if grep -rqs 'not implemented yet' "$XR_REPO"/blkfront-pgnt "$XR_REPO"/blkback-pgnt; then
		echo skeleton
	else
		echo io
	fi ;;
	esac
}

# tsv_get FILE COLUMN-NAME KEY-COLUMN-NAME KEY [SCENARIO]: one value.
tsv_get() {
	awk -F'\t' -v col="$2" -v kcol="$3" -v key="$4" -v sc="${5:-}" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		(col in h) && $h[kcol] == key && (sc == "" || $h["scenario"] == sc) { v = $h[col] }
		END { print (v == "" ? "-" : v) }' "$1" 2>/dev/null || echo -
}

report() {
	local out=$1 pg=$2 rc=$3 r=$1/results sc p
	echo
	echo "================ xen-blk-pgnt rig demo ================"
	echo "results: $out   (details: tests/xen/report.sh $out)"
	echo "-- negotiated features (xenstore, backend/frontend)"
	if [ -s "$r/features.tsv" ]; then
		awk -F'\t' 'NR > 1 && !seen[$1 FS $2 FS $3]++ {
			printf "  %-13s %-7s %s  %s<->%s  persistent %s/%s  ring-page-order max %s/fe %s  queues max %s/fe %s  indirect-segs %s  flush %s discard %s\n",
				$1, $2, $3, $15, $16, $6, $7, $8, $9, $10, $11, $12, $13, $14 }' "$r/features.tsv"
	else
		echo "  (none recorded)"
	fi
	echo "-- fio 4k QD32 IOPS and grant ops per I/O (dom0 kprobes; IOPS under TCG are noisy, op counts are not)"
	printf '  %-6s %-5s %-13s %6s %7s %9s %8s\n' side mode phase IOPS map/IO unmap/IO copy/IO
	for sc in stock-basic pgnt-basic; do
		[ "$sc" = pgnt-basic ] && [ "$pg" != io ] && continue
		for p in 1 0; do
			for ph in randread-4k randwrite-4k; do
				printf '  %-6s %-5s %-13s %6s %7s %9s %8s\n' "${sc%-basic}" "p$p" "$ph" \
					"$(tsv_get "$r/fio-summary.tsv" iops phase "p$p-$ph" "$sc")" \
					"$(tsv_get "$r/fio-summary.tsv" map_per_io phase "p$p-$ph" "$sc")" \
					"$(tsv_get "$r/fio-summary.tsv" unmap_per_io phase "p$p-$ph" "$sc")" \
					"$(tsv_get "$r/fio-summary.tsv" copy_per_io phase "p$p-$ph" "$sc")"
			done
			printf '  %-6s %-5s %-13s fio error code %s (0 = no crc32c mismatch)\n' "${sc%-basic}" "p$p" verify \
				"$(tsv_get "$r/fio-summary.tsv" error phase "p$p-verify" "$sc")"
		done
	done
	if [ "$pg" != io ]; then
		echo "  pgnt backend:  not implemented yet (skeleton module loaded/unloaded only: $(cat "$r/pgnt-skeleton/status" 2>/dev/null || echo 'NOT RUN'))"
		echo "  pgnt frontend: not implemented yet (skeleton module loaded/unloaded only: $(cat "$r/pgnt-skeleton/status" 2>/dev/null || echo 'NOT RUN'))"
	else
		echo "  pgnt pair (pgnt-basic): $(cat "$r/pgnt-basic/status" 2>/dev/null || echo 'NOT RUN')"
	fi
	echo "-- scenarios"
	sed 's/^/  /' "$r/summary.txt" 2>/dev/null || echo "  (no results: the rig did not complete)"
	echo "DEMO: $([ "$rc" -eq 0 ] && echo PASS || echo "FAIL (rig exit $rc)")"
}

main() {
	local pg out rc=0 scenarios=(stock-basic)
	"$XR_DIR/deps.sh"
	pg=$(pgnt_state)
	# Until our drivers do I/O, only their load/unload can be shown.
	if [ "$pg" = io ]; then scenarios+=(pgnt-basic); else scenarios+=(pgnt-skeleton); fi
	# The demo's I/O suite: 4k only (the full stock-basic adds 64k).
	export IO_BS=${IO_BS:-4k}
	out=${OUT:-/var/tmp/xen-blk-pgnt-rig/demo-$(date -u +%Y%m%d-%H%M%S)}
	log "demo: pgnt drivers: $pg; scenarios: ${scenarios[*]}"
	OUT=$out "$XR_DIR/rig.sh" "${scenarios[@]}" || rc=$?
	report "$out" "$pg" "$rc"
	return "$rc"
}
main "$@"; exit  # one line: bash must not read past it if this file changes while running
