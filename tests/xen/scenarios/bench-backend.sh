# shellcheck shell=bash
# benchmark, not a pass/fail test: IOPS and grant map/unmap/copy ops per I/O, stock backend (persistent on, off, on with a 16-grant budget) vs xen-blkback-pgnt (same three), same stock frontend and disk, then 3 guests at once (stock on, off, ours); prints the table with ours/stock ratios
# group: bench
#
# One guest: 4 KiB random read and write, 64 KiB and 1 MiB sequential
# write, each for BENCH_RUNTIME seconds (default FIO_RUNTIME) after a
# 1 MiB prefill.  Several guests (BENCH_GUESTS, 3), each with its own
# disk: the same workloads run in all of them at once; IOPS are summed and
# the grant operations are counted over all their devices.  Under TCG the
# absolute IOPS mean little and drift with host load, so the two backends
# of one configuration run back to back, and over BENCH_ROUNDS rounds (1)
# they take turns going first; the table gives mean IOPS per row.  The ops
# per I/O are exact (an I/O is one blkif request; pages_per_io gives its
# 4 KiB pages, so ops per page = ops per I/O / pages_per_io).
# dom0_cpu_us_per_io is dom0's busy CPU time per I/O over the run (lib.sh
# phase_end): what an I/O costs dom0, which IOPS hide when the guest is the
# bottleneck.  Output: results/<scenario>/bench.tsv (every run),
# bench-ratios.tsv and the log.  The checks only assert that every run
# completed without I/O errors.  BENCH_CONFIGS picks configurations (all:
# p1 p0 p1-budget16 multi-p1 multi-stock-p0), BENCH_WORKLOADS and
# BENCH_MULTI_WORKLOADS the workloads.
FRONTEND=stock
BBP=/sys/module/xen_blkback_pgnt/parameters
BENCH_RUNTIME=${BENCH_RUNTIME:-$FIO_RUNTIME}
BENCH_GUESTS=${BENCH_GUESTS:-3}
BENCH_ROUNDS=${BENCH_ROUNDS:-1}
WORKLOADS=${BENCH_WORKLOADS:-randread:4k randwrite:4k write:64k write:1m}
CONFIGS=${BENCH_CONFIGS:-p1 p0 p1-budget16 multi-p1 multi-stock-p0}
GX_TIMEOUT=200
BENCH=$SC_DIR/bench.tsv
printf 'config\tguests\tworkload\tiops\tmap_per_io\tunmap_per_io\tcopy_per_io\tround\tpages_per_io\tdom0_cpu_us_per_io\n' >"$BENCH"

# backend_setup BACKEND PERSISTENT BUDGET
backend_setup() {
	BACKEND=$1 PERSISTENT=$2
	be_load "$BACKEND" "$PERSISTENT"
	if [ "$BACKEND" = pgnt ]; then
		echo "$3" >"$BBP/max_persistent_grants"
		echo Y >"$BBP/overflow_copy"
	else
		echo "$3" >/sys/module/xen_blkback/parameters/max_persistent_grants
	fi
}

# bench_config LABEL BACKEND PERSISTENT [BUDGET]: one guest.
bench_config() {
	local label=$1 g w
	backend_setup "$2" "$3" "${4:-1056}"
	g=bench-$label-r$ROUND
	guest_start "$g" "$DISK1:xvdb"
	gx_must "$g" "fe_load stock $PERSISTENT && wait_disk xvdb"
	fio_ok "$g" xvdb "$label-r$ROUND-prefill" --rw=write --bs=1m --iodepth=8
	for w in $WORKLOADS; do
		fio_ok "$g" xvdb "$label-r$ROUND-${w%%:*}-${w##*:}" --rw="${w%%:*}" --bs="${w##*:}" \
			--time_based --runtime="$BENCH_RUNTIME"
		printf '%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$w" "$FIO_IOPS" "$PH_MAP_PER_IO" \
			"$PH_UNMAP_PER_IO" "$PH_COPY_PER_IO" "$ROUND" "$PH_PAGES_PER_IO" "$PH_CPU_US_PER_IO" >>"$BENCH"
	done
	guest_stop "$g"
}

