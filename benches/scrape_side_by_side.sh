#!/usr/bin/env bash
# Scraping side by side (docs/benchmarks.md, "Scraping"): tidemark, Prometheus and
# VictoriaMetrics scrape the same fake targets (../shared/bench/fake_targets.py, by
# default 50 targets x 1000 series every 1 s, i.e. 50,000 samples/s), ONE AFTER THE
# OTHER from one targets process, each for the same warm-up (the first scrapes create
# the series) and then the same measured window. Over that window, for each system:
#
#   scrapes, samples   counted on the targets' side, the same way for all three:
#                      fake_targets.py runs unchanged inside a small wrapper that
#                      counts the bodies it serves and their sample lines; each
#                      scrape adds the 5 report series (up, scrape_duration_seconds,
#                      scrape_samples_scraped, scrape_samples_post_metric_relabeling,
#                      scrape_series_added), which all three store
#   CPU s              utime+stime of the server process from /proc/PID/stat
#   CPU s / M samples  CPU s per million samples scraped and stored
#   RSS                VmRSS every 5 s (max and last), VmHWM at the end of the window
#   data MB            size of its data dir after it has stopped (SIGTERM)
#
# and as cross-checks the samples the system itself says it appended
# (prometheus_tsdb_head_samples_appended_total, vm_rows_inserted_total{type=
# "promscrape"}, tidemark_tsdb_head_samples_appended_total), the targets' CPU and the
# scrapes that came late (a gap of more than 1.5 intervals at a target).
# Keep the machine otherwise idle meanwhile (no builds); compare the ratios of one run.
#
#   benches/scrape_side_by_side.sh [TIDEMARK [WORKDIR [SECONDS [TARGETS [SERIES]]]]]
#
#   benches/scrape_side_by_side.sh                       # 3 x (30 s + 300 s), 50 x 1000
#   SYSTEMS="prometheus vm" WARMUP=10 benches/scrape_side_by_side.sh '' /tmp/sbs 60
#
# TIDEMARK defaults to target/release/tidemark (a release build), WORKDIR to a new
# temporary directory, SECONDS to 300, TARGETS to 50, SERIES to 1000. Environment:
#   SYSTEMS    which systems, in this order (default "prometheus vm tidemark"; also
#              victoria-metrics, prom, tm); a missing tidemark binary is skipped
#   WARMUP     seconds between ready and the start of the window (default 30)
#   BASE_PORT  first target port (default 19100); the targets' counter listens on
#              BASE_PORT-1, Prometheus on -2, VictoriaMetrics on -3, tidemark on -4
#
# Needs: prometheus and victoria-metrics (Debian `prometheus`, `victoria-metrics`),
# python3, curl, bc. Listens on 127.0.0.1 only; stops everything it started on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
tidemark=${1:-$here/target/release/tidemark}
work=${2:-$(mktemp -d)}
duration=${3:-300}
n_targets=${4:-50}
n_series=${5:-1000}
systems=${SYSTEMS:-prometheus vm tidemark}
warmup=${WARMUP:-30}
base_port=${BASE_PORT:-19100}
bench=$here/../shared/bench
interval=1 # seconds; scrape_interval and scrape_timeout
rss_every=5
stats_port=$((base_port - 1))
clk_tck=$(getconf CLK_TCK)
mkdir -p "$work"
work=$(cd "$work" && pwd)

server_pid=
targets_pid=
nap_pid=
cleanup() {
    local p
    for p in $nap_pid $server_pid $targets_pid; do kill -TERM "$p" 2> /dev/null || true; done
    for p in $server_pid $targets_pid; do
        for _ in $(seq 100); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2> /dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
# A sleep that the INT/TERM traps interrupt (bash runs traps only between commands).
nap() { sleep "$1" & nap_pid=$!; wait "$nap_pid"; nap_pid=; }
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() { awk -v d=$(($(now_us) - $1)) 'BEGIN {printf "%.1f", d / 1e6}'; }
# utime + stime in clock ticks (fields 14 and 15; the name in parentheses may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# Busy ticks of the whole machine (user, nice, system, irq, softirq, steal).
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# One line per target: index, bodies served, sample lines served, body CPU s, late gaps.
targets_stats() { curl -fsS --max-time 5 "http://127.0.0.1:$stats_port/"; }
# Samples the system says it appended; empty when it does not say.
self_samples() {
    local name
    case $1 in
        prometheus) name=prometheus_tsdb_head_samples_appended_total ;;
        vm) name='vm_rows_inserted_total{type="promscrape"}' ;;
        tidemark) name=tidemark_tsdb_head_samples_appended_total ;;
    esac
    curl -fs --max-time 5 "http://127.0.0.1:$2/metrics" |
        awk -v n="$name" 'index($0, n) == 1 && (substr($0, length(n) + 1, 1) ~ /[{ ]/ || n ~ /}$/) {s += $NF; f = 1}
            END {if (f) printf "%.0f\n", s}' || true
}

