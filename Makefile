# SPDX-License-Identifier: GPL-2.0-only
#
# xen-blk-pgnt: user entry points.  Kbuild itself reads ./Kbuild.
#
#   make [KVER=<release> | KDIR=<headers dir>]   build both modules
#   make unit        userspace tests of common/
#   make bench       userspace microbenchmarks of common/
#   make check       W=1, sparse, checkpatch for one kernel (CHECK_KERNEL)
#   make matrix      the same on every kernel of the matrix, one table
#   make demo        the end-to-end demo on Xen under QEMU (README)
#   make test        the whole test suite (README)
#   make install-src [DESTDIR=]  the DKMS source tree to $(DESTDIR)/usr/src/

KVER ?= $(shell uname -r)
# Headers of the running kernel, else the newest Debian headers installed
# (the build machines run a kernel that has no headers package).
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
CHECK_KERNEL ?= 6.1

.PHONY: all modules clean kdir unit bench check matrix demo test install-src

all: modules

modules clean:
	@test -n "$(KDIR)" || { echo "no kernel headers: apt-get install linux-headers-amd64, or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

# The headers directory a build would use (for scripts).
kdir:
	@echo $(KDIR)

unit:
	$(MAKE) -C tests/unit

bench:
	$(MAKE) -C tests/bench

check:
	tests/matrix/fetch.sh $(CHECK_KERNEL)
	tests/matrix/check.sh $(CHECK_KERNEL)

matrix:
	tests/matrix/fetch.sh
	tests/matrix/check.sh

demo:
	tests/demo.sh

test:
	tests/run.sh

# What DKMS needs on the target, and only that (no build products): the
# Debian and RPM packages and tests/dkms-check.sh all install through here.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
SRC_DEST = $(DESTDIR)/usr/src/xen-blk-pgnt-$(VERSION)

install-src:
	install -d $(SRC_DEST)
	install -m 0644 Kbuild Makefile dkms.conf $(SRC_DEST)/
	for d in common blkfront-pgnt blkback-pgnt; do \
		install -d $(SRC_DEST)/$$d && \
		install -m 0644 $$d/Kbuild* $$d/*.[ch] $(SRC_DEST)/$$d/ || exit 1; \
	done
