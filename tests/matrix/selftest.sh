#!/bin/bash
# Self-test of the checkers: a planted module with one problem per checker
# must be flagged by that checker on every kernel, or the checker is taken
# as not running (a check that silently does nothing must not pass).
#   W=1         -Wunused-const-variable (only W=1 enables it, on 5.10..7.x)
#   sparse      __le32 field assigned a u32 (different base types)
#   checkpatch  a line indented with spaces (ERROR:CODE_INDENT), plus a
#               WARNING and a --strict-only CHECK, so all three counts and
#               --strict itself are proven; and CamelCase of ours (counted)
#               and of the kernel (XenbusStateClosed, allowed by check.sh)
#
# Usage: selftest.sh [--results DIR] [--kdir DIR | KERNEL...]
#   KERNEL: 5.10 6.1 6.12 newest (default: all); --kdir: one headers dir,
#   built on the host with the compiler its .kernelvariables names.
# Output: one line per kernel and checker, "selftest <kernel> <checker>: ok"
# or "... FAIL: checker <checker> did not run on kernel <kernel> (why)";
# $RESULTS/status.tsv has the same as "kernel<TAB>checker<TAB>ok|FAIL";
# the closing line is "selftest: N passed, N failed".
# Exit: 0 all detected, 1 some checker failed, 2 setup error.
set -Eeuo pipefail
trap 'echo "[matrix] selftest.sh: internal error (or output closed) at line $LINENO" >&2; exit 2' ERR
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=checkers.sh
. "$HERE/checkers.sh"

parse_common_args "$@"
RESULTS=${RESULTS:-$(new_results_dir selftest)}
mkdir -p "$RESULTS"
: >"$RESULTS/status.tsv"
PASSED=0 FAILED=0

# Write the planted module into DIR.
plant() {
	mkdir -p "$1"
	echo 'obj-m := pgnt_selftest.o' >"$1/Kbuild"
	# printf %b so that \t is a tab; the one line indented with spaces is
	# the checkpatch plant.
	printf '%b\n' \
		'// SPDX-License-Identifier: GPL-2.0' \
		'/* Planted by tests/matrix/selftest.sh: each checker must flag its line. */' \
		'#include <linux/module.h>' \
		'#include <linux/types.h>' \
		'#include <xen/interface/io/xenbus.h>' \
		'' \
		'/* W=1 only: -Wunused-const-variable */' \
		'static const int pgnt_selftest_unused = 1;' \
		'' \
		'/* sparse only: a CPU-order value stored in a little-endian field */' \
		'static __le32 pgnt_selftest_wire;' \
		'static int *pgnt_selftest_ptr;' \
		'static enum xenbus_state pgnt_selftest_state;' \
		'static int pgntSelftestCamel; /* checkpatch --strict: CHECK:CAMELCASE, ours */' \
		'' \
		'static int __init pgnt_selftest_init(void)' \
		'{' \
		'\tu32 cpu = 1;' \
		'' \
		'\tpgnt_selftest_wire = cpu;' \
		'\tpgnt_selftest_state = XenbusStateClosed; /* CAMELCASE, the kernel'"'"'s: allowed */' \
		'\tpgntSelftestCamel = 1;' \
		'\tif (pgnt_selftest_ptr == NULL) /* checkpatch --strict: CHECK:COMPARISON_TO_NULL */' \
		'\t\tprintk("pgnt\\n"); /* checkpatch: WARNING:PRINTK_WITHOUT_KERN_LEVEL */' \
		'        return 0; /* checkpatch only: ERROR:CODE_INDENT */' \
		'}' \
		'module_init(pgnt_selftest_init);' \
		'MODULE_LICENSE("GPL");' \
		'MODULE_DESCRIPTION("tests/matrix checker self-test");' \
		>"$1/pgnt_selftest.c"
}

# verdict KERNEL CHECKER REASON: REASON empty means detected.
verdict() {
	if [[ -z $3 ]]; then
		echo "selftest $1 $2: ok"
		printf '%s\t%s\tok\n' "$1" "$2" >>"$RESULTS/status.tsv"
		PASSED=$((PASSED + 1))
	else
		echo "selftest $1 $2: FAIL: checker $2 did not run on kernel $1 ($3)"
		printf '%s\t%s\tFAIL\t%s\n' "$1" "$2" "$3" >>"$RESULTS/status.tsv"
		FAILED=$((FAILED + 1))
	fi
}