for p in $(seq "$((base_port - 4))" "$((base_port + n_targets - 1))"); do
    port_free "$p" || { echo "port 127.0.0.1:$p is in use; set BASE_PORT" >&2; exit 1; }
done

# fake_targets.py, unchanged, inside a wrapper that counts what each target serves
# and answers the counts on 127.0.0.1:stats_port.
cat > "$work/counting_targets.py" << 'EOF'
import http.server, os, sys, threading, time
bench, stats_port, late_after = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sys.argv = [os.path.join(bench, "fake_targets.py")] + sys.argv[4:]
sys.path.insert(0, bench)
import asyncio, fake_targets as ft

targets = []
orig_init, orig_body = ft.Target.__init__, ft.Target.body

def init(self, idx, fams):
    orig_init(self, idx, fams)
    self.n = self.samples = self.late = 0
    self.cpu, self.last = 0.0, None
    self.comments = 2 * len(self.fams)  # HELP and TYPE per family
    targets.append(self)

def body(self):
    t, c = time.monotonic(), time.thread_time()
    b = orig_body(self)
    self.cpu += time.thread_time() - c
    if self.last is not None and t - self.last > late_after:
        self.late += 1
    self.last = t
    self.n += 1
    self.samples += b.count(b"\n") - self.comments
    return b

ft.Target.__init__, ft.Target.body = init, body

