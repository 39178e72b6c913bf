# shellcheck shell=bash
# Scenario library, sourced in dom0 by main.sh and by every scenario.
#
# A scenario (scenarios/NAME.sh) is plain bash run by main.sh in its own
# process with this file sourced. Conventions:
#   - prerequisites use the must_* helpers / sc_abort: failure ends the scenario;
#   - measurements use check / expect_cmp: failure is recorded, the scenario goes on;
#   - the scenario fails when any check failed, it aborted, or it exited non-zero.
# Everything a scenario writes goes to $SC_DIR (= results/<scenario>/).

PAYLOAD=${PAYLOAD:-/payload}
RESULTS=$PAYLOAD/results
TRACEFS=/sys/kernel/tracing
KVER=$(uname -r)
DOM0_KO=$PAYLOAD/ko/$KVER
GUEST_KERNEL=${GUEST_KERNEL:-6.1}
FIO_RUNTIME=${FIO_RUNTIME:-10}
GUEST_BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-240}
GX_TIMEOUT=${GX_TIMEOUT:-300}
# Kernel messages that fail a scenario (dom0 and guests).
DMESG_BAD='WARNING:|BUG:|Oops|general protection|Call Trace|kernel BUG|leak|refcount_t:|list_(add|del) corruption|blkback.*(error|fail)|blkfront.*(error|fail)'

# ---- logging and assertions ------------------------------------------------

# Every exec costs 0.1-0.4 s in a TCG dom0, and the helpers below run
# thousands of times per rig run: they use bash builtins where they can.
uptime_s() {
	local u
	read -r u _ </proc/uptime
	echo "${u%.*}"
}

# xr_log MSG: progress line on the console (-> QEMU serial, tailed by rig.sh)
# and in results/dom0.log.
xr_log() {
	local l u
	read -r u _ </proc/uptime
	l="XRIG: [dom0 ${u%.*}s] ${SCENARIO:+$SCENARIO: }$*"
	echo "$l" >/dev/console
	echo "$l" >>"$RESULTS/dom0.log"
}

# xr_log_table TSV: log a tab-separated table with aligned columns (the dom0
# image has no column(1)).
xr_log_table() {
	local l
	awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
		if (NF > nf) nf = NF }
		END { for (r = 1; r <= NR; r++) { l = ""
			for (i = 1; i <= nf; i++) l = l sprintf("%-" (w[i] + 2) "s", c[r, i]); sub(/ +$/, "", l); print l } }' "$1" |
		while IFS= read -r l; do xr_log "  $l"; done
}

# check DESC CMD...: run CMD, record PASS/FAIL for DESC.
check() {
	local desc=$1
	shift
	if "$@" >>"$SC_DIR/commands.log" 2>&1; then
		_record PASS "$desc"
	else
		_record FAIL "$desc (rc=$?)"
		return 1
	fi
}

# expect_cmp DESC A OP B: numeric comparison (floats ok), OP one of < <= > >= == !=.
expect_cmp() {
	local desc=$1 a=$2 op=$3 b=$4 r
	if [[ $a =~ ^(0|-?[1-9][0-9]*)$ && $b =~ ^(0|-?[1-9][0-9]*)$ && ${#a} -lt 18 && ${#b} -lt 18 ]]; then
		case $op in
		"<") ((a < b)) ;; "<=") ((a <= b)) ;; ">") ((a > b)) ;;
		">=") ((a >= b)) ;; "==") ((a == b)) ;; "!=") ((a != b)) ;; *) false ;;
		esac
		r=$?
	else
		awk -v a="$a" -v b="$b" -v op="$op" 'BEGIN {
		if (a == "" || b == "" || a == "n/a" || b == "n/a") exit 1
		r = (op == "<") ? a < b : (op == "<=") ? a <= b : (op == ">") ? a > b : \
		    (op == ">=") ? a >= b : (op == "==") ? a == b : (op == "!=") ? a != b : 0
		exit !r }'
		r=$?
	fi
	if [ "$r" -eq 0 ]; then
		_record PASS "$desc: $a $op $b"
	else
		_record FAIL "$desc: expected $a $op $b"
		return 1
	fi
}

_record() {
	echo "$1 $2" >>"$SC_DIR/checks.txt"
	xr_log "$1 $2"
}

# sc_abort MSG: a prerequisite failed, the scenario cannot go on.
sc_abort() {
	_record FAIL "ABORT: $*"
	exit 3
}

# must DESC CMD...: check that aborts the scenario on failure.
must() { check "$@" || sc_abort "$1"; }

# ---- scenario lifecycle (called by main.sh) -----------------------------

