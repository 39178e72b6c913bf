#!/usr/bin/env python3
"""Print '<error> <iops> <summary>' for a fio --output-format=json file.

error: sum of the jobs' error codes; iops: read+write IOPS (integer);
summary: compact 'rd=IOPS/BW_KiBs/p50_us/p99_us wr=...' for the humans.
"""
import json
import sys


def side(job, rw):
    d = job.get(rw, {})
    pct = d.get("clat_ns", {}).get("percentile", {}) or {}
    p50 = pct.get("50.000000", 0) / 1000.0
    p99 = pct.get("99.000000", 0) / 1000.0
    return d.get("iops", 0.0), d.get("bw", 0), p50, p99, d.get("total_ios", 0)


def main(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    data = json.loads(text[text.index("{"):])
    err, iops, parts = 0, 0.0, []
    for job in data.get("jobs", []):
        err += int(job.get("error", 0))
        for rw, tag in (("read", "rd"), ("write", "wr")):
            i, bw, p50, p99, n = side(job, rw)
            if n:
                iops += i
                parts.append(f"{tag}={i:.0f}iops/{bw}KiBs/p50={p50:.0f}us/p99={p99:.0f}us")
    print(err, int(round(iops)), " ".join(parts) or "no-io")


if __name__ == "__main__":
    main(sys.argv[1])
