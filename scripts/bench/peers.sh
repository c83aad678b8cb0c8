#!/usr/bin/env bash
# peers.sh - otlpd side by side with the systems a user would run instead, on the same payloads, in the same run.
#
#   scripts/bench/peers.sh install   # go install the peers, at pinned versions, into $PEERS_BIN
#   scripts/bench/peers.sh run       # measure (the default), print a summary, keep raw results in $OUT
#   scripts/bench/peers.sh disk      # bytes on disk per item of the same unique items, after merges
#
# Rows per signal (a row is skipped, and said so, when its server is not available):
#   traces:  sink, otlpd-memory, otlpd-engine, jaeger-badger     (OTLP/gRPC)
#   logs:    sink, otlpd-memory, otlpd-engine, victorialogs      (OTLP/HTTP protobuf; VictoriaLogs has no gRPC)
#   metrics: sink, otlpd-memory, otlpd-engine, victoriametrics   (OTLP/HTTP protobuf; VictoriaMetrics has no gRPC)
# "sink" is scripts/bench/sink: decodes every request with pdata and keeps nothing (the ceiling of a core).
#
# Method: each server runs on loopback with its data in a fresh temporary directory, pinned to one core
# (taskset -c $SERVER_CPU); `otlpd loadgen` runs pinned to the other core ($LOADGEN_CPU) with $WORKERS
# connections, the pre-encoded reference workload (seed 1, same requests for every server), $WARMUP of warm-up
# then $DURATION measured. Per row it records items/s accepted, export latency p50/p99, the server's peak RSS
# (VmHWM of /proc/PID/status, read just before stopping it) and disk bytes per item: allocated bytes
# (`du -sB1`) of the data directory after a graceful stop (SIGTERM, or SIGINT for the Victoria servers), minus
# the footprint of the same server started and stopped on an empty directory, divided by every item accepted
# (warm-up included).
# The servers are interleaved over $RUNS runs (the order rotates each run); the summary gives medians, and
# ratios computed within each run then their median, because the machine drifts between runs.
#
# Environment (defaults in brackets):
#   RUNS [3]  DURATION [20s]  WARMUP [3s]  WORKERS [8]  TIMEOUT [60s: per export; a slower one counts as failed]
#   SIGNALS ["traces logs metrics"]
#   SYSTEMS   rows to run, e.g. "sink otlpd-engine jaeger-badger" [all]
#   OTLPD     an otlpd binary to measure [built from this checkout]
#   SYNC      --sync of the engine row [batch: acknowledge after fsync]
#   PEERS_BIN directory with jaeger, victoria-logs, victoria-metrics [$(go env GOPATH)/bin]
#   SERVER_CPU [1]  LOADGEN_CPU [0]  PORT_BASE [24300; uses PORT_BASE..PORT_BASE+9 on 127.0.0.1]
#   OUT       directory for raw results and server logs [a new temporary directory]
#
# Example: RUNS=3 DURATION=20s scripts/bench/peers.sh run
#
# Disk (`disk`): the disk figures of `run` are taken right after a throughput run, before merges settle, and
# on the load generator's replays: it sends a pool of requests again and again (records moved in time, same
# content), which a storage that keeps a stream's records together compresses as repeats. `disk` sends every
# row the same $DISK_REQUESTS [2000] requests of 512 items, all distinct (`loadgen --unique`), asks the
# server to merge (VictoriaLogs: /internal/force_merge; otlpd merges on its own), waits $SETTLE [60s], stops
# it and divides the data directory's growth by the items accepted. Systems: otlpd-engine and the peer of
# each signal in $SIGNALS_DISK [logs; "traces logs" adds otlpd and Jaeger-Badger on spans].
set -euo pipefail

JAEGER_VERSION=v1.76.0
VLOGS_VERSION=v1.52.1
VMETRICS_VERSION=v1.151.0

RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
WORKERS=${WORKERS:-8}
TIMEOUT=${TIMEOUT:-60s}
SIGNALS=${SIGNALS:-traces logs metrics}
SYSTEMS=${SYSTEMS:-}
SYNC=${SYNC:-batch}
SERVER_CPU=${SERVER_CPU:-1}
LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT_BASE=${PORT_BASE:-24300}
PEERS_BIN=${PEERS_BIN:-$(go env GOPATH)/bin}

repo=$(cd "$(dirname "$0")/../.." && pwd)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "peers.sh: $*"; exit 1; }

