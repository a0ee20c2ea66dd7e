#!/usr/bin/env python3
"""Dashboard queries side by side (docs/benchmarks.md, "PromQL side by side").

Sends the same query_range requests to servers holding the same data (tidemark,
Prometheus, VictoriaMetrics), one query at a time, each server in turn, and
prints the median wall time of REPEAT runs per query and server, the totals, and
whether tidemark's answer equals Prometheus's (same series, same timestamps,
values equal to 1e-9 relative). VictoriaMetrics's answers are timed, not
compared: its rate() and lookback differ from Prometheus's by design.

    query_side_by_side.py --start 2026-01-01T00:00:00Z --end 2026-01-01T02:00:00Z \\
        tidemark=http://127.0.0.1:19091 prometheus=http://127.0.0.1:19092 \\
        victoria-metrics=http://127.0.0.1:19093

benches/query_side_by_side.sh imports the data and starts the servers.
"""

import argparse
import json
import math
import statistics
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime

# Typical dashboard panels over gen_openmetrics.py's series (issue 6, item 8).
QUERIES = [
    ("sum by of rate", 'sum by (namespace) (rate(http_requests_total[5m]))'),
    ("histogram_quantile",
     'histogram_quantile(0.99, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m])))'),
    ("topk of rate", 'topk(5, rate(container_cpu_usage_seconds_total[5m]))'),
    ("count by with comparison", 'count by (phase) (kube_pod_status_phase == 1)'),
    ("avg_over_time", 'avg_over_time(container_memory_working_set_bytes[10m])'),
    ("regex and negative matchers",
     'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle", instance=~"ip-10-0-0-1.*"}[5m]))'),
    ("ratio of sums",
     'sum by (namespace) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (namespace) (rate(http_requests_total[5m]))'),
    ("memory used ratio",
     '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes'),
]


def epoch(text):
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def query_range(base, query, start, end, step):
    body = urllib.parse.urlencode(
        {"query": query, "start": start, "end": end, "step": step}).encode()
    req = urllib.request.Request(
        base + "/api/v1/query_range", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as resp:
        raw = resp.read()
    elapsed = time.perf_counter() - t0
    doc = json.loads(raw)
    if doc.get("status") != "success":
        raise RuntimeError(f"{base}: {query}: {doc}")
    return elapsed, doc["data"]["result"]


def canonical(result):
    """{sorted label items: [(t, float value)]} of a matrix."""
    out = {}
    for s in result:
        key = tuple(sorted(s["metric"].items()))
        out[key] = [(float(t), float(v)) for t, v in s.get("values", [])]
    return out


def same_value(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def compare(got, want):
    """None when equal, else a short description of the first difference."""
    g, w = canonical(got), canonical(want)
    if g.keys() != w.keys():
        missing = len(w.keys() - g.keys())
        extra = len(g.keys() - w.keys())
        return f"series differ: {missing} missing, {extra} extra"
    for key, wv in w.items():
        gv = g[key]
        if len(gv) != len(wv):
            return f"{dict(key)}: {len(gv)} points, want {len(wv)}"
        for (gt, gx), (wt, wx) in zip(gv, wv):
            if gt != wt or not same_value(gx, wx):
                return f"{dict(key)} at {wt}: {gx} (t={gt}), want {wx}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--step", default="15")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("servers", nargs="+", help="name=URL; the first is compared with 'prometheus'")
    args = ap.parse_args()
    start, end = epoch(args.start), epoch(args.end)
    servers = [s.split("=", 1) for s in args.servers]
    names = [n for n, _ in servers]

    totals = {n: 0.0 for n in names}
    rows = []
    mismatches = 0
    for label, q in QUERIES:
        answers, medians = {}, {}
        for name, url in servers:
            # One run first: its answer is compared; the timed runs follow.
            _, answers[name] = query_range(url, q, start, end, args.step)
            times = [query_range(url, q, start, end, args.step)[0] for _ in range(args.repeat)]
            medians[name] = statistics.median(times)
            totals[name] += medians[name]
        verdict = ""
        if "prometheus" in answers and names[0] != "prometheus":
            diff = compare(answers[names[0]], answers["prometheus"])
            verdict = "same" if diff is None else "DIFFERS: " + diff
            mismatches += diff is not None
        rows.append((label, medians, len(answers[names[0]]), verdict))

    head = "| query | series | " + " | ".join(f"{n} ms" for n in names)
    ratios = [n for n in names[1:]]
    head += "".join(f" | {names[0]}/{n}" for n in ratios) + " | answer |"
    print(head)
    print("|---|---:|" + "---:|" * (len(names) + len(ratios)) + "---|")
    for label, med, nseries, verdict in rows:
        cells = " | ".join(f"{med[n] * 1000:.1f}" for n in names)
        rcells = "".join(f" | {med[names[0]] / med[n]:.2f}" for n in ratios)
        print(f"| {label} | {nseries} | {cells}{rcells} | {verdict} |")
    cells = " | ".join(f"**{totals[n] * 1000:.1f}**" for n in names)
    rcells = "".join(f" | **{totals[names[0]] / totals[n]:.2f}**" for n in ratios)
    print(f"| total | | {cells}{rcells} | |")
    print()
    for label, q in QUERIES:
        print(f"- {label}: `{q}`")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
