#!/usr/bin/env bash
# Build xen-blkfront-pgnt.ko and xen-blkback-pgnt.ko for one exact kernel.
# Usage: build-modules.sh KVER HEADERS_BUILD_DIR|matrix:K OUTDIR
# matrix:K builds in tests/matrix's environment of kernel K (its headers and
# compiler: gcc-10 for 5.10, the sid chroot for newest), see tests/matrix/lib.sh.
# MODSRC=worktree  copy the work tree's sources (what the brief asks for)
# MODSRC=HEAD      export the last commit's sources (git archive)
# MODSRC=auto      (default) worktree; if that does not build, HEAD, loudly
# The sources are COPIED to a scratch dir first (others build in the repo
# tree concurrently). Results are cached by (kver, source hash).
set -euo pipefail
. "$(dirname "$0")/lib/host.sh"

[ $# -eq 3 ] || die "usage: $0 KVER HEADERS_BUILD_DIR OUTDIR"
kver=$1 headers=$2 out=$3
SRC=(Kbuild common blkfront-pgnt blkback-pgnt)
case $headers in
matrix:*) ;;
*) [ -f "$headers/Makefile" ] || die "no kernel headers at $headers" ;;
esac

# matrix_make K DIR: make modules for DIR in tests/matrix's environment of
# kernel K (a subshell: the matrix's lib.sh has its own log/die).
matrix_make() {
	(
		# shellcheck source=../matrix/lib.sh
		. "$XR_REPO/tests/matrix/lib.sh"
		lock_cache_shared
		load_kernel_env "$1"
		[ "$K_RELEASE" = "$kver" ] || die "tests/matrix kernel $1 is now $K_RELEASE, not $kver (rebuild the guest)"
		s=$(new_scratch_dir rig-modules)
		cp -a "$2/." "$s/"
		rm -f "$s/build.log"
		rc=0
		k_make "$s" modules || rc=$?
		(cd "$s" && find . -name '*.ko' -exec cp --parents {} "$2/" \;)
		rm -rf "$s"
		exit "$rc"
	)
}

# fetch_src worktree|HEAD DIR: the module sources into DIR.
fetch_src() {
	local s
	if [ "$1" = HEAD ]; then
		git -C "$XR_REPO" archive HEAD "${SRC[@]}" | tar -x -C "$2"
		return
	fi
	for s in "${SRC[@]}"; do
		[ -e "$XR_REPO/$s" ] || die "module source $s missing in $XR_REPO"
		rsync -a --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' \
			--exclude='*.mod.c' --exclude='modules.order' --exclude='Module.symvers' "$XR_REPO/$s" "$2/"
	done
}

# build FROM: build into the cache; prints the cache dir.
build() {
	local scratch srchash cached
	scratch=$(mktemp -d /var/tmp/xen-blk-pgnt-modbuild.XXXXXX)
	fetch_src "$1" "$scratch"
	srchash=$(cd "$scratch" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)
	cached="$XR_CACHE/modules/$kver/$srchash"
	if [ -f "$cached/done" ]; then
		log "modules: cache hit for $kver ($1 sources $srchash)" >&2
	else
		log "modules: building for $kver ($1 sources $srchash)" >&2
		if ! case $headers in
			matrix:*) matrix_make "${headers#matrix:}" "$scratch" ;;
			*) make -C "$headers" M="$scratch" modules ;;
			esac >"$scratch/build.log" 2>&1; then
			tail -n 30 "$scratch/build.log" >&2
			rm -rf "$scratch"
			log "modules: build of the $1 sources for $kver FAILED" >&2
			return 1
		fi
		mkdir -p "$cached"
		find "$scratch" -name '*.ko' -exec cp {} "$cached/" \;
		cp "$scratch/build.log" "$cached/"
		echo "$1" >"$cached/source"
		touch "$cached/done"
	fi
	rm -rf "$scratch"
	echo "$cached"
}

main() {
	local mode=${MODSRC:-auto} cached
	case $mode in
	worktree | HEAD) cached=$(build "$mode") || die "module build failed ($mode sources)" ;;
	auto)
		if ! cached=$(build worktree); then
			log "modules: WARNING the work tree does not build for $kver; using the last commit (HEAD) instead"
			cached=$(build HEAD) || die "module build failed (work tree and HEAD)"
		fi
		;;
	*) die "MODSRC must be worktree, HEAD or auto" ;;
	esac
	mkdir -p "$out"
	cp "$cached"/*.ko "$out/"
	cp "$cached/source" "$out/SOURCE"
	# The hostile test frontend (tests/xen/hostile/, never packaged), for the scenarios.
	"$(dirname "$0")/hostile/build.sh" "$kver" "$headers" "$out" >&2 ||
		log "modules: WARNING pgnt-hostile.ko not built for $kver (hostile-* scenarios will fail)"
	for ko in "$out"/*.ko; do
		vm=$(modinfo -F vermagic "$ko")
		[ "${vm%% *}" = "$kver" ] || die "$ko has vermagic '$vm', expected $kver"
		log "modules: $(basename "$ko") vermagic ${vm%% *} ($(cat "$cached/source") sources)"
	done
}
main "$@"; exit  # one line: bash must not read past it if this file changes while running
