# shellcheck shell=bash
# benchmark, not a pass/fail test: IOPS and grant map/unmap/copy ops per I/O, stock backend (persistent on, off, on with a 16-grant budget) vs xen-blkback-pgnt (persistent on; on with a 16-grant budget), same stock frontend and disk
#
# Prints one table (results/<scenario>/bench.tsv and the log): 4 KiB random
# read and write, 64 KiB and 1 MiB sequential write, each for BENCH_RUNTIME
# seconds (default FIO_RUNTIME) after a 1 MiB prefill.  Under TCG the
# absolute IOPS mean little; the ratios and the ops per I/O are the point.
# The checks only assert that every run completed without I/O errors.
FRONTEND=stock
BBP=/sys/module/xen_blkback_pgnt/parameters
BENCH_RUNTIME=${BENCH_RUNTIME:-$FIO_RUNTIME}
BENCH=$SC_DIR/bench.tsv
printf 'config\tworkload\tiops\tmap_per_io\tunmap_per_io\tcopy_per_io\n' >"$BENCH"

# bench_config LABEL BACKEND PERSISTENT [BUDGET]
bench_config() {
	local label=$1 budget=${4:-} g w
	BACKEND=$2 PERSISTENT=$3
	be_load "$BACKEND" "$PERSISTENT"
	if [ "$BACKEND" = pgnt ]; then
		echo "${budget:-1056}" >"$BBP/max_persistent_grants"
		echo Y >"$BBP/overflow_copy"
	else
		echo "${budget:-1056}" >/sys/module/xen_blkback/parameters/max_persistent_grants
	fi
	disk_brd
	g=bench-$label
	guest_start "$g" "$DISK:xvdb"
	gx_must "$g" "fe_load stock $PERSISTENT && wait_disk xvdb"
	fio_ok "$g" xvdb "$label-prefill" --rw=write --bs=1m --iodepth=8
	for w in randread:4k randwrite:4k write:64k write:1m; do
		fio_ok "$g" xvdb "$label-${w%%:*}-${w##*:}" --rw="${w%%:*}" --bs="${w##*:}" \
			--time_based --runtime="$BENCH_RUNTIME"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$w" "$FIO_IOPS" "$PH_MAP_PER_IO" \
			"$PH_UNMAP_PER_IO" "$PH_COPY_PER_IO" >>"$BENCH"
	done
	guest_stop "$g"
}

bench_config stock-p1 stock 1
bench_config stock-p0 stock 0
bench_config stock-p1-budget16 stock 1 16
bench_config pgnt-p1 pgnt 1
bench_config pgnt-p1-budget16 pgnt 1 16
be_unload
xr_log "benchmark:"
column -t -s "$(printf '\t')" "$BENCH" | while read -r l; do xr_log "  $l"; done