sc_begin() {
	SCENARIO=$1
	SC_DIR=$RESULTS/$SCENARIO
	mkdir -p "$SC_DIR/steps" "$SC_DIR/fio"
	: >"$SC_DIR/checks.txt"
	# A marker in the kernel log, so sc_end finds this scenario's messages
	# even after the ring buffer wrapped.
	echo "xenrig: scenario $SCENARIO begin" >/dev/kmsg
	export SCENARIO SC_DIR
	xr_log "begin"
}

# sc_end: dmesg check, then the verdict as exit code.
sc_end() {
	dmesg | sed -n "/xenrig: scenario $SCENARIO begin/,\$p" >"$SC_DIR/dom0-dmesg.txt"
	[ -s "$SC_DIR/dom0-dmesg.txt" ] || dmesg >"$SC_DIR/dom0-dmesg.txt"
	dmesg_clean "dom0" "$SC_DIR/dom0-dmesg.txt" || true
	if grep -q '^FAIL' "$SC_DIR/checks.txt"; then return 1; fi
	if ! grep -q '^PASS' "$SC_DIR/checks.txt"; then
		_record FAIL "scenario made no checks"
		return 1
	fi
}

# dmesg_clean WHO FILE: check FILE has no kernel warnings/bugs/leaks.
dmesg_clean() {
	local bad
	bad=$(grep -E "$DMESG_BAD" "$2" | grep -v 'module verification failed' | head -n 5 || true)
	if [ -n "$bad" ]; then
		_record FAIL "$1 dmesg clean: $(echo "$bad" | head -n1)"
		return 1
	fi
	_record PASS "$1 dmesg clean"
}

# ---- dom0 block backends and backing disks ------------------------------

mod_loaded() { grep -q "^$1 " /proc/modules; }

# be_load stock|pgnt [feature_persistent]: make exactly this backend loaded,
# with the persistent-grant parameter set. When it is loaded already, only the
# parameter is written (it applies from the next connect, guests may run);
# otherwise the other backend is unloaded first (no guest may use it then).
be_load() {
	local kind=$1 p=${2:-}
	local mod=xen_blkback other=xen_blkback_pgnt
	[ "$kind" = pgnt ] && mod=xen_blkback_pgnt other=xen_blkback
	if mod_loaded "$other"; then rmmod "$other" || sc_abort "rmmod $other"; fi
	if mod_loaded "$mod" && [ -n "$p" ] && [ -w "/sys/module/$mod/parameters/feature_persistent" ]; then
		echo "$p" >"/sys/module/$mod/parameters/feature_persistent"
	else
		if mod_loaded "$mod"; then rmmod "$mod" || sc_abort "rmmod $mod"; fi
		case $kind in
		stock) must "dom0: modprobe xen_blkback ${p:+feature_persistent=$p}" \
			modprobe xen_blkback ${p:+"feature_persistent=$p"} ;;
		pgnt) must "dom0: insmod xen-blkback-pgnt.ko ${p:+feature_persistent=$p}" \
			insmod "$DOM0_KO/xen-blkback-pgnt.ko" ${p:+"feature_persistent=$p"} ;;
		*) sc_abort "be_load: unknown backend $kind" ;;
		esac
	fi
	xr_log "backend $kind loaded (feature_persistent=$(cat "/sys/module/$mod/parameters/feature_persistent" 2>/dev/null || echo n/a))"
}

# be_unload: no block backend loaded afterwards.
be_unload() {
	local m
	for m in xen_blkback xen_blkback_pgnt; do
		if mod_loaded "$m"; then check "dom0: rmmod $m" rmmod "$m"; fi
	done
}

# disk_brd: set DISK to the next unused of eight 256 MiB RAM disks (no
# discard, no flush). brd keeps its data for the whole boot, so a disk may hold
# an earlier scenario's data: write before you read.
BRD_NEXT=0
disk_brd() {
	if ! mod_loaded brd; then
		modprobe brd rd_nr=8 rd_size=262144 || sc_abort "modprobe brd"
	fi
	[ "$BRD_NEXT" -lt 8 ] || sc_abort "out of brd disks"
	DISK=/dev/ram$BRD_NEXT
	BRD_NEXT=$((BRD_NEXT + 1))
}

# disk_loop [SIZE_MB]: a loop device on a sparse file in a dom0 tmpfs
# (supports discard and flush, unlike brd). Sets DISK.
disk_loop() {
	local mb=${1:-256} f
	mkdir -p /run/xr-disks
	mountpoint -q /run/xr-disks || mount -t tmpfs -o size=1200m xrdisks /run/xr-disks
	f=$(mktemp /run/xr-disks/disk.XXXX)
	truncate -s "${mb}M" "$f"
	DISK=$(losetup -f --show "$f") || sc_abort "losetup $f"
}

# ---- guests --------------------------------------------------------------

# vdev_id xvdX: xenstore device id of a PV disk name (xvdb -> 51728).
vdev_id() {
	local l
	l=$(printf %d "'${1#xvd}")
	echo $(((202 << 8) | ((l - 97) << 4)))
}

