#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Proves the unit tests can fail: each mutant breaks one check in a copy
# of common/, and the tests must then fail.  A mutant that survives (tests
# still pass) or that no longer applies (the code changed) fails this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One mutant per line: file, then the exact text and its replacement, all
# separated by " ## "; "\n" stands for a newline.
mutants=$(cat <<'LIST'
pgnt_check.h ## if (sector > size || nr > size - sector) ## if (sector + nr > size)
pgnt_check.h ## if (last_sect >= PGNT_SECTORS_PER_PAGE || first_sect > last_sect) ## if (last_sect > PGNT_SECTORS_PER_PAGE)
pgnt_check.h ## return (u32)(req_prod - req_cons) <= ## return (u32)(req_prod - rsp_prod_pvt) <=
pgnt_check.h ## for (j = 0; j < i; j++) ## for (j = 1; j < i; j++)
pgnt_check.h ## if (pgnt_op_writes(op) && l->readonly) ## if (op == PGNT_OP_WRITE && l->readonly)
pgnt_check.h ## if (r->nr_segs > max_segs || r->nr_segs > PGNT_SEGS_WIRE_MAX) ## if (r->nr_segs > PGNT_SEGS_WIRE_MAX)
pgnt_check.h ## if (!l->max_indirect_segs)\n\t\t\treturn PGNT_BAD_OP; ## 
pgnt_check.h ## if (!pgnt_ids_busy(ids, id))\n\t\treturn -1; ## 
pgnt_check.h ## if (rsp_op != sent_op && rsp_op != sent_data_op) ## if (0)
pgnt_check.h ## if (!r->nr_segs && (op == PGNT_OP_READ || op == PGNT_OP_WRITE)) ## if (0)
pgnt_check.h ## if (!r->nr_sectors)\n\t\t\treturn PGNT_BAD_RANGE; ## 
pgnt_check.h ## \tdefault:\n\t\treturn PGNT_BAD_OP; ## \tdefault:\n\t\tbreak;
pgnt_check.h ## if (r->indirect_op != PGNT_OP_READ &&\n\t\t    r->indirect_op != PGNT_OP_WRITE) ## if (0)
pgnt_check.h ## if ((r->discard_flags & PGNT_DISCARD_SECURE) &&\n\t\t    !l->secure_discard) ## if (0)
pgnt.h ## if (requested > backend_max || requested > PGNT_RING_PAGE_ORDER_MAX) ## if (requested > PGNT_RING_PAGE_ORDER_MAX)
pgnt.h ## if (segs <= PGNT_SEGS_DIRECT) ## if (segs < PGNT_SEGS_DIRECT)
pgnt_budget.h ## return used >= limit ? 0 : limit - used; ## return limit - used;
pgnt_budget.h ## return used >= limit ? 0 : limit - used; ## return used >= limit ? 1 : limit - used;
pgnt_budget.h ## return want < room ? want : room; ## return want < room ? room : room;
pgnt_budget.h ## return want < room ? want : room; ## return want > room ? want : room;
pgnt_budget.h ## return used > limit ? used - limit : 0; ## return used - limit;
pgnt_budget.h ## return used > limit ? used - limit : 0; ## return used < limit ? limit - used : 0;
pgnt_budget.h ## u32 n = pgnt_budget_over(ring_used, ring_limit); ## u32 n = 0 * pgnt_budget_over(ring_used, ring_limit);
pgnt_budget.h ## if (d > n) ## if (0)
pgnt_budget.h ## if (d > n) ## if (d < n)
pgnt_budget.h ## if (g > n) ## if (0)
pgnt_budget.h ## if (g > n) ## if (g < n)
pgnt_gcache.h ## if (!n->users++) ## if (n->users++)
pgnt_gcache.h ## if (n->users)\n\t\treturn -1;\n\twhile ## while
pgnt_gcache.h ## if (pgnt_gcache_lookup(c, gref))\n\t\treturn -1; ## 
pgnt_gcache.h ## n->lru_prev = c->lru.lru_prev; ## n->lru_prev = &c->lru;
pgnt_gcache.h ## if (n && now - n->last_used >= min_age) ## if (n && now - n->last_used > min_age)
pgnt_vdev.h ## if (m % e->minors_per_disk >= PGNT_PARTS_PER_DISK) ## if (0)
pgnt_vdev.h ## index--; ## ;
pgnt_vdev.h ## m = (e->first_disk + m / e->minors_per_disk) * ## m = (e->first_disk + m / 16) *
pgnt_copy.h ## if (scrub && off)\n\t\tmemset(pool, 0, off); ## 
pgnt_copy.h ## if (scrub && off + len < PGNT_XEN_PAGE_SIZE) ## if (off + len < PGNT_XEN_PAGE_SIZE)
pgnt_copy.h ## memcpy(pool + off, src + off, len); ## memcpy(pool, src, len);
pgnt_copy.h ## memcpy(dst + off, pool + off, len); ## memcpy(dst + off, pool, len);
LIST
)

killed=0 survived=0
while IFS= read -r m; do
	rm -rf "$work/common" "$work/build"
	cp -r "$here/../../common" "$work/common"
	if ! python3 - "$work/common" "$m" <<'PY'
import sys
common, line = sys.argv[1], sys.argv[2]
name, old, new = (p.strip(' ') for p in line.split(' ## '))
old, new = (x.replace('\\n', '\n').replace('\\t', '\t') for x in (old, new))
path = common + '/' + name
s = open(path).read()
if s.count(old) != 1:
    sys.exit(1)
open(path, 'w').write(s.replace(old, new))
PY
	then
		echo "MUTANT DOES NOT APPLY: $m"
		survived=$((survived + 1))
		continue
	fi
	if make -s -C "$here" BUILD="$work/build" \
		CFLAGS_EXTRA="-I$work/common" run >"$work/log" 2>&1; then
		echo "SURVIVED: $m"
		survived=$((survived + 1))
	else
		killed=$((killed + 1))
	fi
done <<<"$mutants"
echo "mutants: $killed killed, $survived survived"
[ "$survived" -eq 0 ]