selftest_kernel() {
	local k=$1 out=$RESULTS/$1 dir why proof
	mkdir -p "$out"
	dir=$(new_scratch_dir selftest)
	plant "$dir"

	why=''
	if ! build_w1 "$dir" "$out/w1.log"; then
		why="planted module failed to build, see $out/w1.log"
	elif [[ ! -f $dir/pgnt_selftest.ko ]]; then
		why="no pgnt_selftest.ko"
	elif ! grep -qE 'pgnt_selftest\.c:[0-9]+:[0-9]+: warning: .*pgnt_selftest_unused.*\[-Wunused-const-variable' "$out/w1.log" ||
		[[ $(count_re "$WARN_RE" "$out/w1.log") -lt 1 ]]; then
		why="planted -Wunused-const-variable not reported, see $out/w1.log"
	fi
	verdict "$k" W=1 "$why"

	why=''
	if [[ ! -f $dir/pgnt_selftest.ko ]]; then
		why="not tried: the planted module did not build"
	else
		sparse_c2 "$dir" "$out/sparse.log" || true
		proof=$(sparse_proof "$out/sparse.log" "$dir" pgnt_selftest.c)
		if [[ -n $proof ]]; then
			why=$(tr '\n' ';' <<<"$proof")
		elif ! grep -qE 'pgnt_selftest\.c:[0-9]+:[0-9]+: (warning|error): incorrect type in assignment \(different base types\)' "$out/sparse.log" ||
			[[ $(count_re "$WARN_RE|$ERR_RE" "$out/sparse.log") -lt 1 ]]; then
			why="planted __le32 = u32 not reported, see $out/sparse.log"
		fi
	fi
	verdict "$k" sparse "$why"
	rm -rf "$dir"
}

selftest_checkpatch() {
	local dir counts why='' e w c t
	dir=$(mktemp -d)
	plant "$dir"
	counts=$(cd "$dir" && checkpatch_run "$RESULTS/checkpatch.log" pgnt_selftest.c)
	if [[ $counts == '?' ]]; then
		why="no summary line, see $RESULTS/checkpatch.log"
	else
		read -r e w c <<<"$counts"
		for t in ERROR:CODE_INDENT WARNING:PRINTK_WITHOUT_KERN_LEVEL CHECK:COMPARISON_TO_NULL; do
			grep -q "^$t:" "$RESULTS/checkpatch.log" || why+="planted $t not reported; "
		done
		[[ $e -ge 1 && $w -ge 1 && $c -ge 1 ]] ||
			why+="summed counts $e/$w/$c miss a category; "
		# The CamelCase allowance must spare the kernel's identifier only.
		checkpatch_findings "$RESULTS/checkpatch.log" >"$RESULTS/checkpatch-all.txt"
		checkpatch_allowed "$RESULTS/checkpatch-all.txt" >"$RESULTS/checkpatch-allowed.txt"
		if grep -q '<pgntSelftestCamel>' "$RESULTS/checkpatch-allowed.txt" ||
			! grep -q '<pgntSelftestCamel>' "$RESULTS/checkpatch-all.txt"; then
			why+="own CamelCase not counted; "
		fi
		if [[ -d $CHECKPATCH_DIR/kernel-include ]] &&
			! grep -q '<XenbusStateClosed>' "$RESULTS/checkpatch-allowed.txt"; then
			why+="kernel CamelCase XenbusStateClosed not allowed; "
		fi
		[[ -z $why ]] || why+="see $RESULTS/checkpatch.log"
	fi
	rm -rf "$dir"
	verdict checkpatch checkpatch "$why"
}

[[ -r $CHECKPATCH_DIR/checkpatch.pl ]] || die "no checkpatch: run tests/matrix/fetch.sh first"
lock_cache_shared
for k in "${KERNELS[@]}"; do
	select_kernel "$k"
	selftest_kernel "$k"
done
selftest_checkpatch
echo "selftest: $PASSED passed, $FAILED failed"
if [[ $FAILED -ne 0 ]]; then
	exit 1
fi