guest_domid() { xl domid "$1" 2>/dev/null; }

# guest_start NAME [TARGET:VDEV ...]: boot a slim PV guest (root in its
# initramfs, agent as /init) with the given phy: disks, wait for its agent.
# Env: GUEST_MEM (MiB, 512), GUEST_VCPUS (1), GUEST_KERNEL (6.1).
# GUEST_ROOT=DEV (see rootfs_make): an xvda-root guest instead; DEV is its
# xvda, its initramfs loads GUEST_ROOT_FE (stock|pgnt) and switch_roots into it.
guest_start() {
	local name=$1 g=$PAYLOAD/guest/$GUEST_KERNEL st cfg disks="" d t0 domid
	local init=agent.sh extra="console=hvc0 loglevel=4"
	shift
	[ -f "$g/vmlinuz" ] || sc_abort "no guest kernel $GUEST_KERNEL in the payload"
	if [ -n "${GUEST_ROOT:-}" ]; then
		init=xvda-init.sh extra="$extra xr_fe=${GUEST_ROOT_FE:-stock} xr_root=xvda"
		disks="'$(disk_spec "$GUEST_ROOT" xvda)', "
	fi
	for d in "$@"; do disks="$disks'$(disk_spec "${d%%:*}" "${d##*:}")', "; done
	# On dom0's disk, not in /run: that tmpfs is a tenth of dom0's memory
	# and a few guests' initrds filled it in one boot.
	st=/var/tmp/xr-guests/$name
	rm -rf "$st"
	mkdir -p "$st/root/xr/ko"
	install -m 0755 "$PAYLOAD/xen/guest/$init" "$st/root/init"
	cp "$PAYLOAD"/ko/"$(cat "$g/kver")"/*.ko "$st/root/xr/ko/" 2>/dev/null || true
	# The per-run part (agent + our modules) is a second cpio appended to the
	# cached image's; the kernel unpacks both, later files win.
	cp "$g/initramfs.cpio.gz" "$st/initrd"
	(cd "$st/root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >>"$st/initrd"
	cfg=$SC_DIR/$name.cfg
	cat >"$cfg" <<-EOF
		name = "$name"
		type = "pv"
		kernel = "$g/vmlinuz"
		ramdisk = "$st/initrd"
		extra = "$extra"
		memory = ${GUEST_MEM:-512}
		vcpus = ${GUEST_VCPUS:-1}
		disk = [ ${disks%, } ]
		on_poweroff = "destroy"
		on_crash = "preserve"
	EOF
	xr_log "xl create $name (disks: $*)"
	t0=$(uptime_s)
	must "dom0: xl create $name" xl create "$cfg"
	domid=$(guest_domid "$name") || sc_abort "guest $name has no domid"
	while [ "$(xenstore-read "/local/domain/$domid/data/xr/state" 2>/dev/null)" != ready ]; do
		if [ $(($(uptime_s) - t0)) -gt "$GUEST_BOOT_TIMEOUT" ] || ! guest_domid "$name" >/dev/null; then
			guest_collect "$name"
			sc_abort "guest $name agent not ready after $(($(uptime_s) - t0))s"
		fi
		timeout 5 xenstore-watch -n 2 "/local/domain/$domid/data/xr/state" >/dev/null 2>&1
	done
	xr_log "guest $name (domid $domid) agent ready after $(($(uptime_s) - t0))s"
	_record PASS "guest $name boots to its agent"
}

# guest_reboot NAME: xl reboot (the domain restarts with a new domid), wait
# for the agent (which syncs and reboots when the kernel signals it).
guest_reboot() {
	local name=$1 old domid t0
	old=$(guest_domid "$name") || sc_abort "guest_reboot: no guest $name"
	xr_log "xl reboot $name (domid $old)"
	must "dom0: xl reboot $name" xl reboot "$name"
	t0=$(uptime_s)
	while :; do
		domid=$(guest_domid "$name" || true)
		if [ -n "$domid" ] && [ "$domid" != "$old" ] &&
			[ "$(xenstore-read "/local/domain/$domid/data/xr/state" 2>/dev/null)" = ready ]; then
			break
		fi
		if [ $(($(uptime_s) - t0)) -gt "$GUEST_BOOT_TIMEOUT" ]; then
			guest_collect "$name"
			sc_abort "guest $name agent not ready $(($(uptime_s) - t0))s after xl reboot"
		fi
		sleep 2
	done
	xr_log "guest $name rebooted (domid $old -> $domid), agent ready after $(($(uptime_s) - t0))s"
	_record PASS "guest $name reboots to its agent"
}

# rootfs_make FILE [SIZE_MB]: an ext4 root filesystem for xvda-root guests of
# GUEST_KERNEL in FILE: the slim guest's userland and modules, the agent as
# /init, our .ko files in /xr/ko. Sets DISK to a loop device on it.
rootfs_make() {
	local f=$1 mb=${2:-256} g=$PAYLOAD/guest/$GUEST_KERNEL t
	t=$(mktemp -d /var/tmp/xr-rootfs.XXXX)
	(cd "$t" && gunzip -c "$PAYLOAD/guest/guest-userland.cpio.gz" | cpio -idm --quiet &&
		gunzip -c "$g/modules.cpio.gz" | cpio -idm --quiet) || sc_abort "rootfs_make: unpacking the guest"
	install -m 0755 "$PAYLOAD/xen/guest/agent.sh" "$t/init"
	mkdir -p "$t/xr/ko"
	cp "$PAYLOAD"/ko/"$(cat "$g/kver")"/*.ko "$t/xr/ko/" 2>/dev/null || true
	rm -f "$f"
	truncate -s "${mb}M" "$f"
	# orphan_file is newer than 5.10's ext4.
	must "dom0: mkfs.ext4 root filesystem $f" mkfs.ext4 -q -F -L xrroot -O ^orphan_file -d "$t" "$f"
	rm -rf "$t"
	DISK=$(losetup -f --show "$f") || sc_abort "losetup $f"
}

# gx NAME LINE [TIMEOUT]: run LINE in the guest's agent, its output in the
# file $GX_OUT (also kept in $SC_DIR/steps/). Returns LINE's exit code,
# 124 on timeout.
GX_SEQ=0
gx() {
	local name=$1 line=$2 tmo=${3:-$GX_TIMEOUT} domid x seq rc t0 n i paths=()
	domid=$(guest_domid "$name") || { echo "gx: no guest $name"; return 125; }
	# xenstore carries one line: a newline would reach the agent as 'n'.
	case $line in *$'\n'*) echo "gx: one line only: $line"; return 125 ;; esac
	x=/local/domain/$domid/data/xr
	GX_SEQ=$((GX_SEQ + 1))
	seq=$GX_SEQ
	printf -v GX_OUT '%s/steps/%03d-%s.out' "$SC_DIR" "$seq" "$name"
	echo "\$ $line" >"$GX_OUT.cmd"
	xenstore-write "$x/cmd" "$seq $line"
	t0=$SECONDS
	while :; do
		rc=$(xenstore-read "$x/rc" 2>/dev/null || true)
		[ "${rc%% *}" = "$seq" ] && break
		if ((SECONDS - t0 > tmo)); then
			xr_log "gx $name: timeout after ${tmo}s: $line"
			echo "TIMEOUT" >"$GX_OUT"
			return 124
		fi
		# Wake on the agent's rc write instead of polling: the watch fires
		# once at registration and once per change, and the timeout covers
		# a write between the read above and the registration.
		timeout 5 xenstore-watch -n 2 "$x/rc" >/dev/null 2>&1
	done
	n=$(xenstore-read "$x/out/$seq/n")
	for ((i = 0; i < n; i++)); do paths+=("$x/out/$seq/$i"); done
	if [ "$n" -gt 0 ]; then
		xenstore-read "${paths[@]}" | tr -d '\n' | base64 -d | gunzip >"$GX_OUT"
	else
		: >"$GX_OUT"
	fi
	xenstore-rm "$x/out/$seq"
	return "${rc#* }"
}

# gx_ok NAME LINE: gx recorded as a check.
gx_ok() { check "guest $1: $2" gx "$@"; }
# gx_must NAME LINE: gx that aborts the scenario on failure.
gx_must() { gx_ok "$@" || sc_abort "guest $1: $2"; }

# guest_collect NAME: dmesg (if the agent answers), xenstore, console log.
guest_collect() {
	local name=$1 domid
	domid=$(guest_domid "$name") || true
	if [ -n "$domid" ]; then
		xenstore-ls -fp "/local/domain/$domid" >"$SC_DIR/xenstore-$name-frontend.txt" 2>&1 || true
		xenstore-ls -fp "/local/domain/0/backend/vbd/$domid" >"$SC_DIR/xenstore-$name-backend.txt" 2>&1 || true
		if gx "$name" dmesg 30; then
			cp "$GX_OUT" "$SC_DIR/guest-$name-dmesg.txt"
			dmesg_clean "guest $name" "$SC_DIR/guest-$name-dmesg.txt" || true
		fi
	fi
	cp "/var/log/xen/console/guest-$name.log" "$SC_DIR/guest-$name-console.log" 2>/dev/null || true
}

# guest_stop NAME: collect logs, destroy the guest.
guest_stop() {
	guest_collect "$1"
	check "dom0: xl destroy $1" xl destroy "$1"
	cp "/var/log/xen/console/guest-$1.log" "$SC_DIR/guest-$1-console.log" 2>/dev/null || true
}

# disk_spec TARGET VDEV: xl's spec of a writable phy disk. DISK_SCRIPT=fast:
# hotplug with dom0/block-fast instead of Xen's block script (whose sharing
# check forks a stat per dom0 mount and hit libxl's hotplug timeout on a
# loaded machine).
disk_spec() {
	if [ "${DISK_SCRIPT:-}" = fast ]; then
		echo "format=raw,vdev=$2,access=w,script=$PAYLOAD/xen/dom0/block-fast,target=$1"
	else
		echo "phy:$1,$2,w"
	fi
}

# disk_attach NAME TARGET:VDEV: hot-plug a phy: disk into a running guest.
disk_attach() {
	check "dom0: xl block-attach $1 ${2##*:}" xl block-attach "$1" "$(disk_spec "${2%%:*}" "${2##*:}")"
}

# disk_detach NAME VDEV: hot-unplug a disk (the frontend closes it first).
disk_detach() {
	check "dom0: xl block-detach $1 $2" xl block-detach "$1" "$2"
}

# fe_swap NAME stock|pgnt [PERSISTENT]: replace the guest's block frontend at
# run time. dom0 detaches every disk of the guest, the guest unloads its
# frontend and loads the new one, dom0 attaches the disks again (fresh xenbus
# devices: a frontend unbound in place stays Closed and does not reconnect).
fe_swap() {
	local name=$1 kind=$2 p=${3:-} domid be id d disks=()
	domid=$(guest_domid "$name") || sc_abort "fe_swap: no guest $name"
	be=/local/domain/0/backend/vbd/$domid
	for id in $(xenstore-list "$be" 2>/dev/null); do
		disks+=("$(xenstore-read "$be/$id/params"):$(xenstore-read "$be/$id/dev")")
	done
	xr_log "frontend swap on $name to $kind ${p:+(feature_persistent=$p)}, disks: ${disks[*]}"
	for d in "${disks[@]}"; do disk_detach "$name" "${d##*:}" || return 1; done
	gx_ok "$name" "fe_unload" || return 1
	gx_ok "$name" "fe_load $kind $p" || return 1
	FRONTEND=$kind
	for d in "${disks[@]}"; do
		disk_attach "$name" "$d" || return 1
		gx_ok "$name" "wait_disk ${d##*:}" || return 1
	done
}

# ---- negotiated features ----------------------------------------------------

# expect_connected PERSISTENT | expect_connected BE FE: after xs_features,
# both ends are Connected and wrote feature-persistent as PERSISTENT (or the
# backend BE and the frontend FE, when one end declines what the other offers).
expect_connected() {
	local be=$1 fe=${2:-$1} t

	t=p$be
	[ "$be" = "$fe" ] || t="be p$be/fe p$fe"
	expect_cmp "$t: backend state Connected" "$BE_STATE" == 4
	expect_cmp "$t: frontend state Connected" "$FE_STATE" == 4
	expect_cmp "$t: backend feature-persistent" "$BE_PERSISTENT" == "$be"
	expect_cmp "$t: frontend feature-persistent" "$FE_PERSISTENT" == "$fe"
}

# xs_features NAME VDEV: record both ends' negotiated features in
# results/features.tsv; sets FE_PERSISTENT, BE_PERSISTENT and friends.
xs_features() {
	local name=$1 vdev=$2 domid id be fe
	domid=$(guest_domid "$name")
	id=$(vdev_id "$vdev")
	be=/local/domain/0/backend/vbd/$domid/$id
	fe=/local/domain/$domid/device/vbd/$id
	_xr() { xenstore-read "$1" 2>/dev/null || echo n/a; }
	BE_PERSISTENT=$(_xr "$be/feature-persistent")
	FE_PERSISTENT=$(_xr "$fe/feature-persistent")
	BE_MAX_RING_ORDER=$(_xr "$be/max-ring-page-order")
	FE_RING_ORDER=$(_xr "$fe/ring-page-order")
	BE_MAX_QUEUES=$(_xr "$be/multi-queue-max-queues")
	FE_QUEUES=$(_xr "$fe/multi-queue-num-queues")
	BE_INDIRECT=$(_xr "$be/feature-max-indirect-segments")
	BE_FLUSH=$(_xr "$be/feature-flush-cache")
	BE_DISCARD=$(_xr "$be/feature-discard")
	BE_STATE=$(_xr "$be/state")
	FE_STATE=$(_xr "$fe/state")
	[ -s "$RESULTS/features.tsv" ] || printf 'scenario\tguest\tvdev\tbe_state\tfe_state\tbe_persistent\tfe_persistent\tbe_max_ring_page_order\tfe_ring_page_order\tbe_max_queues\tfe_num_queues\tbe_max_indirect_segments\tbe_flush\tbe_discard\tbackend\tfrontend\n' >"$RESULTS/features.tsv"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCENARIO" "$name" "$vdev" \
		"$BE_STATE" "$FE_STATE" "$BE_PERSISTENT" "$FE_PERSISTENT" "$BE_MAX_RING_ORDER" "$FE_RING_ORDER" \
		"$BE_MAX_QUEUES" "$FE_QUEUES" "$BE_INDIRECT" "$BE_FLUSH" "$BE_DISCARD" "${BACKEND:-?}" "${FRONTEND:-?}" \
		>>"$RESULTS/features.tsv"
	xr_log "features $name/$vdev: state be=$BE_STATE fe=$FE_STATE persistent be=$BE_PERSISTENT fe=$FE_PERSISTENT ring-order max=$BE_MAX_RING_ORDER fe=$FE_RING_ORDER queues max=$BE_MAX_QUEUES fe=$FE_QUEUES indirect=$BE_INDIRECT flush=$BE_FLUSH discard=$BE_DISCARD"
}

# ---- grant-operation counting (kprobes, outside the drivers) ------------

# gops_init: kprobe events on the grant-table helpers every backend uses.
# The batch size is the 4th argument (%cx) of gnttab_{map,unmap}_refs and the
# 2nd (%si) of gnttab_batch_copy (x86-64 calling convention).
gops_init() {
	mountpoint -q "$TRACEFS" || mount -t tracefs nodev "$TRACEFS"
	echo 0 >"$TRACEFS/tracing_on"
	echo >"$TRACEFS/kprobe_events"
	{
		echo 'p:xr/gmap gnttab_map_refs count=%cx:u32'
		echo 'p:xr/gunmap gnttab_unmap_refs count=%cx:u32'
		echo 'p:xr/gcopy gnttab_batch_copy count=%si:u32'
	} >>"$TRACEFS/kprobe_events"
	echo 32768 >"$TRACEFS/buffer_size_kb"
	echo 1 >"$TRACEFS/events/xr/enable"
	echo 1 >"$TRACEFS/tracing_on"
}

# vbd_stats "DOMID...": "dev rd_req wr_req" per backend device of each DOMID.
vbd_stats() {
	local d id rr wr rs ws
	for id in $1; do
		for d in /sys/bus/xen-backend/devices/vbd-"$id"-*; do
			[ -d "$d/statistics" ] || continue
			read -r rr <"$d/statistics/rd_req"
			read -r wr <"$d/statistics/wr_req"
			read -r rs <"$d/statistics/rd_sect"
			read -r ws <"$d/statistics/wr_sect"
			echo "${d##*/} $rr $wr $rs $ws"
		done
	done
}

