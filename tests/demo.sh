#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The main job, end to end, on a fresh Debian 12 machine (as root): install
# what is needed, build the modules, boot Xen under QEMU, serve a disk from
# dom0 to a PV guest, run fio with verification and print a short report
# ending in a PASS/FAIL line.  See README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/deps.sh"
"$top/tests/xen/deps.sh"
exec "$top/tests/xen/demo.sh" "$@"