install_peers() {
	mkdir -p "$PEERS_BIN"
	export GOBIN=$PEERS_BIN
	log "installing victoria-logs $VLOGS_VERSION and victoria-metrics $VMETRICS_VERSION into $PEERS_BIN"
	go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VLOGS_VERSION"
	go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VMETRICS_VERSION"
	# A plain `go install jaeger@version` is refused because of a replace directive in its go.mod; build it
	# as a tool of a throw-away module instead (about 10 minutes).
	local mod
	mod=$(mktemp -d)
	log "installing jaeger $JAEGER_VERSION into $PEERS_BIN (scratch module $mod)"
	(cd "$mod" && go mod init peers.invalid/jaegerbuild >/dev/null 2>&1 &&
		go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" &&
		go install github.com/jaegertracing/jaeger/cmd/jaeger)
	rm -rf "$mod"
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PID PORT: wait until PORT accepts connections, or fail if PID exits or 60 s pass.
wait_port() {
	local pid=$1 port=$2 i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		port_free "$port" || return 0
		sleep 0.1
	done
	return 1
}

# stop PID SIGNAL: ask the server to stop and wait for it (2 minutes at most, then SIGKILL).
stop() {
	local pid=$1 sig=$2 i
	kill "-$sig" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	log "pid $pid did not stop within 2 minutes: killed, disk figures of this row are not from a clean stop"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# jaeger_config DIR: a Jaeger v2 configuration with Badger in DIR and every endpoint on loopback.
jaeger_config() {
	cat >"$1/jaeger.yaml" <<EOF
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: store
    http:
      endpoint: 127.0.0.1:$((PORT_BASE + 2))
    grpc:
      endpoint: 127.0.0.1:$((PORT_BASE + 3))
  jaeger_storage:
    backends:
      store:
        badger:
          directories:
            keys: $1/data/keys
            values: $1/data/values
          ephemeral: false
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$((PORT_BASE + 0))
      http:
        endpoint: 127.0.0.1:$((PORT_BASE + 1))
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: store
EOF
}

# available SYSTEM: whether the row can run here (prints why not otherwise).
available() {
	case $1 in
	sink | otlpd-memory) return 0 ;;
	otlpd-engine)
		[[ $("$otlpd" serve --help 2>&1) == *-sync* ]] && return 0
		echo "this otlpd has no embedded engine (serve has no --sync)"
		return 1 ;;
	jaeger-badger) [[ -x $PEERS_BIN/jaeger ]] || { echo "no $PEERS_BIN/jaeger (scripts/bench/peers.sh install)"; return 1; } ;;
	victorialogs) [[ -x $PEERS_BIN/victoria-logs ]] || { echo "no $PEERS_BIN/victoria-logs"; return 1; } ;;
	victoriametrics) [[ -x $PEERS_BIN/victoria-metrics ]] || { echo "no $PEERS_BIN/victoria-metrics"; return 1; } ;;
	esac
}