# cpu_busy: dom0 CPU time used so far, all vCPUs, in clock ticks (user,
# nice, system, irq, softirq; not idle, iowait or steal).
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# phase_begin NAME LABEL: start counting grant ops and I/Os for a phase.
phase_begin() {
	PH_DOMID=$(guest_domid "$1")
	PH_LABEL=$2
	vbd_stats "$PH_DOMID" >/run/xr/phase.stats0
	echo >"$TRACEFS/trace"
	PH_CPU0=$(cpu_busy)
}

# phase_begin_guests LABEL NAME...: phase_begin for several guests doing I/O
# at once; the phase's I/Os are those of all their backend devices.
phase_begin_guests() {
	local g
	PH_LABEL=$1
	shift
	PH_DOMID=""
	for g in "$@"; do PH_DOMID="$PH_DOMID $(guest_domid "$g")"; done
	vbd_stats "$PH_DOMID" >/run/xr/phase.stats0
	echo >"$TRACEFS/trace"
	PH_CPU0=$(cpu_busy)
}

# phase_end: sets PH_IOS, PH_MAP_OPS, PH_UNMAP_OPS, PH_COPY_OPS,
# PH_MAP_PER_IO, PH_UNMAP_PER_IO; appends to results/grant-ops.tsv.
# Per device: the slim guest has no root disk on blkfront, so the devices with
# I/O in the phase are the only source of grant traffic (listed in "devs").
phase_end() {
	local hdr f cpu
	cpu=$(($(cpu_busy) - PH_CPU0))
	f=$SC_DIR/trace-$PH_LABEL.txt
	cat "$TRACEFS/trace" >"$f"
	vbd_stats "$PH_DOMID" >/run/xr/phase.stats1
	hdr=$(grep -m1 'entries-in-buffer/entries-written' "$f" || true)
	read -r PH_DEVS PH_IOS PH_PAGES < <(awk 'NR == FNR { rd[$1] = $2; wr[$1] = $3; s[$1] = $4 + $5; next }
		{ d = ($2 - rd[$1]) + ($3 - wr[$1]); if (d > 0) { devs = devs (devs ? "," : "") $1; n += d }
		  p += ($4 + $5 - s[$1]) / 8 }
		END { print (devs ? devs : "-"), n + 0, p + 0 }' /run/xr/phase.stats0 /run/xr/phase.stats1)
	read -r PH_MAP_CALLS PH_MAP_OPS PH_UNMAP_CALLS PH_UNMAP_OPS PH_COPY_CALLS PH_COPY_OPS < <(awk '
		/ gmap: / { mc++; split($NF, a, "="); mo += a[2] }
		/ gunmap: / { uc++; split($NF, a, "="); uo += a[2] }
		/ gcopy: / { cc++; split($NF, a, "="); co += a[2] }
		END { print mc + 0, mo + 0, uc + 0, uo + 0, cc + 0, co + 0 }' "$f")
	# Per I/O: map, unmap and copy ops; 4 KiB pages of data (one blkif
	# request carries 1 to 11 direct or up to max-indirect-segments pages,
	# so ops per page compare sizes); dom0 CPU in microseconds (all of dom0:
	# the backend's threads, interrupts and softirqs, and the rig's own
	# polling; USER_HZ is 100 on every Linux ABI).
	read -r PH_MAP_PER_IO PH_UNMAP_PER_IO PH_COPY_PER_IO PH_PAGES_PER_IO PH_CPU_US_PER_IO < <(awk \
		-v m="$PH_MAP_OPS" -v u="$PH_UNMAP_OPS" -v c="$PH_COPY_OPS" -v p="$PH_PAGES" -v t="$cpu" -v n="$PH_IOS" \
		'BEGIN { if (!n) { print "n/a n/a n/a n/a n/a"; exit }
			printf "%.3f %.3f %.3f %.2f %.0f\n", m / n, u / n, c / n, p / n, t * 1e6 / 100 / n }')
	PH_OVERRUN=no
	if [[ $hdr =~ entries-written:\ ([0-9]+)/([0-9]+) ]] && [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
		PH_OVERRUN=yes
	fi
	gzip -f "$f"
	[ -s "$RESULTS/grant-ops.tsv" ] || printf 'scenario\tphase\tbackend\tfrontend\tpersistent\tdevs\tios\tmap_calls\tmap_ops\tunmap_calls\tunmap_ops\tcopy_calls\tcopy_ops\tmap_per_io\tunmap_per_io\tcopy_per_io\ttrace_overrun\tpages_per_io\tdom0_cpu_us_per_io\n' >"$RESULTS/grant-ops.tsv"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCENARIO" "$PH_LABEL" \
		"${BACKEND:-?}" "${FRONTEND:-?}" "${PERSISTENT:-?}" "$PH_DEVS" "$PH_IOS" \
		"$PH_MAP_CALLS" "$PH_MAP_OPS" "$PH_UNMAP_CALLS" "$PH_UNMAP_OPS" "$PH_COPY_CALLS" "$PH_COPY_OPS" \
		"$PH_MAP_PER_IO" "$PH_UNMAP_PER_IO" "$PH_COPY_PER_IO" "$PH_OVERRUN" "$PH_PAGES_PER_IO" \
		"$PH_CPU_US_PER_IO" >>"$RESULTS/grant-ops.tsv"
	xr_log "grant ops $PH_LABEL: ios=$PH_IOS ($PH_DEVS) pages/io=$PH_PAGES_PER_IO map=$PH_MAP_OPS unmap=$PH_UNMAP_OPS copy=$PH_COPY_OPS per-io map=$PH_MAP_PER_IO unmap=$PH_UNMAP_PER_IO copy=$PH_COPY_PER_IO dom0-cpu=${PH_CPU_US_PER_IO}us overrun=$PH_OVERRUN"
}

# slab_growth BEFORE AFTER: the five caches that grew most between two
# copies of /proc/slabinfo (dom0's or a guest's), as "name +N kB".
slab_growth() {
	awk 'FNR <= 2 { next } NR == FNR { b[$1] = $2 * $4; next }
		{ d = ($2 * $4 - b[$1]) / 1024; if (d > 0) printf "%s +%.0f kB\n", $1, d }' \
		"$1" "$2" | sort -t+ -k2 -rn | head -n 5 | tr '\n' ' '
}

# ---- fio -------------------------------------------------------------------

# fio_phase NAME VDEV LABEL FIO-ARGS...: run fio in the guest on /dev/VDEV as a
# counted phase; JSON in $SC_DIR/fio/LABEL.json, one line in
# results/fio-summary.tsv; sets FIO_RC, FIO_ERR, FIO_IOPS. Defaults: libaio,
# direct, iodepth 32, 64 MiB region (later args override).
fio_phase() {
	local name=$1 vdev=$2 label=$3 line
	shift 3
	line="fio --name=$label --filename=/dev/$vdev --ioengine=libaio --direct=1 --iodepth=32 --size=64m $* --output-format=json --output=/tmp/fio.json >/tmp/fio.err 2>&1; rc=\$?; cat /tmp/fio.err >/dev/hvc0; cat /tmp/fio.json; exit \$rc"
	xr_log "fio $label on $name:/dev/$vdev: $*"
	phase_begin "$name" "$label"
	gx "$name" "$line" $((GX_TIMEOUT + FIO_RUNTIME))
	FIO_RC=$?
	phase_end
	cp "$GX_OUT" "$SC_DIR/fio/$label.json"
	read -r FIO_ERR FIO_IOPS FIO_SUMMARY < <(python3 "$PAYLOAD/xen/dom0/fio-summary.py" "$SC_DIR/fio/$label.json" ||
		echo "parse-error 0 unparsable-json")
	[ -s "$RESULTS/fio-summary.tsv" ] || printf 'scenario\tphase\tbackend\tfrontend\tpersistent\trc\terror\tiops\tsummary\tmap_per_io\tunmap_per_io\tcopy_per_io\n' >"$RESULTS/fio-summary.tsv"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCENARIO" "$label" "${BACKEND:-?}" "${FRONTEND:-?}" \
		"${PERSISTENT:-?}" "$FIO_RC" "$FIO_ERR" "$FIO_IOPS" "$FIO_SUMMARY" "$PH_MAP_PER_IO" "$PH_UNMAP_PER_IO" \
		"$PH_COPY_PER_IO" >>"$RESULTS/fio-summary.tsv"
	xr_log "fio $label: rc=$FIO_RC err=$FIO_ERR iops=$FIO_IOPS $FIO_SUMMARY"
	return "$FIO_RC"
}

# fio_ok NAME VDEV LABEL FIO-ARGS...: fio_phase that must succeed without errors.
fio_ok() {
	local label=$3
	fio_phase "$@"
	expect_cmp "fio $label exit code" "$FIO_RC" == 0
	expect_cmp "fio $label job error" "$FIO_ERR" == 0
}

# ---- shared scenario bodies -------------------------------------------------

# io_suite BACKEND FRONTEND: for each mode in $PERSISTENT_MODES ("1 0"): boot a
# guest with a brd disk, check negotiation in xenstore, prefill, fio
# randread/randwrite in each of $IO_BS ("4k 64k") at iodepth 32 for
# $FIO_RUNTIME s each, a crc32c
# verify pass, grant ops per I/O (asserted for 4k: ~0 maps with persistent
# grants, ~1 map and as many unmaps per I/O without them on the stock backend).
io_suite() {
	local rw bs g
	BACKEND=$1 FRONTEND=$2
	for PERSISTENT in ${PERSISTENT_MODES:-1 0}; do
		be_load "$BACKEND" "$PERSISTENT"
		disk_brd
		g=${SCENARIO%%-*}-p$PERSISTENT
		guest_start "$g" "$DISK:xvdb"
		gx_must "$g" "fe_load $FRONTEND $PERSISTENT"
		gx_must "$g" "wait_disk xvdb"
		xs_features "$g" xvdb
		expect_connected "$PERSISTENT"
		# Populate the region (and, with persistent grants, the grant pool).
		fio_ok "$g" xvdb "p$PERSISTENT-prefill" --rw=write --bs=1m --iodepth=8
		for bs in ${IO_BS:-4k 64k}; do
			for rw in randread randwrite; do
				# Steady state means right after use: a backend may unmap
				# grants left idle (stock: 60 s), and on a loaded host the
				# prefill can be minutes old.  Warm up, then measure.
				if [ "$PERSISTENT" = 1 ] && [ "$bs" = 4k ]; then
					fio_ok "$g" xvdb "p1-warmup-$rw-$bs" --rw="$rw" --bs="$bs" --time_based --runtime=2
				fi
				fio_ok "$g" xvdb "p$PERSISTENT-$rw-$bs" --rw="$rw" --bs="$bs" --time_based --runtime="$FIO_RUNTIME"
				[ "$bs" = 4k ] || continue
				if [ "$PERSISTENT" = 1 ]; then
					expect_cmp "p1 $rw 4k: map ops per I/O ~0 after warm-up" "$PH_MAP_PER_IO" "<" 0.05
				elif [ "$BACKEND" = stock ]; then
					expect_cmp "p0 $rw 4k: map ops per I/O >= 0.95" "$PH_MAP_PER_IO" ">=" 0.95
					expect_cmp "p0 $rw 4k: map ops per I/O <= 1.1" "$PH_MAP_PER_IO" "<=" 1.1
					expect_cmp "p0 $rw 4k: unmap ops == map ops" "$PH_UNMAP_OPS" == "$PH_MAP_OPS"
				fi
			done
		done
		fio_ok "$g" xvdb "p$PERSISTENT-verify" --rw=randwrite --bs=4k --size=16m \
			--verify=crc32c --do_verify=1 --verify_fatal=1
		guest_stop "$g"
	done
	be_unload
}
