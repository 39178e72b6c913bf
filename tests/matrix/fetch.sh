#!/bin/bash
# Fetch everything the build matrix needs into $MATRIX_CACHE (see lib.sh):
#   5.10   bullseye(-security) headers, unpacked, + bullseye's gcc-10, unpacked
#   6.1    bookworm(-security) headers, unpacked (host's gcc-12)
#   6.12   bookworm-backports headers, unpacked (host's gcc-12)
#   newest sid's linux-headers-amd64 (whatever it is today) in a debootstrap'd
#          sid chroot, with sid's gcc and sparse
#   checkpatch.pl, spelling.txt, const_structs.checkpatch (and
#          checker-valid.sh) from sid's linux-source, i.e. the newest.
# The host's own apt sources and dpkg database are not touched (other than
# deps.sh installing host packages): other suites are read through private
# apt views.  Idempotent; a warm run only refreshes the package lists.
#
# Usage: fetch.sh [--offline]
#   --offline  do not refresh the private package lists (use cached ones)
# Exit: 0 ok, 2 on any failure.
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

OFFLINE=0
for a in "$@"; do
	case $a in
	--offline) OFFLINE=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $a" ;;
	esac
done

trap 'echo "[matrix] fetch.sh failed (line $LINENO)" >&2; exit 2' ERR

# ---- private apt views ---------------------------------------------------

# view_init NAME SUITE...: an apt configuration that sees only these suites
# and none of the host's sources, preferences, apt.conf.d or installed
# packages.
view_init() {
	local name=$1 d=$MATRIX_CACHE/apt/$1 s mirror
	shift
	mkdir -p "$d"/{lists/partial,archives/partial,cache,debs,prefs.d,conf.d}
	: >"$d/status"
	: >"$d/sources.list.new"
	for s in "$@"; do
		mirror=$MIRROR
		if [[ $s == *-security ]]; then
			mirror=$SECURITY_MIRROR
		fi
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" \
			>>"$d/sources.list.new"
	done
	mv "$d/sources.list.new" "$d/sources.list"
	cat >"$d/apt.conf" <<-EOF
		Dir::Etc::sourcelist "$d/sources.list";
		Dir::Etc::sourceparts "-";
		Dir::Etc::parts "$d/conf.d";
		Dir::Etc::preferences "$d/preferences";
		Dir::Etc::preferencesparts "$d/prefs.d";
		Dir::State::Lists "$d/lists";
		Dir::State::status "$d/status";
		Dir::Cache "$d/cache";
		Dir::Cache::archives "$d/archives";
		APT::Architecture "amd64";
		APT::Architectures { "amd64"; };
		Acquire::Languages "none";
		Acquire::Check-Valid-Until "false";
		Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
		Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
		Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
		Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
		Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
	EOF
}

v_apt() {
	local view=$1
	shift
	APT_CONFIG=$MATRIX_CACHE/apt/$view/apt.conf "$@"
}

view_update() {
	local view=$1
	if [[ $OFFLINE == 1 ]]; then
		ls "$MATRIX_CACHE/apt/$view/lists/"*_Packages* >/dev/null 2>&1 ||
			die "--offline but no package lists for view $view"
		return 0
	fi
	log "apt-get update ($view)"
	if ! v_apt "$view" apt-get update -q -o APT::Update::Error-Mode=any \
		>"$MATRIX_CACHE/apt/$view/update.log" 2>&1; then
		cat "$MATRIX_CACHE/apt/$view/update.log" >&2
		# Cached lists still allow a (possibly stale) run.
		ls "$MATRIX_CACHE/apt/$view/lists/"*_Packages* >/dev/null 2>&1 ||
			die "apt-get update failed for view $view"
		log "WARNING: update of view $view failed; using cached lists"
	fi
}