# multi_fio LABEL FIO-ARGS...: the same fio job in every bench guest at
# once, counted as one phase; sets MULTI_IOPS (sum) and MULTI_ERR.
multi_fio() {
	local label=$1 g i n line iops err
	shift
	line="rm -f /tmp/fio.rc; (fio --name=$label --filename=/dev/xvdb --ioengine=libaio --direct=1 --iodepth=32 --size=64m $* --output-format=json --output=/tmp/fio.json >/tmp/fio.err 2>&1; echo \$? >/tmp/fio.rc) >/dev/null 2>&1 &"
	xr_log "fio $label in ${MGUESTS[*]}: $*"
	phase_begin_guests "$label" "${MGUESTS[@]}"
	for g in "${MGUESTS[@]}"; do gx "$g" "$line" 30 || xr_log "fio $label: start in $g failed"; done
	for g in "${MGUESTS[@]}"; do
		n=0
		until gx "$g" "test -s /tmp/fio.rc" 30; do
			n=$((n + 1))
			[ "$n" -lt 300 ] || break
			sleep 2
		done
	done
	phase_end
	MULTI_IOPS=0 MULTI_ERR=0 i=0
	for g in "${MGUESTS[@]}"; do
		i=$((i + 1))
		gx "$g" "cat /tmp/fio.rc /tmp/fio.json" 60
		cp "$GX_OUT" "$SC_DIR/fio/$label-$g.json"
		read -r err iops _ < <(python3 "$PAYLOAD/xen/dom0/fio-summary.py" "$SC_DIR/fio/$label-$g.json" ||
			echo "parse-error 0")
		[ "$(head -n 1 "$GX_OUT")" = 0 ] || err="rc=$(head -n 1 "$GX_OUT")"
		[ "$err" = 0 ] || MULTI_ERR=$((MULTI_ERR + 1))
		MULTI_IOPS=$((MULTI_IOPS + iops))
	done
	expect_cmp "fio $label: guests with errors" "$MULTI_ERR" == 0
	xr_log "fio $label: ${#MGUESTS[@]} guests, iops=$MULTI_IOPS map/io=$PH_MAP_PER_IO unmap/io=$PH_UNMAP_PER_IO copy/io=$PH_COPY_PER_IO"
}

# bench_multi LABEL BACKEND PERSISTENT [BUDGET]: BENCH_GUESTS guests at once.
bench_multi() {
	local label=$1 g i w
	backend_setup "$2" "$3" "${4:-1056}"
	MGUESTS=()
	for ((i = 1; i <= BENCH_GUESTS; i++)); do
		g=bm$i-$label-r$ROUND
		guest_start "$g" "${MDISKS[i]}:xvdb"
		gx_must "$g" "fe_load stock $PERSISTENT && wait_disk xvdb"
		MGUESTS+=("$g")
	done
	multi_fio "$label-x$BENCH_GUESTS-r$ROUND-prefill" --rw=write --bs=1m --iodepth=8
	for w in $WORKLOADS; do
		multi_fio "$label-x$BENCH_GUESTS-r$ROUND-${w%%:*}-${w##*:}" --rw="${w%%:*}" --bs="${w##*:}" \
			--time_based --runtime="$BENCH_RUNTIME"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$BENCH_GUESTS" "$w" "$MULTI_IOPS" \
			"$PH_MAP_PER_IO" "$PH_UNMAP_PER_IO" "$PH_COPY_PER_IO" "$ROUND" "$PH_PAGES_PER_IO" \
			"$PH_CPU_US_PER_IO" >>"$BENCH"
	done
	for g in "${MGUESTS[@]}"; do guest_stop "$g"; done
}

