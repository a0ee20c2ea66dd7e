#!/usr/bin/env bash
# Head cut and compaction side by side (docs/benchmarks.md, "Persistence"): both
# write benchmarks leave 25 hours of samples in the head (20,000 series, 60 M
# samples); each server is then started on its directory, cuts the head into 2h
# blocks, checkpoints the WAL and compacts the blocks, and the durations are taken
# from their logs.
#
#   benches/compaction_side_by_side.sh [WORKDIR]
#
# Needs a release build (TIDEMARK=path picks another binary), promtool and prometheus (Debian `prometheus`).
set -euo pipefail

work=${1:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
tidemark=${TIDEMARK:-$here/target/release/tidemark}
series=$here/../shared/bench/series-20k.jsonl
mkdir -p "$work"
printf 'global:\n  scrape_interval: 15s\n' > "$work/empty.yml"

rm -rf "$work/tm" "$work/prom"
"$tidemark" bench write --metrics=20000 --scrapes=3000 --out="$work/tm" "$series" > /dev/null 2>&1
promtool tsdb bench write --metrics=20000 --scrapes=3000 --out="$work/prom" "$series" > /dev/null 2>&1

# Runs a server for some seconds on its directory; keeps its log and peak RSS.
# Prometheus first compacts one minute after it starts, tidemark at once.
run() {
    local name=$1 seconds=$2
    shift 2
    /usr/bin/time -f '%M' -o "$work/$name.rss" timeout -s INT "$seconds" "$@" > "$work/$name.log" 2>&1 || true
}
run tm 45 "$tidemark" --config.file="$work/empty.yml" --storage.tsdb.path="$work/tm" \
    --web.listen-address=127.0.0.1:19090
run prom 100 prometheus --config.file="$work/empty.yml" --storage.tsdb.path="$work/prom/storage" \
    --web.listen-address=127.0.0.1:19091

# Durations in seconds by step: tidemark logs `seconds=`, Prometheus `duration=`.
summary() {
    awk -v step="$2" -v field="$3" '
        index($0, step) {
            if (match($0, field "=[0-9.]+(ms|µs|s)?")) {
                v = substr($0, RSTART + length(field) + 1, RLENGTH - length(field) - 1)
                unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-zµ]+$/, "", v)
                if (unit == "ms") v /= 1000; else if (unit == "µs") v /= 1e6
                n++; s += v; if (v > m) m = v
            }
        }
        END { if (n) printf "%-22s n=%-3d total %6.2f s  mean %.3f s  max %.3f s\n", step, n, s, s / n, m }
    ' "$1"
}
echo "tidemark (peak RSS $(($(tail -1 "$work/tm.rss") / 1024)) MB, blocks $(du -sb "$work"/tm/01* | awk '{s += $1} END {print s}') bytes)"
summary "$work/tm.log" "WAL replay finished" seconds
summary "$work/tm.log" "head block written" seconds
summary "$work/tm.log" "head truncated" seconds
summary "$work/tm.log" "WAL checkpoint written" seconds
summary "$work/tm.log" "blocks compacted" seconds
echo "Prometheus (peak RSS $(($(tail -1 "$work/prom.rss") / 1024)) MB, blocks $(du -sb "$work"/prom/storage/01* | awk '{s += $1} END {print s}') bytes)"
summary "$work/prom.log" "WAL replay completed" total_replay_duration
summary "$work/prom.log" "write block" duration
summary "$work/prom.log" "Head GC completed" duration
summary "$work/prom.log" "WAL checkpoint complete" duration
summary "$work/prom.log" "compact blocks" duration