# start SYSTEM DIR: start the server with its data in DIR/data, pinned to $SERVER_CPU; sets pid, stopsig,
# endpoint (for the loadgen) and waits until it listens.
start() {
	local sys=$1 dir=$2 port
	mkdir -p "$dir/data"
	local p0=$((PORT_BASE + 0)) p1=$((PORT_BASE + 1)) p2=$((PORT_BASE + 2))
	for port in $p0 $p1 $p2 $((PORT_BASE + 3)); do
		port_free "$port" || die "127.0.0.1:$port is taken; set PORT_BASE"
	done
	local cmd=() env=()
	stopsig=TERM
	# otlpd's default series limits (100,000 per metric) refuse part of the reference workload, whose
	# histogram bucket series go past that; the peers have no such limit, so lift it for the comparison.
	printf 'metrics:\n  max_series: 100000000\n  max_series_per_metric: 100000000\n  delta_max_series: 100000000\n' >"$dir/otlpd.yaml"
	case $sys in
	sink) cmd=("$bin/sink" --grpc-addr "127.0.0.1:$p0" --http-addr "127.0.0.1:$p1") ;;
	otlpd-memory) cmd=("$otlpd" serve --config "$dir/otlpd.yaml" --storage memory --data-dir "$dir/data" --grpc-addr "127.0.0.1:$p0" \
		--http-addr "127.0.0.1:$p1" --ui-addr "127.0.0.1:$p2") ;;
	otlpd-engine) cmd=("$otlpd" serve --config "$dir/otlpd.yaml" --storage engine --sync "$SYNC" --data-dir "$dir/data" \
		--grpc-addr "127.0.0.1:$p0" --http-addr "127.0.0.1:$p1" --ui-addr "127.0.0.1:$p2") ;;
	jaeger-badger)
		jaeger_config "$dir"
		env=(OTEL_TRACES_SAMPLER=always_off OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none)
		cmd=("$PEERS_BIN/jaeger" --config "$dir/jaeger.yaml") ;;
	victorialogs) stopsig=INT
		cmd=("$PEERS_BIN/victoria-logs" "-httpListenAddr=127.0.0.1:$p1" "-storageDataPath=$dir/data") ;;
	victoriametrics) stopsig=INT
		cmd=("$PEERS_BIN/victoria-metrics" "-httpListenAddr=127.0.0.1:$p1" "-storageDataPath=$dir/data") ;;
	*) die "unknown system $sys" ;;
	esac
	env "${env[@]}" taskset -c "$SERVER_CPU" "${cmd[@]}" >"$dir/server.log" 2>&1 &
	pid=$!
	wait_port "$pid" "$p1" || { tail -n 20 "$dir/server.log" >&2; die "$sys did not start (log above)"; }
	if [[ $sys == jaeger-badger || $sys == otlpd-* || $sys == sink ]]; then
		wait_port "$pid" "$p0" || die "$sys: no gRPC listener"
	fi
}

# endpoint SYSTEM SIGNAL: protocol and endpoint of the loadgen for that row.
endpoint() {
	local h="http://127.0.0.1:$((PORT_BASE + 1))"
	case $2 in
	traces) echo "grpc 127.0.0.1:$((PORT_BASE + 0))" ;;
	logs) [[ $1 == victorialogs ]] && echo "http $h/insert/opentelemetry/v1/logs" || echo "http $h/v1/logs" ;;
	metrics) [[ $1 == victoriametrics ]] && echo "http $h/opentelemetry/v1/metrics" || echo "http $h/v1/metrics" ;;
	esac
}

# has_disk SYSTEM: whether the data directory holds what the row stores.
has_disk() { [[ $1 == otlpd-engine || $1 == jaeger-badger || $1 == victorialogs || $1 == victoriametrics ]]; }

# empty_footprint SYSTEM: bytes in the data directory of the server started and stopped with no data.
declare -A empty
empty_footprint() {
	local sys=$1 d
	[[ -n ${empty[$sys]:-} ]] && return
	d=$(mktemp -d "$tmp/empty-$sys.XXXX")
	start "$sys" "$d"
	sleep 1
	stop "$pid" "$stopsig"
	pid=""
	empty[$sys]=$(du -sB1 "$d/data" | cut -f1)
	rm -rf "$d"
}