disk_brd
DISK1=$DISK
MDISKS=()
for ((i = 1; i <= BENCH_GUESTS; i++)); do
	disk_brd
	MDISKS[i]=$DISK
done

# pair CONFIG "FIRST SECOND": one configuration for both backends, back to back.
pair() {
	local be
	for be in $2; do
		case $1 in
		p1) bench_config "$be-p1" "$be" 1 ;;
		p0) bench_config "$be-p0" "$be" 0 ;;
		p1-budget16) bench_config "$be-p1-budget16" "$be" 1 16 ;;
		multi-p1) bench_multi "$be-p1" "$be" 1 ;;
		esac
	done
}

ALL_WORKLOADS=$WORKLOADS
for ((ROUND = 1; ROUND <= BENCH_ROUNDS; ROUND++)); do
	order="stock pgnt"
	[ $((ROUND % 2)) = 1 ] || order="pgnt stock"
	for c in $CONFIGS; do
		WORKLOADS=$ALL_WORKLOADS
		case $c in
		multi-*)
			# Several guests: the workloads that differ (64 KiB sits
			# between 4 KiB and 1 MiB); the budget case is the
			# single-guest table's.
			WORKLOADS=${BENCH_MULTI_WORKLOADS:-randread:4k randwrite:4k write:1m}
			;;
		esac
		case $c in
		# The stock backend without persistent grants, for reference.
		multi-stock-p0) if [ "$order" = "stock pgnt" ]; then bench_multi stock-p0 stock 0; fi ;;
		*) pair "$c" "$order" ;;
		esac
	done
done
be_unload

# Mean over the rounds per (config, guests, workload); then each pgnt row
# against the stock row of the same config suffix.
awk -F'\t' -v OFS='\t' 'NR > 1 { key = $1 FS $2 FS $3; if (!(key in n)) order[++m] = key
		n[key]++; io[key] += $4; mp[key] += $5; up[key] += $6; cp[key] += $7; pg[key] += $9; cu[key] += $10 }
	END { print "config", "guests", "workload", "iops", "map_per_io", "unmap_per_io", "copy_per_io", "rounds", "pages_per_io", "dom0_cpu_us_per_io"
		for (i = 1; i <= m; i++) { k = order[i]
			printf "%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t%.1f\t%.0f\n", k, io[k] / n[k], mp[k] / n[k], up[k] / n[k], cp[k] / n[k], n[k], pg[k] / n[k], cu[k] / n[k] } }' \
	"$BENCH" >"$SC_DIR/bench-mean.tsv"
# Ratios: each pgnt row against the stock row of the same config suffix.
awk -F'\t' -v OFS='\t' 'NR == 1 { print $0, "iops_ours/stock", "map+unmap_per_io_stock", "map+unmap_per_io_ours", "dom0_cpu_ours/stock"; next }
	{ key = $2 "|" $3 "|" substr($1, index($1, "-")); row[NR] = $0; cfg[NR] = $1; k[NR] = key
	  if ($1 ~ /^stock/) { si[key] = $4; sm[key] = $5 + $6; sc[key] = $10 } }
	END { for (i = 2; i <= NR; i++) {
		if (cfg[i] ~ /^pgnt/ && (k[i] in si)) {
			split(row[i], f, "\t")
			r = si[k[i]] > 0 ? sprintf("%.2f", f[4] / si[k[i]]) : "n/a"
			c = sc[k[i]] > 0 ? sprintf("%.2f", f[10] / sc[k[i]]) : "n/a"
			print row[i], r, sm[k[i]], f[5] + f[6], c
		} else print row[i], "", "", "", "" } }' "$SC_DIR/bench-mean.tsv" >"$SC_DIR/bench-ratios.tsv"
xr_log "benchmark (iops_ours/stock: pgnt row / stock row of the same config, guests and workload):"
xr_log_table "$SC_DIR/bench-ratios.tsv"
