#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# modinfo-check.sh FRONTEND.ko BACKEND.ko
#
# Each module carries MODULE_VERSION (DKMS skips an unversioned module that
# shadows an in-tree one), the GPL licence, the stock drivers' xenbus
# aliases, and exactly the parameters README.md documents for it, each with
# a description.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
readme=$top/README.md
errors=0

fail() {
	echo "modinfo-check: $*"
	errors=$((errors + 1))
}

# Parameter names in the README table under the heading naming $1.
readme_params() {
	awk -v mod="$1" '
		/^#/ { insec = index($0, "`" mod "`") > 0; next }
		insec && /^\| `[a-z_]+` \|/ { split($0, f, "`"); print f[2] }
	' "$readme" | sort
}

check() {
	local ko=$1 name=$2 aliases=$3 a

	[ -f "$ko" ] || { fail "$ko: not built"; return; }
	[ -n "$(modinfo -F version "$ko")" ] || fail "$name: no MODULE_VERSION"
	[ "$(modinfo -F license "$ko")" = GPL ] || fail "$name: licence is not GPL"
	for a in $aliases; do
		modinfo -F alias "$ko" | grep -qx "$a" || fail "$name: alias $a missing"
	done
	modinfo -F parm "$ko" | while IFS= read -r p; do
		# "name:description (type)": a bare "name: (type)" has none
		case $p in
		*:\ \(*\)) echo "modinfo-check: $name: parameter ${p%%:*} has no description" ;;
		esac
	done | grep . && errors=$((errors + 1))
	local have want
	have=$(modinfo -F parm "$ko" | sed 's/:.*//' | sort)
	want=$(readme_params "$name")
	[ -n "$want" ] || fail "$name: README.md documents no parameters for it"
	if [ "$have" != "$want" ]; then
		fail "$name: parameters differ from README.md (< module, > README):"
		diff <(echo "$have") <(echo "$want") | grep '^[<>]' || true
	fi
	echo "modinfo-check: $name $(modinfo -F version "$ko"): $(echo "$have" | wc -l) parameters, aliases: $(modinfo -F alias "$ko" | tr '\n' ' ')"
}

check "$1" xen-blkfront-pgnt "xen:vbd"
check "$2" xen-blkback-pgnt "xen-backend:vbd"
[ "$errors" -eq 0 ] || { echo "modinfo-check: $errors problem(s)"; exit 1; }
echo "modinfo-check: ok"
