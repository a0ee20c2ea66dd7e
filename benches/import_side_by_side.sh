#!/usr/bin/env bash
# Imports one OpenMetrics backfill file into tidemark, Prometheus (promtool) and
# VictoriaMetrics, one after the other in one sitting, and prints time, peak RSS
# and bytes on disk for each (docs/benchmarks.md, "Persistence").
#
#   benches/import_side_by_side.sh FILE.om [WORKDIR]
#
# Needs: a release build (cargo build --release; TIDEMARK=path picks another binary), promtool (Debian `prometheus`),
# victoria-metrics (Debian `victoria-metrics`), curl, GNU time.
set -euo pipefail

om=${1:?usage: $0 FILE.om [WORKDIR]}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
tidemark=${TIDEMARK:-$here/target/release/tidemark}
samples=$(grep -vc '^#' "$om")
mkdir -p "$work"

bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

echo "file: $om ($samples samples)"

rm -rf "$work/tm"
/usr/bin/time -f '%e %M' -o "$work/tm.time" "$tidemark" import openmetrics "$om" "$work/tm" > /dev/null 2>&1
read -r tm_s tm_kb < "$work/tm.time"
tm_chunks=$(bytes "$work"/tm/*/chunks)
tm_index=$(bytes "$work"/tm/*/index)

rm -rf "$work/prom"
/usr/bin/time -f '%e %M' -o "$work/prom.time" promtool tsdb create-blocks-from openmetrics "$om" "$work/prom" > /dev/null 2>&1
read -r prom_s prom_kb < "$work/prom.time"
prom_chunks=$(bytes "$work"/prom/*/chunks)
prom_index=$(bytes "$work"/prom/*/index)

# VictoriaMetrics takes Prometheus text with millisecond timestamps.
sed 's/ \([0-9]*\)\.\([0-9]\{3\}\)$/ \1\2/' "$om" | grep -v '^# EOF' > "$work/vm-input.prom"
rm -rf "$work/vm"
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr=127.0.0.1:18428 \
    -retentionPeriod=100y -loggerLevel=ERROR > "$work/vm.log" 2>&1 &
vm_pid=$!
trap 'kill $vm_pid 2> /dev/null || true' EXIT
until curl -fs http://127.0.0.1:18428/health > /dev/null; do sleep 0.2; done
start=$(date +%s.%N)
curl -fsS -X POST -H 'Content-Type: text/plain' -T "$work/vm-input.prom" \
    http://127.0.0.1:18428/api/v1/import/prometheus
curl -fsS http://127.0.0.1:18428/internal/force_flush
end=$(date +%s.%N)
vm_s=$(echo "$end - $start" | bc)
vm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$vm_pid/status")
# Let background merges settle before measuring the data on disk.
sleep 20
vm_data=$(bytes "$work"/vm/data)
vm_index=$(bytes "$work"/vm/indexdb)
kill "$vm_pid"
wait "$vm_pid" 2> /dev/null || true
trap - EXIT

per() { echo "scale=3; $1 / $samples" | bc; }
printf '%-16s %8s %12s %14s %12s %12s\n' tool seconds 'peak RSS MB' 'data bytes' 'bytes/sample' 'index bytes'
printf '%-16s %8s %12s %14s %12s %12s\n' tidemark "$tm_s" $((tm_kb / 1024)) "$tm_chunks" "$(per "$tm_chunks")" "$tm_index"
printf '%-16s %8s %12s %14s %12s %12s\n' promtool "$prom_s" $((prom_kb / 1024)) "$prom_chunks" "$(per "$prom_chunks")" "$prom_index"
printf '%-16s %8s %12s %14s %12s %12s\n' victoria-metrics "$vm_s" $((vm_kb / 1024)) "$vm_data" "$(per "$vm_data")" "$vm_index"
