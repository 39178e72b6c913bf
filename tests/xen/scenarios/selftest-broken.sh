# shellcheck shell=bash
# MUST FAIL: data corrupted in dom0 between a guest's fio write and its verify_only pass
# group: self
# shellcheck disable=SC2034 # BACKEND, FRONTEND, PERSISTENT label the results (read by lib.sh)
# The rig's own test: proves a data-integrity failure makes the run exit non-zero.
BACKEND=stock FRONTEND=stock PERSISTENT=1
be_load stock 1
disk_brd
g=broken
guest_start "$g" "$DISK:xvdb"
gx_must "$g" "fe_load stock 1 && wait_disk xvdb"
fio_ok "$g" xvdb broken-write --rw=write --bs=64k --size=8m --verify=crc32c --do_verify=0
# Overwrite 1 MiB in the middle of the written region behind the guest's back.
check "dom0: corrupt $DISK" dd if=/dev/urandom of="$DISK" bs=1M seek=3 count=1 oflag=direct
fio_ok "$g" xvdb broken-verify --rw=write --bs=64k --size=8m --verify=crc32c --verify_only=1 --verify_fatal=1
guest_stop "$g"
be_unload
