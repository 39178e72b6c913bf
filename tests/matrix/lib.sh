# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings below are used by the scripts that source this
# Shared settings and helpers for tests/matrix/*.sh (sourced, not run).
#
# Cache layout (everything fetch.sh writes; nothing of it is in git):
#   $MATRIX_CACHE/apt/<view>/     private apt views of other suites
#   $MATRIX_CACHE/k/<kernel>/     unpacked headers (+ compiler) per kernel
#   $MATRIX_CACHE/chroot/sid/     debootstrap'd sid chroot (newest kernel)
#   $MATRIX_CACHE/checkpatch/     checkpatch.pl & co from sid's linux-source
#   $MATRIX_CACHE/env/<kernel>.env  what check.sh needs to build per kernel
# Every unpacked item has a .key file naming the package versions it came
# from; fetch.sh redoes an item whose key no longer matches the archive.

MATRIX_CACHE=${MATRIX_CACHE:-/var/cache/xen-blk-pgnt/matrix}
MATRIX_WORK=${MATRIX_WORK:-/var/tmp/xen-blk-pgnt/matrix}
MATRIX_KERNELS=(5.10 6.1 6.12 newest)
MIRROR=${MATRIX_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${MATRIX_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SID_CHROOT=$MATRIX_CACHE/chroot/sid

# The .ko files the project's top-level Kbuild must produce.
EXPECTED_KOS=(blkfront-pgnt/xen-blkfront-pgnt.ko blkback-pgnt/xen-blkback-pgnt.ko)
# The directories of ours that are copied, built and checked.
SOURCE_DIRS=(common blkfront-pgnt blkback-pgnt)

log() { printf '[matrix] %s\n' "$*" >&2; }
die() { printf '[matrix] ERROR: %s\n' "$*" >&2; exit 2; }

# Is $1 one of the matrix kernel names?
is_kernel() {
	local k
	for k in "${MATRIX_KERNELS[@]}"; do
		[[ $k == "$1" ]] && return 0
	done
	return 1
}

# Load $MATRIX_CACHE/env/<kernel>.env (written by fetch.sh) into K_* vars:
#   K_NAME K_RELEASE K_PKGVER K_KDIR (as make sees it) K_CHROOT K_PATH K_CC
load_kernel_env() {
	local f=$MATRIX_CACHE/env/$1.env
	[[ -r $f ]] || die "no $f: run tests/matrix/fetch.sh first"
	K_NAME='' K_RELEASE='' K_PKGVER='' K_KDIR='' K_CHROOT='' K_PATH='' K_CC=''
	# shellcheck disable=SC1090
	. "$f"
	[[ -z $K_CHROOT || $EUID == 0 ]] || die "kernel $1 builds in a chroot: run as root"
}

# Describe an ad-hoc headers dir (--kdir) in the same K_* variables.
load_kdir_env() {
	local kdir
	kdir=$(cd "$1" 2>/dev/null && pwd) || die "no such directory: $1"
	[[ -e $kdir/Makefile ]] || die "$kdir has no Makefile: not a kernel tree"
	K_NAME=kdir K_KDIR=$kdir K_CHROOT='' K_PATH='' K_PKGVER='-'
	K_RELEASE=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
		K_RELEASE=$(basename "$kdir")
	K_CC=$(kernelvariables_cc "$kdir")
}

# The compiler a Debian headers tree asks for (.kernelvariables), else gcc.
kernelvariables_cc() {
	local cc=''
	if [[ -r $1/.kernelvariables ]]; then
		cc=$(sed -n 's/^CC *= *//p' "$1/.kernelvariables" | sed -n 1p)
		cc=${cc##*)}
		cc=${cc#\$(CROSS_COMPILE)}
	fi
	echo "${cc:-gcc}"
}

# Run a command in the current kernel's environment: in the chroot (with a
# private /proc that disappears with the command) or on the host with the
# kernel's compiler first in PATH.  Paths are as seen by that environment.
k_run() {
	if [[ -n $K_CHROOT ]]; then
		# shellcheck disable=SC2016 # expanded by the inner bash
		unshare --mount --propagation private --fork -- \
			bash -c 'mount -t proc proc "$1/proc" && exec chroot "$@"' \
			_ "$K_CHROOT" env -i HOME=/root LC_ALL=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			"$@"
	else
		env LC_ALL=C PATH="${K_PATH:+$K_PATH:}$PATH" "$@"
	fi
}

# A scratch directory for one build, as a host path; see scratch_inside.
# Chroot kernels get it inside the chroot so that make can reach it.
scratch_base() {
	if [[ -n $K_CHROOT ]]; then
		echo "$K_CHROOT/build"
	else
		echo "$MATRIX_WORK/build"
	fi
}

# Map a host path below the chroot to the path the chroot sees.
scratch_inside() {
	if [[ -n $K_CHROOT ]]; then
		echo "${1#"$K_CHROOT"}"
	else
		echo "$1"
	fi
}

# One line naming the compiler the current kernel builds with.
k_compiler() {
	local v
	v=$(k_run "$K_CC" --version 2>/dev/null) || v=''
	v=${v%%$'\n'*}
	echo "${v:-$K_CC (not found)}"
}

# make against the current kernel, M=<dir as the environment sees it>.
k_make() {
	local dir=$1
	shift
	k_run make -C "$K_KDIR" M="$(scratch_inside "$dir")" -j"$(nproc)" "$@"
}

# Count lines of a log matching an extended regex (0 when none).
count_re() {
	local n
	n=$(grep -cE -- "$1" "$2" 2>/dev/null) || true
	echo "${n:-0}"
}

# Arguments common to check.sh and selftest.sh:
#   [--results DIR] [--kdir DIR] [--no-selftest] [KERNEL...]
# Sets KERNELS (names, or "kdir"), RESULTS (may stay empty), KDIR and
# NO_SELFTEST.
parse_common_args() {
	KERNELS=() RESULTS='' KDIR='' NO_SELFTEST=0
	while [[ $# -gt 0 ]]; do
		case $1 in
		--results) RESULTS=${2:?--results needs a directory} && shift ;;
		--kdir) KDIR=${2:?--kdir needs a directory} && shift ;;
		--no-selftest) NO_SELFTEST=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		sid) KERNELS+=(newest) ;;
		-*) die "unknown option: $1" ;;
		*)
			if is_kernel "$1"; then
				KERNELS+=("$1")
			elif [[ $1 == "$(newest_series)" ]]; then
				KERNELS+=(newest) # e.g. "7.2" while sid's newest is 7.2
			else
				die "unknown kernel '$1' (one of: ${MATRIX_KERNELS[*]} sid $(newest_series))"
			fi
			;;
		esac
		shift
	done
	if [[ -n $KDIR ]]; then
		[[ ${#KERNELS[@]} -eq 0 ]] || die "--kdir and kernel names exclude each other"
		KERNELS=(kdir)
		load_kdir_env "$KDIR" # fail early on a bad directory
	elif [[ ${#KERNELS[@]} -eq 0 ]]; then
		KERNELS=("${MATRIX_KERNELS[@]}")
	fi
}

# The newest kernel's series (e.g. 7.2), if fetched.
newest_series() {
	local r
	r=$(sed -n 's/^K_RELEASE=//p' "$MATRIX_CACHE/env/newest.env" 2>/dev/null) || true
	[[ $r =~ ^([0-9]+\.[0-9]+) ]] && echo "${BASH_REMATCH[1]}"
	return 0
}

# The usage text: the script's leading comment block.
usage() {
	# || true: a reader such as head may close the pipe early.
	sed -n '2,/^set -E\{0,1\}e/p' "$0" | sed '$d; s/^# \{0,1\}//' || true
}

# Load the K_* environment of one entry of KERNELS.
select_kernel() {
	if [[ $1 == kdir ]]; then
		load_kdir_env "$KDIR"
	else
		load_kernel_env "$1"
	fi
}

# A fresh results directory $MATRIX_WORK/results/<what>-<UTC time>-XXXX,
# with a <what>-latest symlink to it.
new_results_dir() {
	local base=$MATRIX_WORK/results d
	mkdir -p "$base"
	# Keep a week of results.
	find "$base" -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true
	d=$(mktemp -d "$base/$1-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
	ln -sfn "$(basename "$d")" "$base/$1-latest"
	echo "$d"
}

# Hold a shared lock on the cache for the rest of the script, so that a
# concurrent fetch.sh (exclusive) does not swap trees under a build.
lock_cache_shared() {
	mkdir -p "$MATRIX_CACHE"
	exec 9>>"$MATRIX_CACHE/.lock"
	flock -s 9
}

# A scratch directory for one build below scratch_base; scratch dirs left by
# killed runs are removed after a day.
new_scratch_dir() {
	local base
	base=$(scratch_base)
	mkdir -p "$base"
	find "$base" -mindepth 1 -maxdepth 1 -type d -mtime +1 -exec rm -rf {} + 2>/dev/null || true
	mktemp -d "$base/$1.XXXXXX"
}
