#!/usr/bin/env bash
# Query load while scraping (docs/benchmarks.md, "Query load"): a system scrapes
# fake targets (../shared/bench/fake_targets.py, by default 10 targets x 1000
# series every 1 s) and, after a warm-up, wrk POSTs a dashboard's query_range
# (the last 5 minutes at a 15 s step, as a Grafana panel refreshing) as fast as
# it is answered, from CONNECTIONS connections for SECONDS. Prints wrk's
# throughput and latency percentiles and the non-200 answers, for tidemark and
# then Prometheus, one after the other against the same targets.
#
#   benches/query_load.sh [TIDEMARK [WORKDIR [SECONDS]]]
#
# Environment: SYSTEMS ("tidemark prometheus"), WARMUP (60 s), CONNECTIONS (8),
# TARGETS (10), SERIES (1000), QUERY (PromQL; default a p99 latency over all
# targets' histogram buckets), BASE_PORT (19300). Needs wrk, python3, curl and,
# for the comparison, prometheus (Debian packages `wrk`, `prometheus`). Keep the
# machine otherwise idle; compare the ratios of one run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tidemark=${1:-$root/target/release/tidemark}
work=${2:-$(mktemp -d)}
seconds=${3:-30}
systems=${SYSTEMS:-tidemark prometheus}
warmup=${WARMUP:-60}
connections=${CONNECTIONS:-8}
targets=${TARGETS:-10}
series=${SERIES:-1000}
base=${BASE_PORT:-19300}
query=${QUERY:-'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))'}
bench=$root/../shared/bench
mkdir -p "$work"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

(cd "$work" && exec python3 "$bench/fake_targets.py" --targets "$targets" --series "$series" \
    --base-port "$base") >"$work/targets.log" 2>&1 &
pids+=($!)

{
    echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
    echo "scrape_configs:"
    echo "  - job_name: fake"
    echo "    static_configs:"
    echo "      - targets:"
    for ((i = 0; i < targets; i++)); do echo "          - 127.0.0.1:$((base + i))"; done
} >"$work/scrape.yml"

# The Lua script: a form POST with the window ending now.
encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$query")
cat >"$work/query_range.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  local now = os.time()
  return wrk.format(nil, "/api/v1/query_range", nil,
    "query=$encoded&start=" .. (now - 300) .. "&end=" .. now .. "&step=15")
end
EOF

echo "query load: $targets targets x $series series every 1s; wrk $connections connections for ${seconds}s after ${warmup}s"
echo "query_range of the last 5m at step 15s: $query"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u +%FT%TZ)"
port=$((base - 5))
for system in $systems; do
    dir="$work/data-$system"
    rm -rf "$dir"
    case $system in
        tidemark)
            "$tidemark" --config.file="$work/scrape.yml" --storage.tsdb.path="$dir" \
                --web.listen-address="127.0.0.1:$port" >"$work/$system.log" 2>&1 &
            ;;
        prometheus)
            prometheus --config.file="$work/scrape.yml" --storage.tsdb.path="$dir" \
                --web.listen-address="127.0.0.1:$port" >"$work/$system.log" 2>&1 &
            ;;
        *) echo "unknown system $system" >&2; exit 2 ;;
    esac
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break
        sleep 0.1
    done
    sleep "$warmup"
    echo "== $system"
    curl -s "http://127.0.0.1:$port/api/v1/query_range" --data-urlencode "query=$query" \
        --data-urlencode "start=$(($(date +%s) - 300))" --data-urlencode "end=$(date +%s)" \
        --data-urlencode step=15 | head -c 300
    echo
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/query_range.lua" \
        "http://127.0.0.1:$port" | grep -E 'Requests/sec|Latency |50%|90%|99%|requests in|Non-2xx|Socket errors'
    echo "max RSS $(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status") MB"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
