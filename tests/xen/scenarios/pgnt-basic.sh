# shellcheck shell=bash
# xen-blkback-pgnt <-> xen-blkfront-pgnt, persistent grants on and off (io_suite); needs working drivers
# group: long
io_suite pgnt pgnt