class Stats(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = "".join(f"{i} {t.n} {t.samples} {t.cpu:.6f} {t.late}\n" for i, t in enumerate(list(targets))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", stats_port), Stats)
threading.Thread(target=srv.serve_forever, daemon=True).start()
asyncio.run(ft.main())
EOF

python3 "$work/counting_targets.py" "$bench" "$stats_port" "$(echo "1.5 * $interval" | bc)" \
    --targets "$n_targets" --series "$n_series" --base-port "$base_port" --host 127.0.0.1 \
    > "$work/targets.log" 2>&1 &
targets_pid=$!
for _ in $(seq 300); do
    grep -qs '^serving' "$work/targets.log" && targets_stats > /dev/null 2>&1 && break
    kill -0 "$targets_pid" 2> /dev/null || { cat "$work/targets.log" >&2; exit 1; }
    sleep 0.1
done
per_scrape=0
for i in $(seq 0 "$((n_targets - 1))"); do
    n=$(curl -fsS --max-time 5 "http://127.0.0.1:$((base_port + i))/metrics" | grep -vc '^#' || true)
    [ "$n" -eq "$n_series" ] || { echo "target 127.0.0.1:$((base_port + i)) gave $n samples, not $n_series" >&2; exit 1; }
    per_scrape=$((per_scrape + n + 5))
done

{
    printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\nscrape_configs:\n  - job_name: fake\n    static_configs:\n      - targets:\n' "$interval" "$interval"
    for i in $(seq 0 "$((n_targets - 1))"); do printf '          - 127.0.0.1:%d\n' "$((base_port + i))"; done
} > "$work/scrape.yml"

echo "scrape side by side: $n_targets targets x $n_series series every ${interval}s" \
    "($per_scrape samples per round incl. 5 report series per target)"
echo "one after the other, same targets process; each: ready, ${warmup}s warm-up, ${duration}s measured"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u +%FT%TZ)"
echo "work dir $work, scrape config $work/scrape.yml"

: > "$work/results.tsv"
run_system() {
    local sys=$1 port ready dir pid t0 t1 c0 c1 tc0 tc1 b0 b1 s0 s1 w0 w1 end rss max_rss=0 last_rss=0 hwm now left
    dir=$work/data-$sys
    rm -rf "$dir"
    mkdir -p "$dir"
    case $sys in
        prometheus)
            port=$((base_port - 2)) ready=/-/ready
            set -- prometheus --config.file="$work/scrape.yml" --storage.tsdb.path="$dir" \
                --web.listen-address=127.0.0.1:$port
            echo "  $(prometheus --version 2>&1 | head -1)" ;;
        vm)
            port=$((base_port - 3)) ready=/health
            set -- victoria-metrics -promscrape.config="$work/scrape.yml" -storageDataPath="$dir" \
                -httpListenAddr=127.0.0.1:$port -retentionPeriod=1
            echo "  victoria-metrics $(dpkg-query -W -f '${Version}' victoria-metrics 2> /dev/null || echo '(version unknown)')" ;;
        tidemark)
            port=$((base_port - 4)) ready=/-/ready
            set -- "$tidemark" --config.file="$work/scrape.yml" --storage.tsdb.path="$dir" \
                --web.listen-address=127.0.0.1:$port
            echo "  $("$tidemark" --version 2>&1 | head -1 || true) ($tidemark)" ;;
    esac
    "$@" > "$work/$sys.log" 2>&1 &
    pid=$!
    server_pid=$pid
    t0=$(now_us)
    until curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$port$ready"; do
        if ! kill -0 "$pid" 2> /dev/null || [ $(($(now_us) - t0)) -gt 120000000 ]; then
            echo "  NOTICE: $sys did not get ready (log: $work/$sys.log); skipped" >&2
            tail -5 "$work/$sys.log" | sed 's/^/    /' >&2
            kill -KILL "$pid" 2> /dev/null || true
            wait "$pid" 2> /dev/null || true
            server_pid=
            return 0
        fi
        sleep 0.2
    done
    echo "  ready after $(secs_since "$t0") s; warming up ${warmup}s"
    nap "$warmup"

    targets_stats > "$work/$sys.targets0"
    s0=$(self_samples "$sys" "$port")
    c0=$(cpu_ticks "$pid")
    tc0=$(cpu_ticks "$targets_pid")
    b0=$(busy_ticks)
    w0=$(now_us)
    end=$((w0 + duration * 1000000))
    while :; do
        now=$(now_us)
        left=$(((end - now) / 1000))
        [ "$left" -gt 0 ] || break
        [ "$left" -le $((rss_every * 1000)) ] || left=$((rss_every * 1000))
        nap "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
        kill -0 "$pid" 2> /dev/null || { echo "  NOTICE: $sys exited during the window (log: $work/$sys.log)" >&2; server_pid=; return 0; }
        rss=$(status_kb "$pid" VmRSS)
        last_rss=$rss
        [ "$rss" -le "$max_rss" ] || max_rss=$rss
    done
    c1=$(cpu_ticks "$pid")
    tc1=$(cpu_ticks "$targets_pid")
    b1=$(busy_ticks)
    targets_stats > "$work/$sys.targets1"
    w1=$(now_us)
    s1=$(self_samples "$sys" "$port")
    hwm=$(status_kb "$pid" VmHWM)

    kill -TERM "$pid"
    t1=$(now_us)
    while kill -0 "$pid" 2> /dev/null && [ $(($(now_us) - t1)) -lt 120000000 ]; do sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null && echo "  NOTICE: $sys did not stop within 120 s of SIGTERM; killed" >&2
    wait "$pid" 2> /dev/null || true
    server_pid=
    echo "  stopped after $(secs_since "$t1") s"

    # system, scrapes, samples (incl. report series), CPU s, max/last RSS kB, HWM kB,
    # data bytes, self-reported samples, window s, min/max scrapes per target,
    # late gaps, targets' CPU s, targets' body CPU s, everything else's CPU s
    paste "$work/$sys.targets0" "$work/$sys.targets1" | awk -v sys="$sys" \
        -v cpu="$(awk -v d=$((c1 - c0)) -v t="$clk_tck" 'BEGIN {printf "%.2f", d / t}')" \
        -v tcpu="$(awk -v d=$((tc1 - tc0)) -v t="$clk_tck" 'BEGIN {printf "%.2f", d / t}')" \
        -v ocpu="$(awk -v d=$((b1 - b0 - (c1 - c0) - (tc1 - tc0))) -v t="$clk_tck" 'BEGIN {printf "%.2f", d / t}')" \
        -v max_rss="$max_rss" -v last_rss="$last_rss" -v hwm="$hwm" \
        -v data="$(du -sb "$dir" | cut -f1)" \
        -v self="$([ -n "$s0" ] && [ -n "$s1" ] && echo $((s1 - s0)) || echo -)" \
        -v window="$(echo "scale=3; ($w1 - $w0) / 1000000" | bc)" '
        { d = $7 - $2; n += d; s += $8 - $3 + 5 * d; b += $9 - $4; late += $10 - $5
          if (NR == 1 || d < lo) lo = d; if (d > hi) hi = d }
        END { printf "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%.2f\t%s\n",
              sys, n, s, cpu, max_rss, last_rss, hwm, data, self, window, lo, hi, late, tcpu, b, ocpu }
    ' >> "$work/results.tsv"
    [ "$(tail -1 "$work/results.tsv" | cut -f2)" -gt 0 ] ||
        echo "  NOTICE: no scrapes reached the targets from $sys in the window (does it scrape yet? log: $work/$sys.log)" >&2
}

