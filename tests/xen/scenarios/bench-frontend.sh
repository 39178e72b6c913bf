# shellcheck shell=bash
# benchmark, not a pass/fail test: IOPS of xen-blkfront-pgnt vs the stock frontend on the same backend (stock; BENCH_BACKENDS="stock pgnt" adds ours; persistent on) and disk, alternating frontends, with the ratios
# group: bench
#
# Prints one table (results/<scenario>/bench-summary.tsv and the log):
# 4 KiB random read and write, 64 KiB sequential write, 1 MiB sequential
# read and write, each for BENCH_RUNTIME seconds (default FIO_RUNTIME) at
# iodepth 32 after a 1 MiB prefill, per backend in BENCH_BACKENDS
# ("stock"; "stock pgnt" for both).  The frontends take turns in one guest (stock, pgnt,
# stock, pgnt for BENCH_ROUNDS=2) so that drift in the host's load hits
# both alike; the table gives the mean IOPS per frontend and pgnt/stock.
# Under TCG absolute IOPS mean little and vary with the host's load; the
# ratio is the figure.  The checks only assert that every run completed
# without I/O errors.
BENCH_RUNTIME=${BENCH_RUNTIME:-$FIO_RUNTIME}
BENCH_ROUNDS=${BENCH_ROUNDS:-2}
BENCH=$SC_DIR/bench.tsv
SUMMARY=$SC_DIR/bench-summary.tsv
WORKLOADS="randread:4k randwrite:4k write:64k read:1m write:1m"
printf 'backend\tfrontend\tround\tworkload\tiops\tmap_per_io\tunmap_per_io\tcopy_per_io\n' >"$BENCH"

for BACKEND in ${BENCH_BACKENDS:-stock}; do
	PERSISTENT=1
	be_load "$BACKEND" 1
	disk_brd
	g=bench-fe-$BACKEND
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load stock 1 && wait_disk xvdb"
	FRONTEND=stock
	fio_ok "$g" xvdb "$BACKEND-prefill" --rw=write --bs=1m --iodepth=8
	for ((r = 1; r <= BENCH_ROUNDS; r++)); do
		for fe in stock pgnt; do
			if [ "$FRONTEND" != "$fe" ]; then
				fe_swap "$g" "$fe" 1 || sc_abort "frontend swap to $fe"
			fi
			for w in $WORKLOADS; do
				fio_ok "$g" xvdb "$BACKEND-$fe-r$r-${w%%:*}-${w##*:}" --rw="${w%%:*}" --bs="${w##*:}" \
					--time_based --runtime="$BENCH_RUNTIME"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$BACKEND" "$fe" "$r" "$w" "$FIO_IOPS" \
					"$PH_MAP_PER_IO" "$PH_UNMAP_PER_IO" "$PH_COPY_PER_IO" >>"$BENCH"
			done
		done
	done
	gx_ok "$g" "fe_unload"
	guest_stop "$g"
done
be_unload

awk -F'\t' 'NR > 1 { k = $1 "\t" $4; s[k, $2] += $5; n[k, $2]++; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
	END {
		print "backend\tworkload\tstock_iops\tpgnt_iops\tpgnt/stock"
		for (i = 1; i <= m; i++) {
			k = order[i]
			a = n[k, "stock"] ? s[k, "stock"] / n[k, "stock"] : 0
			b = n[k, "pgnt"] ? s[k, "pgnt"] / n[k, "pgnt"] : 0
			printf "%s\t%.0f\t%.0f\t%s\n", k, a, b, a ? sprintf("%.2f", b / a) : "n/a"
		}
	}' "$BENCH" >"$SUMMARY"
xr_log "benchmark (mean IOPS over $BENCH_ROUNDS rounds, ${BENCH_RUNTIME}s each):"
xr_log_table "$SUMMARY"