# measure RUN SIGNAL SYSTEM: one row; appends a line to $OUT/results.tsv.
measure() {
	local run=$1 sig=$2 sys=$3 d proto ep hwm disk=""
	has_disk "$sys" && empty_footprint "$sys"
	d=$(mktemp -d "$tmp/$sys.XXXX")
	start "$sys" "$d"
	read -r proto ep < <(endpoint "$sys" "$sig")
	log "run $run $sig $sys: $proto $ep"
	local res="$OUT/run$run-$sig-$sys.json"
	if ! taskset -c "$LOADGEN_CPU" "$bin/otlpd" loadgen --signal "$sig" --protocol "$proto" --endpoint "$ep" \
		--workers "$WORKERS" --timeout "$TIMEOUT" --warmup "$WARMUP" --duration "$DURATION" --seed 1 --json >"$res" 2>"$d/loadgen.err"; then
		cat "$d/loadgen.err" >&2
		log "run $run $sig $sys: loadgen failed; row skipped"
		stop "$pid" "$stopsig"
		pid=""
		cp "$d/server.log" "$OUT/run$run-$sig-$sys.server.log"
		rm -rf "$d"
		return
	fi
	hwm=$(($(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status") * 1024))
	stop "$pid" "$stopsig"
	pid=""
	if has_disk "$sys"; then
		disk=$(($(du -sB1 "$d/data" | cut -f1) - empty[$sys]))
	fi
	cp "$d/server.log" "$OUT/run$run-$sig-$sys.server.log"
	rm -rf "$d"
	jq -r --arg run "$run" --arg sys "$sys" --arg hwm "$hwm" --arg disk "$disk" \
		'[$run, .signal, $sys, .items_per_s, .p50_ms, .p99_ms, $hwm, $disk, .accepted + (.warmup_accepted // 0),
		  .failed, .rejected, .bytes_per_item] | @tsv' "$res" >>"$OUT/results.tsv"
	log "run $run $sig $sys: $(jq -r '"\(.items_per_s | floor) items/s, p99 \(.p99_ms) ms, failed \(.failed)"' "$res"), peak RSS $((hwm >> 20)) MiB${disk:+, disk $disk B}"
}

# disk_measure SIGNAL SYSTEM: one row of `disk`; appends a line to $OUT/disk.tsv.
disk_measure() {
	local sig=$1 sys=$2 d proto ep bytes
	empty_footprint "$sys"
	d=$(mktemp -d "$tmp/$sys.XXXX")
	start "$sys" "$d"
	read -r proto ep < <(endpoint "$sys" "$sig")
	local res="$OUT/disk-$sig-$sys.json"
	log "disk $sig $sys: $DISK_REQUESTS unique requests to $ep"
	taskset -c "$LOADGEN_CPU" "$bin/otlpd" loadgen --signal "$sig" --protocol "$proto" --endpoint "$ep" --unique \
		--requests "$DISK_REQUESTS" --workers 4 --timeout "$TIMEOUT" --duration 1h --seed 1 --json >"$res" 2>"$d/loadgen.err" ||
		{ cat "$d/loadgen.err" >&2; stop "$pid" "$stopsig"; pid=""; die "disk $sig $sys: loadgen failed"; }
	[[ $sys == victorialogs ]] && curl -fsS "http://127.0.0.1:$((PORT_BASE + 1))/internal/force_merge" >/dev/null
	sleep "$SETTLE"
	stop "$pid" "$stopsig"
	pid=""
	bytes=$(($(du -sB1 "$d/data" | cut -f1) - empty[$sys]))
	cp "$d/server.log" "$OUT/disk-$sig-$sys.server.log"
	rm -rf "$d"
	jq -r --arg sys "$sys" --arg bytes "$bytes" '[.signal, $sys, .accepted, .failed, $bytes] | @tsv' "$res" >>"$OUT/disk.tsv"
	log "disk $sig $sys: $(jq -r '"\(.accepted) accepted, \(.failed) failed"' "$res"), $bytes B"
}

disk_summary() {
	awk -F'\t' '
		{ bpi[$1, $2] = $5 / $3; items[$1, $2] = $3; sigs[$1] = 1 }
		END {
			peer["traces"] = "jaeger-badger"; peer["logs"] = "victorialogs"
			print "| signal | system | items | disk B/item | vs " "peer |"
			print "|---|---|---|---|---|"
			for (s in sigs) for (sys in bpi) {
				split(sys, k, SUBSEP); if (k[1] != s) continue
				r = ((s, peer[s]) in bpi) ? sprintf("%.2fx", bpi[sys] / bpi[s, peer[s]]) : "-"
				printf "| %s | %s | %d | %.1f | %s |\n", s, k[2], items[sys], bpi[sys], r
			}
		}' "$OUT/disk.tsv"
}

summary() {
	python3 - "$OUT/results.tsv" <<'EOF'
import sys, statistics as st
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
peer = {"traces": "jaeger-badger", "logs": "victorialogs", "metrics": "victoriametrics"}
order = ["sink", "otlpd-memory", "otlpd-engine", "jaeger-badger", "victorialogs", "victoriametrics"]
by = defaultdict(list)   # (signal, system) -> rows
rate = {}                # (run, signal, system) -> items/s
for r in rows:
    run, sig, sys_ = r[0], r[1], r[2]
    by[(sig, sys_)].append(r)
    rate[(run, sig, sys_)] = float(r[3])
med = lambda xs: st.median(xs) if xs else None
for sig in ["traces", "logs", "metrics"]:
    systems = [s for s in order if (sig, s) in by]
    if not systems:
        continue
    print(f"\n{sig} (medians of {max(len(by[(sig, s)]) for s in systems)} runs; ratio = items/s over {peer[sig]}'s in the same run, median)")
    print("| system | items/s | p50 ms | p99 ms | disk B/item | peak RSS MiB | vs %s |" % peer[sig])
    print("|---|---|---|---|---|---|---|")
    for s in systems:
        rs = by[(sig, s)]
        ips = med([float(r[3]) for r in rs])
        p50 = med([float(r[4]) for r in rs])
        p99 = med([float(r[5]) for r in rs])
        rss = med([float(r[6]) / 2**20 for r in rs])
        disks = [float(r[7]) / float(r[8]) for r in rs if r[7] and float(r[8]) > 0]
        disk = f"{med(disks):.1f}" if disks else "-"
        ratios = [rate[(r[0], sig, s)] / rate[(r[0], sig, peer[sig])] for r in rs
                  if (r[0], sig, peer[sig]) in rate and rate[(r[0], sig, peer[sig])] > 0]
        ratio = f"{med(ratios):.2f}x" if ratios else "-"
        failed = sum(int(r[9]) for r in rs)
        note = f" ({failed} items failed)" if failed else ""
        print(f"| {s} | {ips:,.0f}{note} | {p50:.1f} | {p99:.1f} | {disk} | {rss:.0f} | {ratio} |")
    print("per run items/s: " + "; ".join(
        s + " " + ", ".join(f"{float(r[3]):,.0f}" for r in by[(sig, s)]) for s in systems))
EOF
}

main() {
	local mode=${1:-run}
	case $mode in
	install) install_peers; return ;;
	run | disk) ;;
	summary) OUT=$2 summary; return ;;
	*) die "usage: peers.sh [install|run|disk|summary DIR]" ;;
	esac
	command -v jq >/dev/null || die "needs jq"
	command -v taskset >/dev/null || die "needs taskset (util-linux)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/otlpd-peers.XXXX")
	OUT=${OUT:-$tmp/out}
	mkdir -p "$OUT"
	bin=$tmp/bin
	mkdir -p "$bin"
	pid=""
	# On any exit: the server of the current row (if any) goes too, then the temporary data.
	trap '[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp/bin"
		find "$tmp" -mindepth 1 -maxdepth 1 ! -name out -exec rm -rf {} +; rmdir "$tmp" 2>/dev/null || true' EXIT
	log "building otlpd and the sink into $bin"
	(cd "$repo" && go build -o "$bin/otlpd" ./cmd/otlpd && go build -o "$bin/sink" ./scripts/bench/sink)
	otlpd=${OTLPD:-$bin/otlpd}
	local all=(sink otlpd-memory otlpd-engine jaeger-badger victorialogs victoriametrics) systems=() s why
	for s in "${all[@]}"; do
		[[ -z $SYSTEMS || " $SYSTEMS " == *" $s "* ]] || continue
		if why=$(available "$s"); then systems+=("$s"); else log "skipping $s: $why"; fi
	done
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "otlpd: $("$otlpd" version 2>/dev/null | head -n1)"
		echo "settings: RUNS=$RUNS DURATION=$DURATION WARMUP=$WARMUP WORKERS=$WORKERS SYNC=$SYNC server cpu $SERVER_CPU, loadgen cpu $LOADGEN_CPU"
		echo "systems: ${systems[*]}"
	} | tee "$OUT/info.txt" >&2
	if [[ $mode == disk ]]; then
		: >"$OUT/disk.tsv"
		DISK_REQUESTS=${DISK_REQUESTS:-2000} SETTLE=${SETTLE:-60s}
		for sig in ${SIGNALS_DISK:-logs}; do
			for s in "${systems[@]}"; do
				case $sig:$s in
				traces:otlpd-engine | traces:jaeger-badger | logs:otlpd-engine | logs:victorialogs) disk_measure "$sig" "$s" ;;
				esac
			done
		done
		disk_summary | tee "$OUT/disk.md"
		log "raw results in $OUT"
		return
	fi
	: >"$OUT/results.tsv"
	local run sig i n=${#systems[@]}
	for ((run = 1; run <= RUNS; run++)); do
		for sig in $SIGNALS; do
			for ((i = 0; i < n; i++)); do
				s=${systems[$(((i + run - 1) % n))]}
				case $sig:$s in
				traces:victoria* | logs:jaeger-badger | logs:victoriametrics | metrics:jaeger-badger | metrics:victorialogs) continue ;;
				esac
				measure "$run" "$sig" "$s"
			done
		done
	done
	echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/info.txt" >&2
	summary | tee "$OUT/summary.md"
	log "raw results in $OUT"
}

main "$@"
