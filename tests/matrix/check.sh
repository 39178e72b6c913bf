#!/bin/bash
# The kernel build matrix and static checks of the module sources.
#
# Usage: check.sh [--results DIR] [--no-selftest] [--kdir DIR | KERNEL...]
#   KERNEL: 5.10 6.1 6.12 newest (sid's newest; "sid" and its series,
#           e.g. "7.2", are aliases);
#           default all.  --kdir DIR: one headers dir instead, on the host.
#   Needs tests/matrix/fetch.sh to have run (check.sh does not download).
#   MATRIX_SRC=DIR checks another source tree (default: this repository).
#
# For each kernel, on a copy of Kbuild, common/, blkfront-pgnt/ and
# blkback-pgnt/ (snapshotted once, so all kernels see the same sources):
#   build   make W=1 modules: compiler (and modpost) warnings and errors,
#           and both .ko files must exist
#   sparse  make C=2 CF=-D__CHECK_ENDIAN__: sparse warnings and errors; every
#           compiled .c of ours must have a CHECK line, and Kbuild's "sparse
#           is not available or not up to date" is a failure
# Once, kernel-independent: checkpatch.pl --strict --no-tree -f (the newest,
# from sid's linux-source) on every *.c, *.h and Kbuild/Makefile of ours.
# CHECK:CAMELCASE on identifiers the newest kernel's include/ defines (Xen's
# XenbusState*) is not counted but shown as "(+N kernel CamelCase)".
# Before that, selftest.sh proves each checker catches a planted problem on
# each kernel (skip with --no-selftest).
#
# Output: one table (kernel x build, W=1, sparse, checkpatch, self-test),
# the findings, and a closing line "matrix: N passed, N failed".  Logs go to
# DIR (default $MATRIX_WORK/results/check-<time>, symlink check-latest).
# Exit: 0 all clean, 1 a finding or a checker that did not run, 2 setup
# error (e.g. fetch.sh not run).
set -Eeuo pipefail
trap 'echo "[matrix] check.sh: internal error (or output closed) at line $LINENO" >&2; exit 2' ERR
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${MATRIX_SRC:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=checkers.sh
. "$HERE/checkers.sh"

parse_common_args "$@"
RESULTS=${RESULTS:-$(new_results_dir check)}
mkdir -p "$RESULTS"
[[ -f $SRC/Kbuild ]] || die "no Kbuild in $SRC"
[[ -r $CHECKPATCH_DIR/checkpatch.pl ]] || die "no checkpatch: run tests/matrix/fetch.sh first"
for k in "${KERNELS[@]}"; do
	[[ $k == kdir ]] || load_kernel_env "$k" # fail early if not fetched
done
lock_cache_shared

PASS=0 FAIL=0
pass() { PASS=$((PASS + 1)); }
fail() {
	FAIL=$((FAIL + 1))
	FAILURES+=("$*")
}
FAILURES=() NOTES=()

# ---- snapshot of the sources ---------------------------------------------

mkdir -p "$MATRIX_WORK"
SNAP=$(mktemp -d "$MATRIX_WORK/snapshot.XXXXXX")
SCRATCH=()
cleanup() { rm -rf "$SNAP" "${SCRATCH[@]}"; }
trap cleanup EXIT
rsync -a --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='*.order' --exclude=Module.symvers --exclude='.tmp*' \
	"$SRC/Kbuild" "${SOURCE_DIRS[@]/#/$SRC/}" "$SNAP/"
{
	echo "source: $SRC"
	git -C "$SRC" log -1 --format='commit: %H %s' 2>/dev/null || true
	git -C "$SRC" status --short -- Kbuild "${SOURCE_DIRS[@]}" 2>/dev/null | sed 's/^/changed: /' || true
	(cd "$SNAP" && find . -type f | sort | sed 's/^/file: /')
} >"$RESULTS/sources.txt"

# ---- self-test of the checkers -------------------------------------------

SELFTEST_STATUS=$RESULTS/selftest/status.tsv
if [[ $NO_SELFTEST == 0 ]]; then
	log "self-test of the checkers"
	if [[ -n $KDIR ]]; then
		"$HERE/selftest.sh" --results "$RESULTS/selftest" --kdir "$KDIR" >"$RESULTS/selftest.out" || true
	else
		"$HERE/selftest.sh" --results "$RESULTS/selftest" "${KERNELS[@]}" >"$RESULTS/selftest.out" || true
	fi
	[[ -s $SELFTEST_STATUS ]] || die "selftest.sh wrote no status, see $RESULTS/selftest.out"
fi

# selftest_of KERNEL CHECKER: ok, FAIL or skipped.
selftest_of() {
	[[ $NO_SELFTEST == 0 ]] || { echo skipped; return 0; }
	local s
	s=$(awk -F'\t' -v k="$1" -v c="$2" '$1 == k && $2 == c { print $3 }' "$SELFTEST_STATUS")
	echo "${s:-FAIL}"
}

# selftest_verdict STATUS MESSAGE KERNEL CHECKER: count a self-test result.
selftest_verdict() {
	case $1 in
	ok) pass ;;
	skipped) ;;
	*) fail "$2: $(awk -F'\t' -v k="$3" -v c="$4" '$1 == k && $2 == c { print $4 }' "$SELFTEST_STATUS")" ;;
	esac
}

