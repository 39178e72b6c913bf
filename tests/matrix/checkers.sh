# shellcheck shell=bash
# shellcheck disable=SC2034 # settings used by the scripts that source this
# The three checkers, shared by check.sh and selftest.sh so that the
# self-test exercises exactly the code that judges the real sources.
# Sourced after lib.sh; a kernel environment must be loaded (K_*).

CHECKPATCH_DIR=$MATRIX_CACHE/checkpatch
SPARSE_SKIPPED_RE='not available or not up to date'
# gcc/sparse diagnostics, and modpost's own.
WARN_RE=': warning: |^WARNING: '
ERR_RE=': error: |^ERROR: '

# build_w1 DIR LOG: make -k W=1 modules; returns make's status.  -k: one
# file's error must not hide the other files' warnings.
build_w1() {
	k_make "$1" -k W=1 modules >"$2" 2>&1
}

# sparse_c2 DIR LOG: make C=2 over an already built DIR.  Same make
# variables as build_w1 (plus C/CF, which do not enter the compiler's
# command line), so nothing is recompiled and the log is sparse's alone.
sparse_c2() {
	k_make "$1" -k W=1 C=2 CF=-D__CHECK_ENDIAN__ modules >"$2" 2>&1
}

# sparse_proof LOG DIR FILE...: print why sparse did not really check
# every FILE (paths relative to DIR); nothing when it did.
sparse_proof() {
	local log=$1 f
	shift 2
	if grep -qF "$SPARSE_SKIPPED_RE" "$log"; then
		echo "Kbuild says: $(grep -m1 -F "$SPARSE_SKIPPED_RE" "$log")"
	fi
	for f in "$@"; do
		grep -qE "^ +CHECK +(.*/)?${f//./\\.}\$" "$log" || echo "no CHECK line for $f"
	done
	if grep -qE '^ +CC \[M\] ' "$log"; then
		echo "sparse run recompiled objects (its counts would include gcc's)"
	fi
}

# The sources make compiles: every .c below DIR's module dirs, except
# what modpost generates.
c_sources() {
	(cd "$1" && find "${@:2}" -name '*.c' ! -name '*.mod.c' | sort)
}

# checkpatch_run LOG FILE...: the newest checkpatch, --strict, on each file.
# Prints "E W C" summed over the files, or "?" when a file went unreported.
checkpatch_run() {
	local log=$1 f out t e=0 w=0 c=0 e1 w1 c1
	shift
	: >"$log"
	for f in "$@"; do
		out=$(perl "$CHECKPATCH_DIR/checkpatch.pl" --strict --no-tree --show-types \
			--color=never -f "$f" 2>&1) || true
		printf '%s\n' "$out" >>"$log"
		t=$(grep -m1 -E '^total: [0-9]+ errors, [0-9]+ warnings, [0-9]+ checks' <<<"$out") || {
			echo "?"
			return 0
		}
		read -r e1 w1 c1 < <(sed -E 's/^total: ([0-9]+) errors, ([0-9]+) warnings, ([0-9]+) checks.*/\1 \2 \3/' <<<"$t")
		e=$((e + e1)) w=$((w + w1)) c=$((c + c1))
	done
	echo "$e $w $c"
}

# checkpatch_findings LOG: one line per finding, "file:line: TYPE: message".
checkpatch_findings() {
	awk '/^(ERROR|WARNING|CHECK):/ { msg = $0; next }
	     msg != "" && /^#[0-9]+: FILE: / { sub(/^#[0-9]+: FILE: /, ""); print $0 " " msg; msg = "" }
	     msg != "" && /^$/ { print "(no location) " msg; msg = "" }' "$1"
}

# checkpatch_allowed FINDINGS: the findings that are not ours to fix, one
# per line as in FINDINGS.  Only one kind: CHECK:CAMELCASE on an identifier
# the newest kernel's include/ already uses (e.g. Xen's XenbusStateClosed):
# checkpatch seeds its CamelCase list from the tree's #defines, typedefs and
# declarations, but not from enum constants, so it flags them in-tree too.
checkpatch_allowed() {
	local inc=$CHECKPATCH_DIR/kernel-include word
	[[ -d $inc ]] || return 0
	while read -r word; do
		if grep -rqFw --include='*.h' -- "$word" "$inc/"; then
			grep -F "CHECK:CAMELCASE: Avoid CamelCase: <$word>" "$1"
		fi
	done < <(sed -n 's/.* CHECK:CAMELCASE: Avoid CamelCase: <\([A-Za-z0-9_]*\)>$/\1/p' "$1" | sort -u)
}