for sys in $systems; do
    case $sys in
        prometheus | prom) sys=prometheus ;;
        vm | victoria-metrics | victoriametrics) sys=vm ;;
        tidemark | tm) sys=tidemark ;;
        *) echo "unknown system $sys (prometheus, vm, tidemark)" >&2; exit 1 ;;
    esac
    if [ "$sys" = tidemark ] && [ ! -x "$tidemark" ]; then
        echo "NOTICE: no tidemark binary at $tidemark (cargo build --release); tidemark skipped" >&2
        continue
    fi
    command -v "$([ "$sys" = vm ] && echo victoria-metrics || echo "$sys")" > /dev/null ||
        [ "$sys" = tidemark ] || { echo "NOTICE: $sys is not installed; skipped" >&2; continue; }
    echo "$sys:"
    run_system "$sys"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo

[ -s "$work/results.tsv" ] || { echo "nothing measured" >&2; exit 1; }
awk -F'\t' -v interval="$interval" -v targets="$n_targets" '
    function per(cpu, s) { return s > 0 ? sprintf("%.2f", cpu / (s / 1e6)) : "-" }
    function mb(kb) { return sprintf("%.0f", kb / 1024) }
    { sys[NR] = $1; n[NR] = $2; s[NR] = $3; cpu[NR] = $4; mx[NR] = $5; last[NR] = $6; hwm[NR] = $7
      data[NR] = $8; self[NR] = $9; win[NR] = $10; lo[NR] = $11; hi[NR] = $12; late[NR] = $13
      tcpu[NR] = $14; bcpu[NR] = $15; ocpu[NR] = $16; name[NR] = $1 == "vm" ? "victoria-metrics" : $1 }
    END {
        f = "%-16s %8s %11s %7s %14s %10s %11s %9s %8s\n"
        printf f, "system", "scrapes", "samples (M)", "CPU s", "CPU s/M samples", "max RSS MB", "last RSS MB", "HWM MB", "data MB"
        for (i = 1; i <= NR; i++)
            printf f, name[i], n[i], sprintf("%.2f", s[i] / 1e6), cpu[i], per(cpu[i], s[i]), mb(mx[i]), mb(last[i]), mb(hwm[i]), sprintf("%.1f", data[i] / 1048576)
        print ""
        print "cross-checks: scrapes against the interval, the system'"'"'s own count of samples (self M),"
        print "the targets'"'"' CPU (the python process; body = making the responses) and everything else'"'"'s:"
        f = "%-16s %9s %9s %13s %11s %10s %8s %14s %11s %13s\n"
        printf f, "system", "window s", "expected", "scrapes/exp.", "per target", "late gaps", "self M", "targets CPU s", "body CPU s", "others CPU s"
        for (i = 1; i <= NR; i++) {
            e = targets * win[i] / interval
            printf f, name[i], win[i], sprintf("%.0f", e), sprintf("%.1f%%", 100 * n[i] / e), lo[i] "-" hi[i], late[i],
                self[i] == "-" ? "-" : sprintf("%.2f", self[i] / 1e6), tcpu[i], bcpu[i], ocpu[i]
            if (ocpu[i] > 0.15 * win[i]) noisy = noisy " " name[i]
        }
        if (noisy != "") print "NOTICE: other processes used more than 15% of a core during the window of" noisy "; the machine was not idle"
        # tidemark against the better of the others, per column (lower is better).
        t = 0; for (i = 1; i <= NR; i++) if (sys[i] == "tidemark" && s[i] > 0) t = i
        if (t) {
            bc = bm = bl = bd = ""
            for (i = 1; i <= NR; i++) if (i != t && s[i] > 0) {
                c = cpu[i] / s[i]
                if (bc == "" || c < bc) { bc = c; bcn = name[i] }
                if (bm == "" || mx[i] < bm) { bm = mx[i]; bmn = name[i] }
                if (bl == "" || last[i] < bl) { bl = last[i]; bln = name[i] }
                if (bd == "" || data[i] < bd) { bd = data[i]; bdn = name[i] }
            }
            if (bc != "") {
                print ""
                print "tidemark / the better of the others (below 1 is better):"
                printf "  CPU s per M samples %.2f (vs %s)\n", cpu[t] / s[t] / bc, bcn
                printf "  max RSS             %.2f (vs %s)\n", mx[t] / bm, bmn
                printf "  last RSS            %.2f (vs %s)\n", last[t] / bl, bln
                if (bd > 0) printf "  data dir            %.2f (vs %s)\n", data[t] / bd, bdn
            }
        } else print "\n(no tidemark figures, so no ratios)"
        print ""
        print "| system | scrapes | samples (M) | CPU s | CPU s / M samples | max RSS MB | last RSS MB | data MB |"
        print "|---|--:|--:|--:|--:|--:|--:|--:|"
        for (i = 1; i <= NR; i++)
            printf "| %s | %d | %.2f | %s | %s | %s | %s | %.1f |\n", name[i], n[i], s[i] / 1e6, cpu[i], per(cpu[i], s[i]), mb(mx[i]), mb(last[i]), data[i] / 1048576
    }
' "$work/results.tsv"
