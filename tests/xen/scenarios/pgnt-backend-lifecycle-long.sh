# shellcheck shell=bash
# pgnt-backend-lifecycle with the counts: 200 attach/detach cycles with I/O (ATTACH_MAX_S caps their time, 1800 s), 20 guest destroys during fio (DESTROY_MAX_S, 2400 s); long (hours under TCG), not for CI
# group: soak
#
# The counts; LONG_* from the caller's environment override them.
ATTACH_CYCLES=${LONG_ATTACH_CYCLES:-200}
DESTROY_CYCLES=${LONG_DESTROY_CYCLES:-20}
ATTACH_MAX_S=${LONG_ATTACH_MAX_S:-1800}
DESTROY_MAX_S=${LONG_DESTROY_MAX_S:-2400}
PROGRESS_EVERY=10
# shellcheck source=pgnt-backend-lifecycle.sh
. "$PAYLOAD/xen/scenarios/pgnt-backend-lifecycle.sh"
