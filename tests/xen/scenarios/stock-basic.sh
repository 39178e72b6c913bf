# shellcheck shell=bash
# stock xen-blkback <-> stock xen-blkfront, persistent grants on and off (io_suite: fio, verify, xenstore, grant ops per I/O)
# group: long
io_suite stock stock