# Candidate version of PKG in VIEW ("" if none).
cand() {
	local v
	v=$(v_apt "$1" apt-cache policy "$2" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [[ $v == '(none)' ]]; then
		v=''
	fi
	echo "$v"
}

# Names PKG=VER Depends on in VIEW (first alternative, no versions).
deps_of() {
	v_apt "$1" apt-cache show --no-all-versions "$2=$3" |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed 's/^ *//; s/ *|.*//; s/[ (:].*//' | sed '/^$/d'
}

# "PKG=VER" for PKG and, recursively, those of its dependencies whose name
# matches REGEX, all at their candidate versions in VIEW.
closure() {
	local view=$1 re=$2 todo=("$3") seen=' ' p v d
	while [[ ${#todo[@]} -gt 0 ]]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		[[ $seen == *" $p "* ]] && continue
		seen+="$p "
		v=$(cand "$view" "$p")
		[[ -n $v ]] || die "$p: no candidate in view $view"
		echo "$p=$v"
		for d in $(deps_of "$view" "$p" "$v"); do
			if [[ $d =~ $re ]]; then
				todo+=("$d")
			fi
		done
	done | sort
}

# The versioned headers package a linux-headers-amd64 metapackage selects.
headers_pkg() {
	local v
	v=$(cand "$1" linux-headers-amd64)
	[[ -n $v ]] || die "no linux-headers-amd64 in view $1"
	deps_of "$1" linux-headers-amd64 "$v" | grep -E '^linux-headers-.*-amd64$' | sed -n 1p | grep . ||
		die "linux-headers-amd64=$v in view $1 names no headers package"
}

# Download PKG=VER... from VIEW and unpack them all into ROOT.
unpack_into() {
	local view=$1 root=$2 debs
	shift 2
	debs=$MATRIX_CACHE/apt/$view/debs
	rm -f "$debs"/*.deb
	# As root into a directory _apt cannot write, apt warns "Download is
	# performed unsandboxed"; harmless.  Failures are caught below.
	(cd "$debs" && { v_apt "$view" apt-get download -q "$@" 2>&1 || true; } |
		grep -v 'unsandboxed' >&2) || true
	local p n
	for p in "$@"; do
		n=${p%%=*}
		compgen -G "$debs/${n}_*.deb" >/dev/null || die "download of $p failed"
	done
	mkdir -p "$root"
	for p in "$debs"/*.deb; do
		dpkg-deb -x "$p" "$root"
	done
	rm -f "$debs"/*.deb
}

# ---- checker-valid.sh (Debian's linux-kbuild-7.x lacks it) ---------------

# The kernel's top Makefile (the -common one in Debian's layout), as a host
# path, given the headers dir and an optional prefix (chroot) to add.
common_makefile() {
	local kdir=$1 prefix=$2 inc
	inc=$(sed -n 's/^include \(\/.*\/Makefile\)$/\1/p' "$prefix$kdir/Makefile" | sed -n 1p)
	if [[ -n $inc ]]; then
		# Unpacked trees already carry the prefix in their include line.
		[[ $inc == "$prefix"/* ]] || inc=$prefix$inc
		echo "$inc"
	else
		echo "$prefix$kdir/Makefile"
	fi
}

# A Makefile that runs scripts/checker-valid.sh without shipping it makes
# C=2 skip sparse silently; install the newest upstream copy there.
fix_checker_valid() {
	local mk src
	mk=$(common_makefile "$1" "${2:-}")
	src=$(dirname "$mk")
	grep -q 'checker-valid.sh' "$mk" || return 0
	[[ -e $src/scripts/checker-valid.sh ]] && return 0
	[[ -r $MATRIX_CACHE/checkpatch/checker-valid.sh ]] ||
		die "$mk needs scripts/checker-valid.sh and the newest linux-source has none"
	install -m 0755 "$MATRIX_CACHE/checkpatch/checker-valid.sh" \
		"$(readlink -f "$src/scripts")/checker-valid.sh"
	log "installed scripts/checker-valid.sh into $(readlink -f "$src/scripts")"
}

# ---- one unpacked kernel -------------------------------------------------

# fetch_unpacked NAME VIEW: headers (+ compiler when the host lacks it).
fetch_unpacked() {
	local name=$1 view=$2 dir=$MATRIX_CACHE/k/$1 hpkg abi pkgs key cc ccpkg
	local cc_major gcc_pkgs=() kdir path=''
	hpkg=$(headers_pkg "$view")
	abi=${hpkg#linux-headers-}
	mapfile -t pkgs < <(closure "$view" '^linux-(headers|kbuild)-' "$hpkg")

	key=$(printf '%s\n' "${pkgs[@]}")
	if [[ ! -f $dir/.key ]] || [[ $(cat "$dir/.key") != "$key" ]] ||
		[[ ! -f $dir/root/usr/src/linux-headers-$abi/Makefile ]]; then
		log "$name: unpacking ${pkgs[*]}"
		rm -rf "$dir"
		unpack_into "$view" "$dir/root" "${pkgs[@]}"
		kdir=$dir/root/usr/src/linux-headers-$abi
		# The arch Makefile includes the -common one by absolute path.
		sed -i "s#^include /usr/src/#include $dir/root/usr/src/#" "$kdir/Makefile"
		printf '%s\n' "${pkgs[@]}" >"$dir/.key"
	fi
	kdir=$dir/root/usr/src/linux-headers-$abi
	# The compiler the headers ask for; unpack it from the same suite when
	# the host does not have it (5.10: gcc-10).
	cc=$(kernelvariables_cc "$kdir")
	if ! command -v "$cc" >/dev/null; then
		cc_major=${cc##*gcc-}
		[[ $cc_major =~ ^[0-9]+$ ]] || die "$name: headers want '$cc', which I cannot fetch"
		for ccpkg in gcc-$cc_major cpp-$cc_major gcc-$cc_major-base libgcc-$cc_major-dev; do
			gcc_pkgs+=("$ccpkg=$(cand "$view" "$ccpkg")")
		done
		key=$(printf '%s\n' "${gcc_pkgs[@]}")
		if [[ ! -f $dir/gcc/.key ]] || [[ $(cat "$dir/gcc/.key") != "$key" ]]; then
			log "$name: unpacking ${gcc_pkgs[*]}"
			rm -rf "$dir/gcc"
			unpack_into "$view" "$dir/gcc" "${gcc_pkgs[@]}"
			echo "$key" >"$dir/gcc/.key"
		fi
		path=$dir/gcc/usr/bin
		PATH=$path:$PATH command -v "$cc" >/dev/null || die "$name: no $cc in $path"
	fi
	fix_checker_valid "$kdir" ''
	write_env "$name" "$abi" "$(sed -n "s/^$hpkg=//p" "$dir/.key")" "$kdir" '' "$path" "$cc"
}

write_env() {
	mkdir -p "$MATRIX_CACHE/env"
	{
		printf 'K_NAME=%q\n' "$1"
		printf 'K_RELEASE=%q\n' "$2"
		printf 'K_PKGVER=%q\n' "$3"
		printf 'K_KDIR=%q\n' "$4"
		printf 'K_CHROOT=%q\n' "$5"
		printf 'K_PATH=%q\n' "$6"
		printf 'K_CC=%q\n' "$7"
	} >"$MATRIX_CACHE/env/$1.env.new"
	mv "$MATRIX_CACHE/env/$1.env.new" "$MATRIX_CACHE/env/$1.env"
	log "$1: $2 ($3), CC=$7"
}

# ---- the sid chroot (newest kernel) --------------------------------------

chroot_sh() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private --fork -- \
		bash -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /bin/sh -ec "$2"' \
		_ "$SID_CHROOT" "export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive; $1"
}

fetch_newest() {
	local hpkg hver sver abi key kdir cc
	hpkg=$(headers_pkg sid)
	hver=$(cand sid "$hpkg")
	sver=$(cand sid sparse)
	abi=${hpkg#linux-headers-}
	key="$hpkg=$hver sparse=$sver"

	if [[ ! -f $SID_CHROOT/.debootstrapped ]]; then
		log "newest: debootstrap sid (a few minutes)"
		rm -rf "$SID_CHROOT"
		mkdir -p "$(dirname "$SID_CHROOT")"
		debootstrap --variant=buildd --include=ca-certificates sid "$SID_CHROOT" "$MIRROR" \
			>"$MATRIX_CACHE/debootstrap.log" 2>&1 ||
			{ tail -n 30 "$MATRIX_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
		# The chroot lacks the host's setting; sid's Release is often past
		# its Valid-Until on a mirror snapshot.
		echo 'Acquire::Check-Valid-Until "false";' \
			>"$SID_CHROOT/etc/apt/apt.conf.d/99matrix-valid-until"
		echo 'Acquire::Languages "none";' >"$SID_CHROOT/etc/apt/apt.conf.d/99matrix-languages"
		touch "$SID_CHROOT/.debootstrapped"
		rm -f "$SID_CHROOT/.key"
	fi
	if [[ ! -f $SID_CHROOT/.key ]] || [[ $(cat "$SID_CHROOT/.key") != "$key" ]] ||
		[[ ! -f $SID_CHROOT/usr/src/linux-headers-$abi/Makefile ]]; then
		log "newest: installing $hpkg=$hver and sparse=$sver in the sid chroot"
		cp /etc/resolv.conf "$SID_CHROOT/etc/resolv.conf" 2>/dev/null || true
		if chroot_sh "apt-get update -q
			apt-get install -y -q --no-install-recommends $hpkg sparse
			old=\$(dpkg-query -W -f='\${Package}\n' 'linux-headers-*' | grep -vxF -e $hpkg -e ${hpkg%-amd64}-common || true)
			[ -z \"\$old\" ] || apt-get purge -y -q \$old
			apt-get autoremove --purge -y -q
			apt-get clean" >"$MATRIX_CACHE/chroot-apt.log" 2>&1; then
			echo "$key" >"$SID_CHROOT/.key"
		else
			tail -n 30 "$MATRIX_CACHE/chroot-apt.log" >&2
			# sid is sometimes uninstallable for a day (transitions): keep
			# the newest kernel installed before, if any, and say so.
			hpkg=$(sed -n 's/^\(linux-headers-[^=]*\)=.*/\1/p' "$SID_CHROOT/.key" 2>/dev/null) || true
			[[ -n $hpkg && -f $SID_CHROOT/usr/src/$hpkg/Makefile ]] ||
				die "apt-get in the sid chroot failed, see $MATRIX_CACHE/chroot-apt.log"
			log "WARNING: apt-get in the sid chroot failed; keeping $hpkg"
			abi=${hpkg#linux-headers-}
		fi
	fi
	# What is installed, which a mirror update between the two apt runs
	# could make differ from the private view's candidate.
	hver=$(chroot_sh "dpkg-query -W -f='\${Version}' $hpkg")
	kdir=/usr/src/linux-headers-$abi
	[[ -d $SID_CHROOT$kdir ]] || die "newest: no $kdir in the chroot"
	cc=$(kernelvariables_cc "$SID_CHROOT$kdir")
	fix_checker_valid "$kdir" "$SID_CHROOT"
	# The newest kernel's include/, for check.sh's CamelCase allowance.
	ln -sfn "$(dirname "$(common_makefile "$kdir" "$SID_CHROOT")")/include" \
		"$MATRIX_CACHE/checkpatch/kernel-include"
	mkdir -p "$SID_CHROOT/build"
	write_env newest "$abi" "$hver" "$kdir" "$SID_CHROOT" '' "$cc"
}

# ---- checkpatch from the newest linux-source -----------------------------

fetch_checkpatch() {
	local d=$MATRIX_CACHE/checkpatch sver spkg vver key f members=()
	sver=$(cand sid linux-source)
	[[ -n $sver ]] || die "no linux-source in sid"
	spkg=$(deps_of sid linux-source "$sver" | grep -E '^linux-source-[0-9]' | sed -n 1p | grep .) ||
		die "linux-source=$sver names no linux-source-X"
	vver=$(cand sid "$spkg")
	key="$spkg=$vver"
	[[ -f $d/.key && $(cat "$d/.key") == "$key" ]] && return 0
	log "checkpatch: extracting from $key (large download)"
	rm -rf "$d" "$d.tmp"
	mkdir -p "$d.tmp/deb"
	unpack_into sid "$d.tmp/deb" "$key"
	for f in checkpatch.pl spelling.txt const_structs.checkpatch checker-valid.sh; do
		members+=("$spkg/scripts/$f")
	done
	# checker-valid.sh is absent from kernels before 6.15; tolerate that.
	xz -dc -T2 "$d.tmp/deb/usr/src/$spkg.tar.xz" |
		tar -x -C "$d.tmp" --strip-components=2 --ignore-failed-read "${members[@]}" 2>/dev/null || true
	for f in checkpatch.pl spelling.txt const_structs.checkpatch; do
		[[ -s $d.tmp/$f ]] || die "checkpatch: $f missing from $spkg"
	done
	rm -rf "$d.tmp/deb"
	echo "$key" >"$d.tmp/.key"
	mv "$d.tmp" "$d"
}

# ---- main ------------------------------------------------------------------

"$HERE/deps.sh"
mkdir -p "$MATRIX_CACHE"
exec 9>"$MATRIX_CACHE/.lock"
flock -x 9

view_init bullseye bullseye bullseye-security
view_init bookworm bookworm bookworm-updates bookworm-security
view_init bpo bookworm-backports
view_init sid sid
for v in bullseye bookworm bpo sid; do
	view_update "$v"
done

fetch_checkpatch
fetch_unpacked 5.10 bullseye
fetch_unpacked 6.1 bookworm
fetch_unpacked 6.12 bpo
fetch_newest
log "done: $(cat "$MATRIX_CACHE/checkpatch/.key") for checkpatch; env in $MATRIX_CACHE/env"
