#!/usr/bin/env bash
# Print a rig run's results in short: verdicts, negotiated features, fio and
# grant operations per I/O. Usage: tests/xen/report.sh OUT_DIR
set -euo pipefail
R=${1:?usage: $0 OUT_DIR}/results
[ -d "$R" ] || { echo "no results in $1"; exit 1; }
table() { [ -s "$1" ] && column -t -s "$(printf '\t')" "$1" | sed 's/^/  /'; }
cut_cols() { [ -s "$2" ] && cut -f "$1" "$2" | column -t -s "$(printf '\t')" | sed 's/^/  /'; }

echo "== scenarios"
sed 's/^/  /' "$R/summary.txt" 2>/dev/null || echo "  (no summary)"
grep -h '^FAIL' "$R"/*/checks.txt 2>/dev/null | sed 's/^/  /' || true
if [ -s "$R/features.tsv" ]; then
	echo "== negotiated features (xenstore)"
	cut_cols 1-3,15,16,4-14 "$R/features.tsv"
fi
if [ -s "$R/fio-summary.tsv" ]; then
	echo "== fio (IOPS, latency) and grant ops per I/O (dom0 kprobes)"
	cut_cols 2-8,10-12,9 "$R/fio-summary.tsv"
fi
if [ -s "$R/grant-ops.tsv" ]; then
	echo "== grant operations per phase"
	cut_cols 2,5-13,17-19 "$R/grant-ops.tsv"
fi
