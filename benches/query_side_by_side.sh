#!/usr/bin/env bash
# PromQL dashboard queries side by side (docs/benchmarks.md, "PromQL side by
# side"): tidemark, Prometheus and VictoriaMetrics (result cache off) serve the
# same 2 hours of gen_openmetrics.py data, and benches/query_side_by_side.py
# times each query_range over the whole 2h at a 15 s step on each and compares
# tidemark's answers with Prometheus's.
#
#   benches/query_side_by_side.sh FILE.om WORKDIR [REPEAT]
#
# WORKDIR keeps the imported data (tm/, prom/, vm/ as import_side_by_side.sh
# leaves them); a missing one is imported first. Needs a release build
# (TIDEMARK=path picks another binary), promtool and prometheus (Debian
# `prometheus`), victoria-metrics, curl, python3. Keep the
# machine otherwise idle; compare the ratios of one run.
set -euo pipefail

om=${1:?usage: $0 FILE.om WORKDIR [REPEAT]}
work=${2:?usage: $0 FILE.om WORKDIR [REPEAT]}
repeat=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
tidemark=${TIDEMARK:-$root/target/release/tidemark}
mkdir -p "$work"

if [[ ! -d $work/tm || ! -d $work/prom || ! -d $work/vm ]]; then
    "$root/benches/import_side_by_side.sh" "$om" "$work"
fi
# The window every query covers: from the first sample's hour to the last
# sample, starting 7.5 s past the hour so that no sample (15 s apart, a few ms of
# jitter) sits exactly on the edge of a range or lookback window, where
# Prometheus 2.42 (closed ranges) and 3.x (left-open, as tidemark) differ.
first=$(grep -m1 -v '^#' "$om" | awk '{print int($NF)}')
last=$(tail -n 2 "$om" | grep -v '^#' | awk '{print int($NF)}')
start=$(( first - first % 3600 + 7 )).5
end=$last

printf 'global: {}\nscrape_configs: []\n' > "$work/empty.yml"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

"$tidemark" --config.file="$work/empty.yml" --storage.tsdb.path="$work/tm" \
    --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:19091 \
    > "$work/tidemark.log" 2>&1 &
pids+=($!)
prometheus --config.file="$work/empty.yml" --storage.tsdb.path="$work/prom" \
    --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:19092 \
    > "$work/prometheus.log" 2>&1 &
pids+=($!)
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr=127.0.0.1:19093 \
    -retentionPeriod=100y -search.disableCache -loggerLevel=ERROR \
    > "$work/vm-query.log" 2>&1 &
pids+=($!)
for url in http://127.0.0.1:19091/-/ready http://127.0.0.1:19092/-/ready http://127.0.0.1:19093/health; do
    until curl -fs "$url" > /dev/null; do sleep 0.2; done
done
# Let start-up work (compaction, merges) finish before timing.
sleep 10

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "window $(date -u -d "@$start" +%FT%T.%1NZ) .. $(date -u -d "@$end" +%FT%TZ), step 15s, median of $repeat"
python3 "$root/benches/query_side_by_side.py" --start "$start" --end "$end" --step 15 \
    --repeat "$repeat" tidemark=http://127.0.0.1:19091 prometheus=http://127.0.0.1:19092 \
    victoria-metrics=http://127.0.0.1:19093
for i in 0 1 2; do
    echo "peak RSS of ${pids[$i]}: $(awk '/VmHWM/ {print int($2/1024)}' "/proc/${pids[$i]}/status") MB"
done