# ---- per kernel: W=1 build and sparse ------------------------------------

ROWS=()
check_kernel() {
	local k=$1 out=$RESULTS/$1 dir t0 rc=0 ko=0 kos=() f w1w w1e spw spe
	local proof compiled=() spdesc cc sp_st w1_st
	select_kernel "$k"
	log "$k: $K_RELEASE"
	mkdir -p "$out"
	dir=$(new_scratch_dir check)
	SCRATCH+=("$dir")
	rsync -a "$SNAP/" "$dir/"

	t0=$SECONDS
	build_w1 "$dir" "$out/build.log" || rc=$?
	for f in "${EXPECTED_KOS[@]}"; do
		if [[ -f $dir/$f ]]; then
			ko=$((ko + 1))
		else
			kos+=("$f")
		fi
	done
	w1w=$(count_re "$WARN_RE" "$out/build.log")
	w1e=$(count_re "$ERR_RE" "$out/build.log")
	if [[ $rc == 0 && $ko == "${#EXPECTED_KOS[@]}" ]]; then
		pass
	else
		fail "$k build: make rc=$rc, missing: ${kos[*]:-none} (see $out/build.log)"
	fi
	if [[ $w1w != 0 || $w1e != 0 ]]; then
		fail "$k W=1: $w1w warnings, $w1e errors (see $out/build.log)"
	elif [[ $rc == 0 ]]; then
		pass
	else
		w1e="$w1e (incomplete)" # the build failure is counted above
	fi
	w1_st=$(selftest_of "$k" W=1)
	selftest_verdict "$w1_st" "$k W=1: checker W=1 did not run on kernel $k (self-test)" "$k" W=1

	# sparse needs the objects: on a failed build it would recompile.
	spw='-' spe='-'
	if [[ $rc == 0 ]]; then
		sparse_c2 "$dir" "$out/sparse.log" || true
		for f in $(c_sources "$dir" "${SOURCE_DIRS[@]}"); do
			if [[ -f $dir/${f%.c}.o ]]; then
				compiled+=("$f")
			else
				NOTES+=("$k: $f is not compiled on its own (checked only where #included)")
			fi
		done
		proof=$(sparse_proof "$out/sparse.log" "$dir" "${compiled[@]}")
		[[ ${#compiled[@]} -gt 0 ]] || proof="no compiled .c file found"
		spw=$(count_re "$WARN_RE" "$out/sparse.log")
		spe=$(count_re "$ERR_RE" "$out/sparse.log")
		if [[ -n $proof ]]; then
			fail "$k sparse: did not run: $(tr '\n' ';' <<<"$proof")"
			spw='NOT RUN' spe='-'
		elif [[ $spw == 0 && $spe == 0 ]]; then
			pass
		else
			fail "$k sparse: $spw warnings, $spe errors (see $out/sparse.log)"
		fi
	else
		fail "$k sparse: not run, the build failed"
	fi
	sp_st=$(selftest_of "$k" sparse)
	selftest_verdict "$sp_st" "$k sparse: checker sparse did not run on kernel $k (self-test)" "$k" sparse

	# The findings with scratch paths made relative to the module root.
	for f in build sparse; do
		[[ -f $out/$f.log ]] || continue
		grep -E "$WARN_RE|$ERR_RE" "$out/$f.log" |
			sed "s#$(scratch_inside "$dir")/##" >"$out/$f-findings.txt" || true
	done
	grep -E "$ERR_RE|\*\*\*" "$out/build.log" |
		sed "s#$(scratch_inside "$dir")/##" >"$out/make-errors.txt" || true

	cc=$(k_compiler | sed -E 's/^([^ ]+) \(Debian ([^)]*)\).*/\1 \2/')
	spdesc=$(k_run sparse --version 2>/dev/null | sed -E 's/.*Debian: ([^)]*)\).*/\1/') || spdesc='?'
	ROWS+=("$(printf '%s\t%s (%s)\t%s\t%s %s/%s .ko\t%s/%s\t%s/%s (sparse %s)\t-\t%s/%s\t%ss' \
		"$k" "$K_RELEASE" "$K_PKGVER" "$cc" \
		"$([[ $rc == 0 ]] && echo ok || echo "FAIL rc=$rc")" "$ko" "${#EXPECTED_KOS[@]}" \
		"$w1w" "$w1e" "$spw" "$spe" "${spdesc:-?}" "$w1_st" "$sp_st" \
		"$((SECONDS - t0))")")
	rm -rf "$dir"
}

for k in "${KERNELS[@]}"; do
	check_kernel "$k"
done

# ---- checkpatch, once ----------------------------------------------------

mapfile -t CP_FILES < <(cd "$SNAP" && find Kbuild "${SOURCE_DIRS[@]}" -type f \
	\( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) ! -name '*.mod.c' | sort)
CP_VERSION=$(cat "$CHECKPATCH_DIR/.key")
CP_COUNTS=$(cd "$SNAP" && checkpatch_run "$RESULTS/checkpatch.log" "${CP_FILES[@]}")
checkpatch_findings "$RESULTS/checkpatch.log" >"$RESULTS/checkpatch-all.txt"
checkpatch_allowed "$RESULTS/checkpatch-all.txt" >"$RESULTS/checkpatch-allowed.txt"
grep -vxF -f "$RESULTS/checkpatch-allowed.txt" "$RESULTS/checkpatch-all.txt" \
	>"$RESULTS/checkpatch-findings.txt" || true
CP_ALLOWED=$(grep -c . "$RESULTS/checkpatch-allowed.txt") || true
CP_ST=$(selftest_of checkpatch checkpatch)
if [[ $CP_COUNTS == '?' ]]; then
	fail "checkpatch: a file went unreported (see $RESULTS/checkpatch.log)"
	CP_CELL='NOT RUN'
else
	read -r cpe cpw cpc <<<"$CP_COUNTS"
	# Allowed findings are all CHECKs (see checkpatch_allowed).
	cpc=$((cpc - CP_ALLOWED))
	CP_CELL="$cpe/$cpw/$cpc"
	[[ $CP_ALLOWED == 0 ]] || CP_CELL+=" (+$CP_ALLOWED kernel CamelCase)"
	if [[ $cpe == 0 && $cpw == 0 && $cpc == 0 ]]; then
		pass
	else
		fail "checkpatch: $cpe errors, $cpw warnings, $cpc checks (see $RESULTS/checkpatch-findings.txt)"
	fi
fi
selftest_verdict "$CP_ST" "checkpatch: checker checkpatch did not run (self-test)" checkpatch checkpatch

# ---- the table -------------------------------------------------------------

{
	printf 'kernel\theaders (package version)\tcompiler\tbuild\tW=1 warn/err\tsparse warn/err\tcheckpatch E/W/C\tself-test\ttime\n'
	printf '%s\n' "${ROWS[@]}"
	printf 'all (once)\t%s files, --strict, from %s\tperl %s\t-\t-\t-\t%s\t%s\t\n' \
		"${#CP_FILES[@]}" "$CP_VERSION" "$(perl -e 'print substr($^V, 1)')" "$CP_CELL" "$CP_ST"
} >"$RESULTS/table.tsv"
column -t -s $'\t' -o ' | ' "$RESULTS/table.tsv" | tee "$RESULTS/table.txt"

{
	if [[ ${#FAILURES[@]} -gt 0 ]]; then
		echo
		echo "Failures:"
		printf '  %s\n' "${FAILURES[@]}"
	fi
	for k in "${KERNELS[@]}"; do
		if [[ ! -s $RESULTS/$k/build-findings.txt && -s $RESULTS/$k/make-errors.txt ]]; then
			echo
			echo "$k make errors (first 5):"
			head -n 5 "$RESULTS/$k/make-errors.txt" | sed 's/^/  /'
		fi
		for f in build sparse; do
			if [[ -s $RESULTS/$k/$f-findings.txt ]]; then
				echo
				echo "$k $f findings (first 20):"
				head -n 20 "$RESULTS/$k/$f-findings.txt" | sed 's/^/  /'
			fi
		done
	done
	if [[ -s $RESULTS/checkpatch-findings.txt ]]; then
		echo
		echo "checkpatch findings (first 40 of $(grep -c . "$RESULTS/checkpatch-findings.txt");" \
			"$CP_ALLOWED kernel CamelCase not counted, see checkpatch-allowed.txt):"
		head -n 40 "$RESULTS/checkpatch-findings.txt" | sed 's/^/  /'
		echo "checkpatch findings by type:"
		awk '{ print $2 }' "$RESULTS/checkpatch-findings.txt" | sed 's/:$//' |
			sort | uniq -c | sort -rn | sed 's/^/  /'
		echo "checkpatch findings by file:"
		sed 's/:.*//' "$RESULTS/checkpatch-findings.txt" | sort | uniq -c | sort -rn | sed 's/^/  /'
	fi
	if [[ ${#NOTES[@]} -gt 0 ]]; then
		echo
		echo "Notes:"
		printf '  %s\n' "${NOTES[@]}"
	fi
	echo
	echo "logs: $RESULTS"
	echo "matrix: $PASS passed, $FAIL failed"
} | tee "$RESULTS/summary.txt"
if [[ $FAIL -ne 0 ]]; then
	exit 1
fi
